// The default boot image source on a real libvirtd: no `bootImage` option, so the provider pulls
// `bootVolumeContainerImage` (the tiny test image, pushed to the real test registry on 127.0.0.1
// with TLS and Basic auth) through @ocne/image into upstream's cache, takes layer 0's
// disk/boot.qcow2 into the base volume, and the guest boots from it and reads its Ignition.
// Nothing here reaches container-registry.oracle.com: the image names the loopback registry.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventInput, OcneError } from '@ocne/core';
import { imageCacheDirectory } from '@ocne/image';
import { pushTinyOciImage, waitForGuest } from '@ocne/test-libvirt';
import { startTestRegistry, type TestRegistry } from '@ocne/test-registry';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibvirtProvider } from '../../src/index.ts';
import { contextFor, libvirt, libvirtConfig, serialLog } from './helpers.ts';

const NAME = 'lvpull';
const DOMAIN = `${NAME}-control-plane-1`;
// A base volume of its own: the other tests' `boot.qcow2-<version>` must not satisfy this start.
const BASE = 'boot-pulled.qcow2';
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const virsh = async (...args: string[]) => (await execa('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout;

let registry: TestRegistry;
let setup: Awaited<ReturnType<typeof libvirtConfig>>;
let reference: string;
// No bootImage: the default source pulls; the registry's CA is the only thing the test adds.
let provider: ReturnType<typeof createLibvirtProvider>;

beforeAll(async () => {
  registry = await startTestRegistry({ auth: 'basic' });
  const probe = await libvirtConfig(`${NAME}-probe`);
  const version = probe.config.cluster.kubernetesVersion;
  const image = await pushTinyOciImage(registry, version);
  setup = await libvirtConfig(NAME, `    bootVolumeName: ${BASE}\nbootVolumeContainerImage: ${image}\n`);
  reference = `docker://${registry.host}/olcne/ock:${version}`;
  provider = createLibvirtProvider({
    registry: { tls: { caFile: registry.pki.caPath } },
    serialLogDir: libvirt.logDir,
    kubernetes: false,
  });
}, 120_000);

afterAll(async () => {
  if (setup) await provider.delete?.(contextFor(setup.config, setup.home)).catch(() => {});
  await virsh('vol-delete', '--pool', 'images', BASE).catch(() => {});
  await registry?.stop();
});

describe('the default boot image: pulled from the registry through @ocne/image', () => {
  it('starts a node from the pulled image, cached as upstream caches it', async () => {
    const events: EventInput[] = [];
    const context = {
      ...contextFor(setup.config, setup.home, events),
      env: { REGISTRY_AUTH_FILE: registry.authFile },
    };
    await provider.start!(context);
    const report = await waitForGuest(serialLog(DOMAIN), (r) => r.ignition !== undefined, {
      timeoutMs: 180_000,
    });
    // The image is in upstream's cache folder, in the dir: layout…
    const cache = imageCacheDirectory(setup.home, reference);
    expect(cache).toBe(join(setup.home, '.ocne', 'images', reference.replaceAll('/', '_')));
    const manifest = JSON.parse(await readFile(join(cache, 'manifest.json'), 'utf8'));
    const layer = await readFile(join(cache, manifest.layers[0].digest.slice('sha256:'.length)));
    expect(sha256(layer)).toBe(manifest.layers[0].digest.slice('sha256:'.length));
    // …the base volume holds exactly the image's disk/boot.qcow2, and no extracted copy is left over.
    const base = await readFile(join(libvirt.pool.path, BASE));
    expect(sha256(base)).toBe(sha256(await readFile(libvirt.bootImage)));
    expect(await readdir(join(setup.home, '.ocne', 'tmp'))).toEqual([]);
    expect(events.some((e) => e.type === 'log' && e.message.startsWith('Downloading image'))).toBe(true);
    // The guest booted from that disk and read the SDK's Ignition.
    const ignition = await readFile(join(libvirt.pool.path, `${DOMAIN}-init.ign`));
    expect(report.ignition).toEqual({ size: ignition.length, sha256: sha256(ignition) });
    expect((await stat(join(cache, 'version'))).isFile()).toBe(true);
  });

  it('a registry that cannot be reached is a typed error and leaves nothing behind', async () => {
    const other = await libvirtConfig(
      `${NAME}-down`,
      `    bootVolumeName: boot-unreachable.qcow2\nbootVolumeContainerImage: 127.0.0.1:9/olcne/ock\n`,
    );
    const error = await provider.start!(contextFor(other.config, other.home)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OcneError);
    expect((error as OcneError).code).toBe('OCNE_REGISTRY_UNREACHABLE');
    const domains = (await virsh('list', '--all', '--name')).split('\n');
    expect(domains.filter((d) => d.startsWith(`${NAME}-down`))).toEqual([]);
    expect((await readdir(libvirt.pool.path)).filter((f) => f.includes('unreachable'))).toEqual([]);
  });
});
