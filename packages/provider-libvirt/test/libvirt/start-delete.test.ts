// A one-node cluster on a real libvirtd with QEMU software emulation and the tiny boot image:
// the guest reads exactly the Ignition the SDK put in the pool (sha256 from its serial console),
// the API tunnel forwards 127.0.0.1:<port> to the guest's 6443, a second start reuses the domain,
// `show` reports it, and `delete` leaves no domain, NVRAM, volume or record behind (the base stays).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventInput } from '@ocne/core';
import { decodeDataUrlText, parseIgnition } from '@ocne/ignition';
import { waitForGuest } from '@ocne/test-libvirt';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeconfigPaths, showLibvirtCluster, startLibvirtCluster } from '../../src/index.ts';
import { contextFor, libvirt, libvirtConfig, readTunnel, serialLog, testProvider } from './helpers.ts';

const virsh = async (...args: string[]) => (await execa('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout;
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const NAME = 'lvone';
const DOMAIN = `${NAME}-control-plane-1`;
const setup = await libvirtConfig(NAME);
const provider = testProvider();

afterAll(async () => {
  await provider.delete?.(contextFor(setup.config, setup.home)).catch(() => {});
});

describe('libvirt provider on a real libvirtd (TCG)', () => {
  it('starts a node that reads exactly the SDK Ignition and answers through the tunnel', async () => {
    const events: EventInput[] = [];
    const started = Date.now();
    const result = await provider.start!(contextFor(setup.config, setup.home, events));
    const report = await waitForGuest(serialLog(DOMAIN), (r) => r.listening, { timeoutMs: 180_000 });
    const bootMs = Date.now() - started;

    // The Ignition volume is the SDK's node Ignition for this domain…
    const volume = await readFile(join(libvirt.pool.path, `${DOMAIN}-init.ign`));
    const ignition = parseIgnition(volume.toString('utf8'), { source: 'pool volume' });
    const files = new Map((ignition.storage?.files ?? []).map((f) => [f.path, f]));
    const text = (path: string) => {
      const contents = files.get(path)?.contents;
      return decodeDataUrlText(contents?.source ?? '', contents?.compression);
    };
    expect(text('/etc/hostname')).toBe(DOMAIN);
    expect(files.has('/etc/sysconfig/network-scripts/ifcfg-enp0s2')).toBe(true);
    expect(files.has('/etc/kubernetes/pki/ca.key')).toBe(true);
    const kubeconfig = parse(result.kubeconfig!) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    };
    const ca = Buffer.from(
      kubeconfig.clusters[0]!.cluster['certificate-authority-data'],
      'base64',
    ).toString();
    expect(text('/etc/kubernetes/pki/ca.crt')).toBe(ca);
    // …and the guest read exactly those bytes through fw_cfg.
    expect(report.ignition).toEqual({ size: volume.length, sha256: sha256(volume) });
    // The user NIC is at PCI 00:02.0 (enp0s2 on OCK), the address slirp hands out.
    expect(report.nics.eth0).toContain('0000:00:02.0');
    expect(report.address).toBe('192.18.255.15');

    // The tunnel: the .local kubeconfig's port reaches the guest's 6443.
    const server = new URL(kubeconfig.clusters[0]!.cluster.server);
    expect(server.hostname).toBe('127.0.0.1');
    expect(await readTunnel(Number(server.port))).toBe('hello-from-guest\n');

    // Upstream's layout: domain XML, overlay on the base, kubeconfigs (0600 here), ips.yaml.
    const xml = await virsh('dumpxml', DOMAIN);
    expect(xml).toContain("<domain type='qemu'");
    expect(xml).toContain(`name=opt/com.coreos/config,file=${join(libvirt.pool.path, `${DOMAIN}-init.ign`)}`);
    expect(xml).toContain(`hostfwd=tcp:127.0.0.1:${server.port}-:6443`);
    const vol = await virsh('vol-dumpxml', '--pool', 'images', `${DOMAIN}.qcow2`);
    expect(vol).toContain(
      `<path>${join(libvirt.pool.path, `boot.qcow2-${setup.config.cluster.kubernetesVersion}`)}</path>`,
    );
    const paths = kubeconfigPaths(setup.home, NAME);
    expect((await stat(paths.local)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.vm)).mode & 0o777).toBe(0o600);
    expect(await readFile(paths.local, 'utf8')).toBe(result.kubeconfig);
    const ips = parse(await readFile(join(setup.home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(ips.clusters[NAME]).toEqual({ host: '', ip: '127.0.0.1', port: Number(server.port) });
    expect(events.some((e) => e.type === 'log' && /Creating new Kubernetes cluster/.test(e.message))).toBe(
      true,
    );
    console.info(`start → guest read its Ignition and listens: ${bootMs} ms`);
  });

  it('reuses the existing domain on a second start, and show reports it', async () => {
    await waitForGuest(serialLog(DOMAIN), (r) => r.poweroff, { timeoutMs: 120_000 });
    // The guest has said so; QEMU exits a moment later.
    for (let i = 0; i < 100 && (await virsh('domstate', DOMAIN)).trim() !== 'shut off'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await virsh('domstate', DOMAIN)).trim()).toBe('shut off');
    // The guest powered itself off; the second start starts the same domain again.
    const context = contextFor(setup.config, setup.home);
    const again = await startLibvirtCluster(context, { bootImage: async () => libvirt.bootImage });
    expect(again.created).toBe(false);
    expect(again.kubeconfig).toBe(await readFile(kubeconfigPaths(setup.home, NAME).local, 'utf8'));
    expect((await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(NAME))).toEqual([
      DOMAIN,
    ]);
    const shown = await showLibvirtCluster({ ...context, config: setup.config.cluster });
    expect(shown.nodes).toEqual([
      {
        domain: DOMAIN,
        state: 'running',
        volumes: { disk: `${DOMAIN}.qcow2`, ignition: `${DOMAIN}-init.ign` },
      },
    ]);
    expect(shown.tunnel?.address).toBe('127.0.0.1');
  });

  it('delete leaves no domain, NVRAM, node volume, kubeconfig or record', async () => {
    const nvramDir = join(libvirt.dir, 'config', 'libvirt', 'qemu', 'nvram');
    expect((await readdir(nvramDir)).some((f) => f.startsWith(DOMAIN))).toBe(true);
    await provider.delete!(contextFor(setup.config, setup.home));
    expect((await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(NAME))).toEqual(
      [],
    );
    expect((await readdir(nvramDir)).filter((f) => f.startsWith(NAME))).toEqual([]);
    const poolFiles = await readdir(libvirt.pool.path);
    expect(poolFiles.filter((f) => f.startsWith(NAME))).toEqual([]);
    expect(poolFiles).toContain(`boot.qcow2-${setup.config.cluster.kubernetesVersion}`);
    const vols = await virsh('vol-list', 'images');
    expect(vols).not.toContain(NAME);
    const paths = kubeconfigPaths(setup.home, NAME);
    await expect(stat(paths.local)).rejects.toThrow();
    await expect(stat(paths.vm)).rejects.toThrow();
    const ips = parse(await readFile(join(setup.home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(ips.clusters[NAME]).toBeUndefined();
  });
});
