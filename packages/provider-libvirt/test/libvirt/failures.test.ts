// What upstream swallows or refuses, as typed errors on the real daemon, each leaving nothing
// behind; a taken tunnel port is skipped; and the ephemeral cluster is made once, reused, deleted.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type EventInput, OcneError } from '@ocne/core';
import { tinyOciLayout } from '@ocne/test-libvirt';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deleteEphemeralCluster, ensureEphemeralCluster } from '../../src/index.ts';
import { contextFor, libvirt, libvirtConfig, testProvider } from './helpers.ts';

const virsh = async (...args: string[]) => (await execa('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout;

/** The domains and pool files whose names start with `prefix`. */
async function leftovers(prefix: string): Promise<string[]> {
  const domains = (await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(prefix));
  const files = (await readdir(libvirt.pool.path)).filter((f) => f.startsWith(prefix));
  return [...domains, ...files];
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OcneError);
    return `${(error as OcneError).code}: ${(error as Error).message}`;
  }
  throw new Error('expected a failure');
}

describe('libvirt failures are typed errors', () => {
  it("a domain type the host cannot run is refused with libvirt's reason and leaves nothing", async () => {
    const { config, home } = await libvirtConfig('lvkvm');
    // The private daemon runs without /dev/kvm: a kvm domain cannot start.
    const failure = await codeOf(testProvider({ hypervisor: 'kvm' }).start!(contextFor(config, home)));
    expect(failure).toMatch(/^OCNE_LIBVIRT_FAILED: defining a domain failed: .*virt type 'kvm'/);
    expect(await leftovers('lvkvm')).toEqual([]);
    const ips = parse(await readFile(join(home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(ips.clusters.lvkvm).toBeUndefined();
    await expect(readdir(join(home, '.kube'))).resolves.toEqual([]);
  });

  it('a domain QEMU cannot start fails at once with its reason (upstream waits 15 minutes)', async () => {
    const { config, home } = await libvirtConfig('lvnet', '    slirpSubnet: not-a-subnet\n');
    const failure = await codeOf(testProvider().start!(contextFor(config, home)));
    expect(failure).toMatch(
      /^OCNE_LIBVIRT_DOMAIN_START_FAILED: domain lvnet-control-plane-1 did not start: .*netmask/i,
    );
    expect(await leftovers('lvnet')).toEqual([]);
  });

  it('workers or a second control-plane node on user networking are refused before anything is made', async () => {
    const workers = await libvirtConfig('lvwork', 'workerNodes: 1\n');
    expect(await codeOf(testProvider().start!(contextFor(workers.config, workers.home)))).toBe(
      'OCNE_LIBVIRT_USER_NETWORK_LIMIT: Adding worker nodes to user-networking clusters is not supported',
    );
    const cps = await libvirtConfig('lvcps', 'controlPlaneNodes: 3\n');
    expect(await codeOf(testProvider().start!(contextFor(cps.config, cps.home)))).toMatch(
      /^OCNE_LIBVIRT_USER_NETWORK_LIMIT: Adding more than one control plane/,
    );
    expect(await leftovers('lvwork')).toEqual([]);
  });

  it('a daemon that is not there', async () => {
    // (A boot image that cannot be pulled: boot-image.test.ts, against a loopback registry.)
    const gone = await libvirtConfig('lvgone');
    gone.config.cluster.providers.libvirt.uri = `qemu+unix:///session?socket=${join(libvirt.dir, 'no-such-sock')}`;
    expect(await codeOf(testProvider().start!(contextFor(gone.config, gone.home)))).toMatch(
      /^OCNE_LIBVIRT_CONNECT_FAILED: cannot connect to libvirt at/,
    );
  });

  it('skips a tunnel port something on this host listens on', async () => {
    const { config, home } = await libvirtConfig('lvport');
    const holder: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen({ host: '127.0.0.1', port: 6443, exclusive: true }, resolve);
    }).catch(() => undefined); // taken already by someone else: skipped all the same
    try {
      const provider = testProvider();
      await provider.start!(contextFor(config, home));
      const xml = await virsh('dumpxml', 'lvport-control-plane-1');
      expect(xml).not.toContain('hostfwd=tcp:127.0.0.1:6443-');
      expect(xml).toMatch(/hostfwd=tcp:127\.0\.0\.1:(\d+)-:6443/);
      await provider.delete!(contextFor(config, home));
      expect(await leftovers('lvport')).toEqual([]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe("the boot image from upstream's image cache", () => {
  it('takes disk/boot.qcow2 from layer 0 of a complete cached copy when the registry is down', async () => {
    // A loopback port nothing listens on: the registry cannot be reached, and no test may reach
    // container-registry.oracle.com.
    const image = '127.0.0.1:9/olcne/ock';
    const { config, home } = await libvirtConfig(
      'lvcache',
      `kubernetesVersion: 1.31\nbootVolumeContainerImage: ${image}\n`,
    );
    const layout = await tinyOciLayout('1.33');
    const cache = join(home, '.ocne', 'images', `docker:__${image.replaceAll('/', '_')}:1.31`);
    await mkdir(join(home, '.ocne', 'images'), { recursive: true });
    await execa('skopeo', ['copy', '--quiet', `oci:${layout.dir}:${layout.tag}`, `dir:${cache}`]);
    const provider = testProvider({ bootImage: undefined as never });
    const events: EventInput[] = [];
    await provider.start!(contextFor(config, home, events));
    expect(events.some((e) => e.type === 'warning' && e.code === 'OCNE_REGISTRY_UNREACHABLE')).toBe(true);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const base = await readFile(join(libvirt.pool.path, 'boot.qcow2-1.31'));
    expect(sha(base)).toBe(sha(await readFile(libvirt.bootImage)));
    await provider.delete!(contextFor(config, home));
    expect(await leftovers('lvcache')).toEqual([]);
    await execa('virsh', ['-q', '-c', libvirt.uri, 'vol-delete', '--pool', 'images', 'boot.qcow2-1.31']);
  });
});

describe('the ephemeral cluster', () => {
  it('is made on demand, reused while it exists, and deleted when asked', async () => {
    const { config, home } = await libvirtConfig('target', 'kubernetesVersion: 1.33\n');
    config.defaults.ephemeralCluster.name = 'lveph';
    config.defaults.ephemeralCluster.node = { memory: '524288Ki', cpu: 1, storage: '2Gi' };
    const options = {
      config,
      home,
      env: {},
      provider: { bootImage: async () => libvirt.bootImage, kubernetes: false as const },
    };
    const first = await ensureEphemeralCluster(options);
    expect(first).toEqual({
      created: true,
      name: 'lveph',
      kubeconfigPath: join(home, '.kube', 'kubeconfig.lveph.local'),
    });
    expect(await virsh('domstate', 'lveph-control-plane-1')).toBe('running');
    const xml = await virsh('dumpxml', 'lveph-control-plane-1');
    expect(xml).toContain("<memory unit='KiB'>524288</memory>");
    const second = await ensureEphemeralCluster(options);
    expect(second.created).toBe(false);
    expect((await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith('lveph'))).toEqual(
      ['lveph-control-plane-1'],
    );
    // A given kubeconfig wins, as upstream's KUBECONFIG does: nothing is made.
    expect(await ensureEphemeralCluster({ ...options, env: { KUBECONFIG: '/k' } })).toEqual({
      created: false,
      name: '',
      kubeconfigPath: '/k',
    });
    expect(await deleteEphemeralCluster(options)).toEqual(['lveph-control-plane-1']);
    expect(await leftovers('lveph')).toEqual([]);
  });
});
