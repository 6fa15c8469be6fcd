// Clusters of several nodes without any bridge: the node segment (an SDK extension), a virtual
// layer-2 network of the cluster's own QEMU processes meeting on a multicast group of the loopback.
// On the real private libvirtd (QEMU TCG) with the tiny boot image: a start of one control-plane
// node and two workers, each guest reading exactly its own Ignition; the guests configure their
// segment NIC from the ifcfg-enp1s0 the SDK wrote, control plane 1 takes the virtual IP and answers
// on 6443, and every worker reaches the API endpoint its kubeadm JoinConfiguration names over the
// segment (the guests have no default route, so nothing else could carry it). The tunnel still
// forwards to control plane 1, the group is joined on `lo` only, a join adds a worker, a second
// start reuses the cluster, and delete leaves nothing. The join tokens are made in a real
// kube-apiserver (the guests run no Kubernetes).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventInput, OcneError } from '@ocne/core';
import { decodeDataUrlText, parseIgnition } from '@ocne/ignition';
import { type ControlPlane, startControlPlane } from '@ocne/test-control-plane';
import { type GuestReport, waitForGuest } from '@ocne/test-libvirt';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { joinLibvirtNodes, startLibvirtCluster } from '../../src/index.ts';
import { contextFor, libvirt, libvirtConfig, readTunnel, serialLog, testProvider } from './helpers.ts';

