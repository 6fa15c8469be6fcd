/**
 * The default boot image source: the OCK image named by `bootVolumeContainerImage` (tagged with
 * the Kubernetes version) is pulled for the libvirt host's architecture through `@ocne/image`
 * into upstream's cache (`~/.ocne/images/…`, reused when complete), and layer 0's
 * `disk/boot.qcow2` is written to a temporary file for the upload into the pool. Upstream streams
 * the layer straight into the volume; a file lets `virsh vol-upload` read it with a known length.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '@ocne/core';
import { extractBootQcow2, pullImage, type RegistryCredentials, type RegistryTlsOptions } from '@ocne/image';

/** How the OCK image's registry is reached (defaults: the system's CAs and the containers auth files). */
export interface BootImageRegistryOptions {
  /** Extra CAs to trust, or `insecure`. */
  tls?: RegistryTlsOptions;
  /** Credentials instead of the auth files' (`REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`, …). */
  auth?: RegistryCredentials;
}

/** A boot disk on the local file system, and how to get rid of it once it is in the pool. */
export interface LocalBootDisk {
  path: string;
  release(): Promise<void>;
}

/** Pulls (or reuses) the OCK image and extracts its boot disk into `~/.ocne/tmp`. */
export async function pullBootDisk(options: {
  reference: string;
  arch: 'amd64' | 'arm64';
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  registry?: BootImageRegistryOptions | undefined;
  emit: EventSink;
  signal: AbortSignal;
}): Promise<LocalBootDisk> {
  const { home, signal, emit } = options;
  const pulled = await pullImage({
    reference: options.reference,
    arch: options.arch,
    home,
    env: options.env,
    ...(options.registry?.tls ? { tls: options.registry.tls } : {}),
    ...(options.registry?.auth ? { auth: options.registry.auth } : {}),
    signal,
    emit,
  });
  const tmp = join(home, '.ocne', 'tmp');
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(tmp, 'boot-qcow2-'));
  const release = () => rm(work, { recursive: true, force: true });
  try {
    const path = join(work, 'boot.qcow2');
    await extractBootQcow2({ directory: pulled.directory, destination: path, signal });
    return { path, release };
  } catch (error) {
    await release();
    throw error;
  }
}
