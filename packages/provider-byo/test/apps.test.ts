// The core applications of a BYO second start: the pure plan and the kubelet clusterDNS reader.
// The facade's second start without a catalog is tested with the facade, in
// packages/cluster/test/second-start.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { coreApplications, kubeletClusterDns } from '@ocne/provider-byo';
import { afterEach, describe, expect, it } from 'vitest';

const homes: string[] = [];
async function home() {
  const dir = await mkdtemp(join(tmpdir(), 'ocne-byo-apps-unit-'));
  homes.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of homes.splice(0)) await rm(dir, { recursive: true, force: true });
});

const BASE = 'provider: byo\nname: apps\nproviders:\n  byo:\n    networkInterface: eth0\n';

async function config(extra: string) {
  return (await loadConfig({ config: BASE + extra, defaults: false, home: await home(), env: {} })).cluster;
}

const facts = { apiAddress: '10.1.2.3', clusterDns: '10.96.0.10' };

describe('coreApplications', () => {
  it('plans upstream order, namespaces and values for a virtual IP cluster', async () => {
    const plan = coreApplications(
      await config('virtualIp: 10.1.2.3\npodSubnet: 10.244.0.0/16,fd00:10:244::/56\n'),
      facts,
    );
    expect(plan).toEqual([
      {
        release: 'core-dns',
        chart: 'coredns',
        namespace: 'kube-system',
        values: { service: { clusterIP: '10.96.0.10' }, image: { tag: 'current' } },
      },
      {
        release: 'kube-proxy',
        chart: 'kube-proxy',
        namespace: 'kube-system',
        values: {
          apiServer: { host: '10.1.2.3', port: 6443 },
          config: { mode: 'iptables', clusterCIDR: '10.96.0.0/12' },
        },
      },
      {
        release: 'flannel',
        chart: 'flannel',
        namespace: 'kube-flannel',
        values: {
          flannel: { args: ['--ip-masq', '--kube-subnet-mgr', '--iface=eth0'] },
          podCidr: '10.244.0.0/16',
          podCidrv6: 'fd00:10:244::/56',
        },
      },
      { release: 'ui', chart: 'ui', namespace: 'ocne-system', values: {} },
      { release: 'ocne-catalog', chart: 'ocne-catalog', namespace: 'ocne-system', values: {} },
      {
        release: 'ha-config',
        chart: 'ocne-ha-monitor',
        namespace: 'ocne-system',
        values: { apiAddress: '10.1.2.3', apiPort: 6443 },
      },
    ]);
  });

  it('leaves out what the configuration turns off', async () => {
    const releases = async (extra: string) =>
      coreApplications(await config(extra), { ...facts, apiAddress: '10.1.2.4' }).map((p) => p.release);
    expect(await releases('loadBalancer: 10.1.2.4\nheadless: true\ncni: none\ncatalog: false\n')).toEqual([
      'core-dns',
      'kube-proxy',
    ]);
    // Any cni other than flannel installs no CNI, as upstream.
    expect(await releases('virtualIp: 10.1.2.3\ncni: calico\n')).not.toContain('flannel');
    expect(await releases('virtualIp: 10.1.2.3\ncni: flannel\n')).toContain('flannel');
  });

  it('flannel gets podCidr only for a single-stack pod subnet, and a bad entry is an error', async () => {
    const flannel = (c: Awaited<ReturnType<typeof config>>) =>
      coreApplications(c, facts).find((p) => p.release === 'flannel')?.values;
    expect(flannel(await config('virtualIp: 10.1.2.3\n'))).toEqual({
      flannel: { args: ['--ip-masq', '--kube-subnet-mgr', '--iface=eth0'] },
      podCidr: '10.244.0.0/16',
    });
    const bad = { ...(await config('virtualIp: 10.1.2.3\n')), podSubnet: '10.244.0.0/16,10.245.0.0/16' };
    expect(() => coreApplications(bad, facts)).toThrow(
      expect.objectContaining({ code: 'OCNE_CONFIG_INVALID_CIDR' }),
    );
  });
});

describe('kubeletClusterDns', () => {
  it('reads the first clusterDNS of block and flow lists', () => {
    expect(kubeletClusterDns('apiVersion: x\nclusterDNS:\n- 10.96.0.10\n- 10.96.0.11\n')).toBe('10.96.0.10');
    expect(kubeletClusterDns('clusterDNS: ["fd00::a", 10.96.0.10]\n')).toBe('fd00::a');
    expect(kubeletClusterDns('clusterDomain: cluster.local\n')).toBeUndefined();
  });
});