const virsh = async (...args: string[]) => (await execa('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout;
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const NAME = 'lvseg';
const CP1 = `${NAME}-control-plane-1`;
const WORKERS = [`${NAME}-worker-1`, `${NAME}-worker-2`];
const SIZE = '      memory: 524288Ki\n      cpu: 1\n      storage: 2Gi\n';
const setup = await libvirtConfig(
  NAME,
  `    workerNode:\n${SIZE}    segment:\n      enabled: true\nworkerNodes: 2\n`,
);
const options = { bootImage: async () => libvirt.bootImage, serialLogDir: libvirt.logDir };
const provider = testProvider();
let apiServer: ControlPlane | undefined;

beforeAll(async () => {
  apiServer = await startControlPlane({ name: 'lvseg' });
}, 120_000);

afterAll(async () => {
  await provider.delete?.(contextFor(setup.config, setup.home)).catch(() => {});
  await apiServer?.stop();
}, 120_000);

/** The multicast groups each interface has joined (`/proc/net/igmp`), as dotted quads. */
async function igmpGroups(): Promise<Map<string, string[]>> {
  const groups = new Map<string, string[]>();
  let device = '';
  for (const line of (await readFile('/proc/net/igmp', 'utf8')).split('\n')) {
    const header = /^\d+\s+(\S+)\s*:/.exec(line);
    if (header) {
      device = header[1]!;
      groups.set(device, []);
      continue;
    }
    const group = /^\s+([0-9A-F]{8})\s/.exec(line);
    if (group && device) {
      // The kernel prints the address in host (little-endian) byte order.
      const n = Number.parseInt(group[1]!, 16);
      groups.get(device)!.push([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.'));
    }
  }
  return groups;
}

/** A file of the Ignition volume the SDK wrote for `domain`, decoded. */
async function ignitionFile(domain: string, path: string): Promise<string | undefined> {
  const ignition = parseIgnition(await readFile(join(libvirt.pool.path, `${domain}-init.ign`), 'utf8'), {
    source: 'pool volume',
  });
  const contents = ignition.storage?.files?.find((f) => f.path === path)?.contents;
  return contents === undefined ? undefined : decodeDataUrlText(contents.source ?? '', contents.compression);
}

/** Waits until the guest has done its part, and checks it read exactly its own Ignition volume. */
async function guest(domain: string, done: (r: GuestReport) => boolean): Promise<GuestReport> {
  const report = await waitForGuest(serialLog(domain), done, { timeoutMs: 420_000 });
  const volume = await readFile(join(libvirt.pool.path, `${domain}-init.ign`));
  expect(report.ignition).toEqual({ size: volume.length, sha256: sha256(volume) });
  expect(await ignitionFile(domain, '/etc/hostname')).toBe(domain);
  return report;
}

const ipsRecord = async () =>
  parse(await readFile(join(setup.home, '.ocne', 'ips.yaml'), 'utf8')) as {
    hosts: Record<string, { ips: Record<string, boolean>; ports: Record<string, boolean> }>;
    clusters: Record<
      string,
      { host: string; ip: string; port: number; segment?: { group: string; port: number; subnet: string } }
    >;
  };

describe('libvirt node segment: several nodes on user networking, no bridge', () => {
  it('keeps upstream limits when the segment is not enabled, and joins only to a segment cluster', async () => {
    const plain = await libvirtConfig('lvnoseg', 'workerNodes: 2\n');
    const error = await provider.start!(contextFor(plain.config, plain.home)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OcneError);
    expect(`${(error as OcneError).code}: ${(error as OcneError).message}`).toBe(
      'OCNE_LIBVIRT_USER_NETWORK_LIMIT: Adding worker nodes to user-networking clusters is not supported',
    );
    // A cluster started without a segment cannot take segment nodes later.
    const late = await libvirtConfig('lvlate', '    segment:\n      enabled: true\n');
    await mkdir(join(late.home, '.ocne'), { recursive: true });
    await writeFile(
      join(late.home, '.ocne', 'ips.yaml'),
      stringify({
        hosts: { '': { ips: {}, ports: { 6999: true } } },
        clusters: { lvlate: { host: '', ip: '127.0.0.1', port: 6999 } },
      }),
    );
    const missing = await provider.join!(contextFor(late.config, late.home), {
      controlPlaneNodes: 0,
      workerNodes: 1,
      kubeconfig: '',
    }).catch((e: unknown) => e);
    expect((missing as OcneError).code).toBe('OCNE_LIBVIRT_SEGMENT_MISSING');
  });

  it('starts a control-plane node and two workers that reach it over the segment', async () => {
    const events: EventInput[] = [];
    const context = contextFor(setup.config, setup.home, events);
    // What the provider's start does, without waiting for Kubernetes nodes the tiny guests never run.
    const started = Date.now();
    const first = await startLibvirtCluster(context, options);
    const joined = await joinLibvirtNodes(context, options, {
      controlPlaneNodes: 0,
      workerNodes: 2,
      kubeconfig: apiServer!.kubeconfig,
    });
    expect(joined.domains).toEqual(WORKERS);
    expect(first.segment).toEqual({ group: '239.255.77.1', port: 47000, subnet: '198.18.0.0/24' });
    expect(first.apiAddress).toBe('198.18.0.201');

    // Control plane 1 configured the address the SDK wrote for it and took the virtual IP.
    const cp = await guest(CP1, (r) => r.listening);
    expect(await ignitionFile(CP1, '/etc/sysconfig/network-scripts/ifcfg-enp1s0')).toContain(
      'IPADDR=198.18.0.11\nPREFIX=24\nDEFROUTE=no\n',
    );
    expect(cp.segment?.address).toBe('198.18.0.11/24');
    expect(cp.virtualIp).toBe(first.apiAddress);
    // Every node keeps its own user NIC at 00:02.0 (the slirp address); the segment NIC is 01:00.0.
    expect(cp.address).toBe('192.18.255.15');
    expect(cp.nics[cp.segment!.nic]).toContain('0000:01:00.0');

    // Each worker read its own Ignition, took its own address and got control plane 1's answer
    // from the endpoint its join configuration names.
    for (const [i, worker] of WORKERS.entries()) {
      const report = await guest(worker, (r) => r.apiReply !== undefined || r.poweroff);
      expect(report.apiEndpoint).toBe(`${first.apiAddress}:6443`);
      expect(report.apiReply).toBe('hello-from-guest');
      expect(report.segment?.address).toBe(`198.18.0.${101 + i}/24`);
    }
    console.info(`start of 3 nodes → every worker reached control plane 1: ${Date.now() - started} ms`);

    // The tunnel still forwards to control plane 1.
    expect(await readTunnel(first.tunnel.port)).toBe('hello-from-guest\n');

    // The segment is the cluster's QEMU processes on the loopback's multicast group, and nothing else.
    const channel = `mcast=${first.segment!.group}:${first.segment!.port},localaddr=127.0.0.1`;
    const macs = new Set<string>();
    for (const domain of [CP1, ...WORKERS]) {
      const xml = await virsh('dumpxml', domain);
      expect(xml).toContain(`socket,id=ocneseg,${channel}`);
      expect(xml).not.toContain('<interface');
      macs.add(/"mac":"([0-9a-f:]+)"/.exec(xml.replaceAll('&quot;', '"'))?.[1] ?? '');
    }
    expect(macs.size).toBe(3);
    const groups = await igmpGroups();
    expect(groups.get('lo')).toContain(first.segment!.group);
    for (const [device, joinedGroups] of groups) {
      if (device !== 'lo') expect(joinedGroups, device).not.toContain(first.segment!.group);
    }
    const { stdout } = await execa('ip', ['-4', 'maddr', 'show']);
    const holders = stdout
      .split(/\n(?=\d+:)/)
      .filter((block) => block.includes(`inet  ${first.segment!.group}`))
      .map((block) => /^\d+:\s+(\S+)/.exec(block)?.[1]);
    expect(holders).toEqual(['lo']);

    const ips = await ipsRecord();
    expect(ips.clusters[NAME]).toEqual({
      host: '',
      ip: '198.18.0.201',
      port: first.tunnel.port,
      segment: first.segment,
    });
  }, 600_000);

  it('joins one more worker to the running cluster', async () => {
    const { token } = await provider.join!(contextFor(setup.config, setup.home), {
      controlPlaneNodes: 0,
      workerNodes: 1,
      kubeconfig: apiServer!.kubeconfig,
    });
    expect(await ignitionFile(`${NAME}-worker-3`, '/etc/kubernetes/kubeadm.conf')).toContain(
      `token: ${token}`,
    );
    const report = await guest(`${NAME}-worker-3`, (r) => r.apiReply !== undefined || r.poweroff);
    expect(report.segment?.address).toBe('198.18.0.103/24');
    expect(report.apiReply).toBe('hello-from-guest');
  }, 600_000);

  it('reuses the cluster on a second start', async () => {
    const record = (await ipsRecord()).clusters[NAME];
    const again = await startLibvirtCluster(contextFor(setup.config, setup.home), options);
    expect(again.created).toBe(false);
    expect(again.segment).toEqual(record?.segment);
    expect(again.domains).toEqual([CP1, ...WORKERS, `${NAME}-worker-3`]);
    expect((await ipsRecord()).clusters[NAME]).toEqual(record);
  });

  it('delete leaves no domain, NVRAM, volume, record or multicast membership', async () => {
    const record = (await ipsRecord()).clusters[NAME]!;
    await provider.delete!(contextFor(setup.config, setup.home));
    expect((await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(NAME))).toEqual(
      [],
    );
    const nvramDir = join(libvirt.dir, 'config', 'libvirt', 'qemu', 'nvram');
    expect((await readdir(nvramDir)).filter((f) => f.startsWith(NAME))).toEqual([]);
    expect((await readdir(libvirt.pool.path)).filter((f) => f.startsWith(NAME))).toEqual([]);
    expect(await virsh('vol-list', 'images')).not.toContain(NAME);
    const ips = await ipsRecord();
    expect(ips.clusters[NAME]).toBeUndefined();
    expect(ips.hosts['']?.ports[record.port]).toBeUndefined();
    expect(ips.hosts['']?.ips[record.ip]).toBeUndefined();
    expect((await igmpGroups()).get('lo')).not.toContain(record.segment!.group);
  }, 240_000);
});
