// The Kubernetes side of a libvirt start, against a real kube-apiserver + etcd (the guests of the
// libvirt tests run no Kubernetes): the provider waits until GET nodes lists a node, then installs
// the core applications with a libvirt cluster's values (API address 127.0.0.1 on user networking,
// ha-config as upstream installs it) through the real helm. The test plays the node and kubeadm's
// kubelet-config; the test charts echo their values into ConfigMaps.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@ocne/config';
import { type EventInput, OcneError } from '@ocne/core';
import { connect, type KubeClient, uninstallRelease } from '@ocne/kubernetes';
import { type ChartRepository, serveChartRepository } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { testTool } from '@ocne/test-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibvirtProvider } from '../../src/index.ts';
import { createJoinToken } from '../../src/kube.ts';

const { source } = controlPlanesFromInject();
const helmPath = testTool('helm');
// The byo provider's test charts: the same core applications, installed by the same shared path.
const charts = join(
  dirname(fileURLToPath(import.meta.resolve('@ocne/provider-byo/package.json'))),
  'test',
  'fixtures',
  'catalog',
);
const RELEASES = [
  ['core-dns', 'kube-system'],
  ['kube-proxy', 'kube-system'],
  ['flannel', 'kube-flannel'],
  ['ui', 'ocne-system'],
  ['ocne-catalog', 'ocne-system'],
  ['ha-config', 'ocne-system'],
] as const;
const NODE = `libvirt-apps-control-plane-1-${process.pid}`;

let kube: KubeClient;
let work: string;
let repository: ChartRepository | undefined;

beforeAll(async () => {
  kube = await connect({ kubeconfigPath: source.kubeconfigPath });
  work = await mkdtemp(join(tmpdir(), 'ocne-libvirt-apps-'));
  repository = await serveChartRepository({
    helmPath,
    charts: ['coredns', 'kube-proxy', 'flannel', 'ui', 'ocne-catalog', 'ocne-ha-monitor'].map((c) =>
      join(charts, c),
    ),
    workDir: work,
    prefix: 'catalog',
  });
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

async function context(events: EventInput[]) {
  const home = await mkdtemp(join(work, 'home-'));
  const config = await loadConfig({
    config: 'provider: libvirt\nname: apps\n',
    defaults: false,
    home,
    env: {},
  });
  return {
    config,
    home,
    env: {},
    emit: (e: EventInput) => events.push(e),
    signal: new AbortController().signal,
  };
}

async function values(release: string, namespace: string): Promise<Record<string, unknown>> {
  const cm = await kube.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace,
    name: `${release}-values`,
  });
  return JSON.parse(cm?.data?.values ?? 'null');
}

describe('libvirt: after the VMs boot', () => {
  it('fails with a typed timeout while the API server does not answer', async () => {
    const events: EventInput[] = [];
    const provider = createLibvirtProvider({
      catalog: { repoUrl: repository!.url },
      helmPath,
      // A kubeconfig whose server nothing listens on: what a booting node looks like.
      kubernetes: { kubeconfigPath: join(work, 'absent.kubeconfig'), timeoutMs: 2000 },
    });
    const ctx = await context(events);
    const { writeFile } = await import('node:fs/promises');
    const closed = source.kubeconfig.replace(
      /server: https:\/\/127\.0\.0\.1:\d+/,
      'server: https://127.0.0.1:9',
    );
    await writeFile(join(work, 'absent.kubeconfig'), closed);
    const error = await provider.postStart!(ctx, { kubeconfigPath: join(work, 'absent.kubeconfig') }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(OcneError);
    expect(error.code).toBe('OCNE_KUBE_TIMEOUT');
    expect(error.message).toMatch(/^Timeout waiting for get nodes to succeed/);
  });

  it('waits for a node, then installs the core applications with the libvirt values', async () => {
    const events: EventInput[] = [];
    const provider = createLibvirtProvider({
      catalog: { repoUrl: repository!.url },
      helmPath,
      kubernetes: { timeoutMs: 60_000 },
    });
    const ctx = await context(events);
    const run = provider.postStart!(ctx, { kubeconfigPath: source.kubeconfigPath });
    // The node registers a little later, as a booting control-plane node does.
    await new Promise((resolve) => setTimeout(resolve, 3000));
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
    await run;
    const steps = events.flatMap((e) => (e.type === 'step' && e.status === 'started' ? [e.step] : []));
    expect(steps[0]).toBe('Waiting for the Kubernetes cluster to be ready');
    expect(steps.filter((s) => s.startsWith('Installing '))).toEqual(
      RELEASES.map(([release, namespace]) => `Installing ${release} into ${namespace}`),
    );
    expect(await values('kube-proxy', 'kube-system')).toMatchObject({
      apiServer: { host: '127.0.0.1', port: 6443 },
    });
    expect(await values('ha-config', 'ocne-system')).toMatchObject({
      apiAddress: '127.0.0.1',
      apiPort: 6443,
    });
  });

  it('makes the join token the other nodes present as a kubeadm bootstrap token in the cluster', async () => {
    const token = `${'lvjoin'}.${String(process.pid).padStart(16, '0').slice(-16)}`;
    const name = `bootstrap-token-${token.slice(0, 6)}`;
    await kube
      .delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name })
      .catch(() => undefined);
    const events: EventInput[] = [];
    await createJoinToken({
      kubeconfig: source.kubeconfig,
      token,
      cluster: 'apps',
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
    });
    try {
      const secret = await kube.get<{
        apiVersion: string;
        kind: string;
        type?: string;
        data?: Record<string, string>;
      }>({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'kube-system',
        name,
      });
      const data = Object.fromEntries(
        Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
      expect(secret?.type).toBe('bootstrap.kubernetes.io/token');
      expect(data).toMatchObject({
        'token-id': token.slice(0, 6),
        'token-secret': token.slice(7),
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        description: 'ocne join of apps',
      });
      expect(data['auth-extra-groups']).toContain('system:bootstrappers:kubeadm:default-node-token');
      expect(events.some((e) => e.type === 'step' && e.step === 'Creating join token')).toBe(true);
    } finally {
      await kube
        .delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name })
        .catch(() => undefined);
    }
  });
});
