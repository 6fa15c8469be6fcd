// Clusters of several nodes on the real daemon, as far as this machine allows: a cluster on a
// libvirt network takes upstream's virtual IP from the network's real XML (past the addresses
// ips.yaml holds); the network here is only defined, never started (starting one would create a
// bridge), so the first domain's start fails with libvirt's reason and nothing is left. On user
// networking, upstream's limits hold for start and join alike, before anything is made.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventInput, OcneError } from '@ocne/core';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { contextFor, libvirt, libvirtConfig, testProvider } from './helpers.ts';

const virsh = async (...args: string[]) => (await execa('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout;
const NETWORK = `lvnet${process.pid}`;

async function leftovers(prefix: string): Promise<string[]> {
  const domains = (await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(prefix));
  const files = (await readdir(libvirt.pool.path)).filter((f) => f.startsWith(prefix));
  return [...domains, ...files];
}

async function failure(promise: Promise<unknown>): Promise<OcneError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OcneError);
  return error as OcneError;
}

beforeAll(async () => {
  // Defined only (TEST-NET-1, never started): upstream takes a defined network for bridge mode.
  const xml = join(libvirt.dir, `${NETWORK}.xml`);
  await writeFile(xml, `<network><name>${NETWORK}</name><ip address='192.0.2.1' prefix='24'/></network>`);
  await virsh('net-define', xml);
});
afterAll(async () => {
  await virsh('net-undefine', NETWORK).catch(() => {});
});

describe('clusters of several nodes on the real daemon', () => {
  it('takes the virtual IP from the libvirt network past those ips.yaml holds, and cleans up when the domain cannot start', async () => {
    const { config, home } = await libvirtConfig('lvvip', `    network: ${NETWORK}\n`);
    // Another cluster holds gateway + 200 already.
    await mkdir(join(home, '.ocne'), { recursive: true });
    await writeFile(
      join(home, '.ocne', 'ips.yaml'),
      stringify({
        hosts: { '': { ips: { '192.0.2.201': true }, ports: { 7000: true } } },
        clusters: { other: { host: '', ip: '192.0.2.201', port: 7000 } },
      }),
    );
    const events: EventInput[] = [];
    const error = await failure(testProvider().start!(contextFor(config, home, events)));
    expect(
      events.some(
        (e) => e.type === 'log' && e.message === `Using virtual IP 192.0.2.202 on libvirt network ${NETWORK}`,
      ),
    ).toBe(true);
    // The network is not running: libvirt's reason, at once (upstream would wait 15 minutes).
    expect(error.code).toBe('OCNE_LIBVIRT_DOMAIN_START_FAILED');
    expect(error.message).toContain(`network '${NETWORK}' is not active`);
    expect(await leftovers('lvvip')).toEqual([]);
    const ips = parse(await readFile(join(home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(ips.clusters).toEqual({ other: { host: '', ip: '192.0.2.201', port: 7000 } });
    expect(ips.hosts[''].ips).toEqual({ '192.0.2.201': true });
  });

  it('keeps upstream limits of user networking for a join, and needs the Kubernetes side for more nodes', async () => {
    const { config, home } = await libvirtConfig('lvjoin');
    const provider = testProvider();
    const join = await failure(
      provider.join!(contextFor(config, home), { controlPlaneNodes: 0, workerNodes: 1, kubeconfig: '' }),
    );
    expect(`${join.code}: ${join.message}`).toBe(
      'OCNE_LIBVIRT_USER_NETWORK_LIMIT: Adding worker nodes to user-networking clusters is not supported',
    );
    const net = await libvirtConfig('lvjoin2', `    network: ${NETWORK}\nworkerNodes: 1\n`);
    const noKube = await failure(provider.start!(contextFor(net.config, net.home)));
    expect(noKube.code).toBe('OCNE_LIBVIRT_JOIN_NEEDS_CLUSTER');
    // A join to a cluster on the network that was never started: nothing to join to.
    const missing = await failure(
      provider.join!(contextFor(net.config, net.home), {
        controlPlaneNodes: 0,
        workerNodes: 1,
        kubeconfig: '',
      }),
    );
    expect(missing.code).toBe('OCNE_LIBVIRT_JOIN_NEEDS_CLUSTER');
    expect(await leftovers('lvjoin')).toEqual([]);
  });
});
