// The BYO second start: the core applications installed with the real helm CLI into a real
// kube-apiserver + etcd (no kubelet: the test plays the control-plane node and kubeadm's
// kubelet-config). The test charts of test/fixtures/catalog echo the values they get into a
// ConfigMap; they are packaged into a chart repository served over http on 127.0.0.1.
// The virtual IP 10.1.2.3 is a configuration value only: nothing ever connects to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@ocne/config';
import type { EventInput } from '@ocne/core';
import { connect, type KubeClient, listReleases, uninstallRelease } from '@ocne/kubernetes';
import { installCoreApplications } from '@ocne/provider-byo';
import { type ChartRepository, serveChartRepository } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { testTool } from '@ocne/test-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const { source } = controlPlanesFromInject();
const charts = fileURLToPath(new URL('../fixtures/catalog/', import.meta.url));
const helmPath = testTool('helm');
const CHARTS = ['coredns', 'kube-proxy', 'flannel', 'ui', 'ocne-catalog', 'ocne-ha-monitor'];
/** The releases this file installs, in upstream's order. */
const RELEASES = [
  ['core-dns', 'kube-system'],
  ['kube-proxy', 'kube-system'],
  ['flannel', 'kube-flannel'],
  ['ui', 'ocne-system'],
  ['ocne-catalog', 'ocne-system'],
  ['ha-config', 'ocne-system'],
] as const;
const NODE = `byo-apps-cp-${process.pid}`;

let kube: KubeClient;
let work: string;
let repository: ChartRepository | undefined;
let repoUrl: string;

async function config(extra = '', address = 'virtualIp: 10.1.2.3') {
  const home = await mkdtemp(join(work, 'home-'));
  const text = `provider: byo\nname: apps\n${address}\npodSubnet: 10.244.0.0/16,fd00:10:244::/56\nproviders:\n  byo:\n    networkInterface: eth0\n${extra}`;
  return (await loadConfig({ config: text, defaults: false, home, env: {} })).cluster;
}

/** Runs the install, returning its results and the `Installing …` steps it started. */
async function install(cluster: Awaited<ReturnType<typeof config>>) {
  const events: EventInput[] = [];
  const results = await installCoreApplications({
    config: cluster,
    kubeconfigPath: source.kubeconfigPath,
    catalog: { repoUrl },
    helmPath,
    emit: (e) => events.push(e),
    waitTimeoutMs: 30_000,
  });
  const steps = events.flatMap((e) => (e.type === 'step' && e.status === 'started' ? [e.step] : []));
  return { results, steps };
}

async function rendered(release: string, namespace: string): Promise<Record<string, unknown>> {
  const cm = await kube.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace,
    name: `${release}-values`,
  });
  return JSON.parse(cm?.data?.values ?? 'null');
}

beforeAll(async () => {
  kube = await connect({ kubeconfigPath: source.kubeconfigPath });
  work = await mkdtemp(join(tmpdir(), 'ocne-byo-apps-'));
  repository = await serveChartRepository({
    helmPath,
    charts: CHARTS.map((c) => join(charts, c)),
    workDir: work,
    prefix: 'catalog',
  });
  repoUrl = repository.url;
  // What kubeadm and the kubelet would have made: a control-plane node and kubelet-config.
  await kube.apply([
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { 'node-role.kubernetes.io/control-plane': '' } },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubelet-config', namespace: 'kube-system' },
      data: { kubelet: 'apiVersion: kubelet.config.k8s.io/v1beta1\nclusterDNS:\n- 10.96.0.10\n' },
    } as never,
  ]);
}, 120_000);

afterAll(async () => {
  if (kube) {
    for (const [release, namespace] of RELEASES) {
      await uninstallRelease(release, namespace, { helmPath, kubeconfig: source.kubeconfigPath }).catch(
        () => undefined,
      );
    }
    await kube.delete({ apiVersion: 'v1', kind: 'Node', name: NODE }).catch(() => undefined);
    await kube
      .delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubelet-config' })
      .catch(() => undefined);
  }
  if (repository) await repository.close();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('byo second start: the core applications', () => {
  it('waits for the control plane, then installs the core applications in order with their values', async () => {
    const cluster = await config();
    const { results, steps } = await install(cluster);
    expect(steps).toEqual([
      'Waiting for the control plane nodes',
      'Waiting for the kubelet configuration',
      ...RELEASES.map(([release, namespace]) => `Installing ${release} into ${namespace}`),
    ]);
    expect(results.map((r) => [r.release, r.namespace, r.action])).toEqual(
      RELEASES.map(([release, namespace]) => [release, namespace, 'installed']),
    );
    const mine = new Set<string>(RELEASES.map(([r, n]) => `${n}/${r}`));
    const listed = (await listReleases({ helmPath, kubeconfig: source.kubeconfigPath })).filter((r) =>
      mine.has(`${r.namespace}/${r.name}`),
    );
    expect(listed.map((r) => [r.name, r.chart, r.status]).sort()).toEqual(
      [
        ['core-dns', 'coredns-2.0.0', 'deployed'],
        ['flannel', 'flannel-2.0.0', 'deployed'],
        ['ha-config', 'ocne-ha-monitor-2.0.0', 'deployed'],
        ['kube-proxy', 'kube-proxy-2.0.0', 'deployed'],
        ['ocne-catalog', 'ocne-catalog-2.0.0', 'deployed'],
        ['ui', 'ui-2.0.0', 'deployed'],
      ].sort(),
    );
    expect(await rendered('core-dns', 'kube-system')).toEqual({
      service: { clusterIP: '10.96.0.10' },
      image: { tag: 'current' },
    });
    expect(await rendered('kube-proxy', 'kube-system')).toEqual({
      apiServer: { host: '10.1.2.3', port: 6443 },
      config: { mode: 'iptables', clusterCIDR: cluster.serviceSubnet },
    });
    expect(cluster.serviceSubnet).toBe('10.96.0.0/12');
    expect(await rendered('flannel', 'kube-flannel')).toEqual({
      flannel: { args: ['--ip-masq', '--kube-subnet-mgr', '--iface=eth0'] },
      podCidr: '10.244.0.0/16',
      podCidrv6: 'fd00:10:244::/56',
    });
    expect(await rendered('ui', 'ocne-system')).toEqual({});
    expect(await rendered('ocne-catalog', 'ocne-system')).toEqual({});
    expect(await rendered('ha-config', 'ocne-system')).toEqual({ apiAddress: '10.1.2.3', apiPort: 6443 });
  }, 120_000);

  it('a second run skips every release that exists', async () => {
    const { results } = await install(await config());
    expect(results.map((r) => [r.release, r.action])).toEqual(RELEASES.map(([r]) => [r, 'skipped']));
  }, 120_000);

  it('headless skips ui, cni none skips flannel, catalog false skips ocne-catalog, a load balancer skips ha-config', async () => {
    const cases: Array<[string, string | undefined, string]> = [
      ['headless: true\n', undefined, 'ui'],
      ['cni: none\n', undefined, 'flannel'],
      ['catalog: false\n', undefined, 'ocne-catalog'],
      ['', 'loadBalancer: 10.1.2.4', 'ha-config'],
    ];
    for (const [extra, address, skipped] of cases) {
      const { steps } = await install(await config(extra, address));
      const installing = steps.filter((s) => s.startsWith('Installing '));
      expect(installing).toEqual(
        RELEASES.filter(([r]) => r !== skipped).map(([r, n]) => `Installing ${r} into ${n}`),
      );
    }
  }, 120_000);
});
