/**
 * Storage pools and volumes as upstream uses them (`pools.go`, `addNode`): find or make the pool,
 * upload the base image once per Kubernetes version, make each node's qcow2 overlay and Ignition
 * volume, and delete a node's volumes. The Ignition must stay a pool volume: it is the file QEMU
 * reads through fw_cfg, and only the pool folder carries the labels SELinux and AppArmor hosts let
 * QEMU read.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OcneError } from '@ocne/core';
import { type CallOptions, isNotFound, type LibvirtClient } from './client.js';
import { overlayVolumeXml, plainVolumeXml, poolXml } from './templates.js';

/** The folder upstream gives a pool it defines. */
export function defaultPoolPath(options: {
  local: boolean;
  session: boolean;
  platform?: NodeJS.Platform;
}): string {
  // Only a local session daemon on macOS keeps its images in the user's home.
  if (options.local && options.session && (options.platform ?? process.platform) === 'darwin') {
    return join(homedir(), '.local', 'share', 'libvirt', 'images');
  }
  return '/var/lib/libvirt/images';
}

/** The `<target><path>` of a pool or volume XML. */
function targetPath(xml: string): string | undefined {
  return /<target>[\s\S]*?<path>([^<]*)<\/path>/.exec(xml)?.[1];
}

/** A started pool. */
export interface Pool {
  name: string;
  path: string;
}

/** Starts a pool that is defined but inactive, marks it autostart, refreshes it. */
async function ensureActive(client: LibvirtClient, name: string, options: CallOptions): Promise<void> {
  const info = await client.virsh(['pool-info', name], options);
  if (!/^State:\s+running/m.test(info)) {
    await client.virsh(['pool-start', name], options);
    await client.virsh(['pool-autostart', name], options);
  }
  await client.virsh(['pool-refresh', name], options);
}

/**
 * The pool named `name`, started; else the first active pool whose folder is `defaultPath`; else a
 * new `dir` pool `name` there (upstream's order).
 */
export async function findOrCreatePool(
  client: LibvirtClient,
  name: string,
  defaultPath: string,
  options: CallOptions & { local: boolean },
): Promise<Pool> {
  try {
    await ensureActive(client, name, options);
    const xml = await client.virsh(['pool-dumpxml', name], options);
    return { name, path: targetPath(xml) ?? defaultPath };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const active = (await client.virsh(['pool-list', '--name'], options)).split('\n').map((s) => s.trim());
  for (const other of active.filter((s) => s !== '')) {
    const xml = await client.virsh(['pool-dumpxml', other], options);
    if (targetPath(xml) === defaultPath) return { name: other, path: defaultPath };
  }
  if (options.local) await mkdir(defaultPath, { recursive: true, mode: 0o750 });
  await client.virshWithXml(['pool-define'], poolXml(name, defaultPath), options);
  await ensureActive(client, name, options);
  return { name, path: defaultPath };
}

/** True when the pool has a volume of that name. */
export async function volumeExists(
  client: LibvirtClient,
  pool: string,
  volume: string,
  options: CallOptions,
): Promise<boolean> {
  try {
    await client.virsh(['vol-info', '--pool', pool, volume], options);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The path of a volume on the daemon's host. */
export async function volumePath(
  client: LibvirtClient,
  pool: string,
  volume: string,
  options: CallOptions,
): Promise<string> {
  return (await client.virsh(['vol-path', '--pool', pool, volume], options)).trim();
}

/** Deletes a volume; a missing one is fine. */
export async function deleteVolume(
  client: LibvirtClient,
  pool: string,
  volume: string,
  options: CallOptions,
): Promise<void> {
  try {
    await client.virsh(['vol-delete', '--pool', pool, volume], options);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Makes the base volume from a local qcow2 file (sparse upload). A failed upload leaves no
 * half-written base behind: the next start would take it as the image.
 */
export async function uploadBaseVolume(
  client: LibvirtClient,
  pool: string,
  volume: string,
  file: string,
  options: CallOptions,
): Promise<void> {
  await client.virshWithXml(['vol-create', pool], plainVolumeXml(volume, 'qcow2', 0), options);
  try {
    await client.virsh(['vol-upload', '--pool', pool, '--sparse', volume, file], options);
  } catch (error) {
    await deleteVolume(client, pool, volume, {}).catch(() => {});
    throw error;
  }
}

/** Makes a node's overlay on the base, unless it exists (upstream reuses it as it is). */
export async function ensureOverlayVolume(
  client: LibvirtClient,
  pool: Pool,
  volume: string,
  size: string,
  baseVolume: string,
  options: CallOptions,
): Promise<void> {
  if (await volumeExists(client, pool.name, volume, options)) return;
  const basePath = await volumePath(client, pool.name, baseVolume, options);
  await client.virshWithXml(['vol-create', pool.name], overlayVolumeXml(volume, size, basePath), options);
}

/** Replaces a node's Ignition volume with `ignition` and returns its path (the fw_cfg file). */
export async function writeIgnitionVolume(
  client: LibvirtClient,
  pool: string,
  volume: string,
  ignition: string,
  options: CallOptions,
): Promise<string> {
  const bytes = Buffer.from(ignition, 'utf8');
  if (bytes.length === 0) throw new OcneError('OCNE_USAGE', 'an empty Ignition cannot be passed to a node');
  await deleteVolume(client, pool, volume, options);
  await client.virshWithXml(['vol-create', pool], plainVolumeXml(volume, 'raw', bytes.length), options);
  await client.withTempFile(bytes, (file) =>
    client.virsh(['vol-upload', '--pool', pool, volume, file, '--length', String(bytes.length)], options),
  );
  return volumePath(client, pool, volume, options);
}
