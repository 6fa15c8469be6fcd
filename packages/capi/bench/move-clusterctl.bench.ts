// moveCluster beside its peer, `clusterctl move` (Cluster API's own CLI, Go, built by
// scripts/bench-tools.sh), on the same graph and the same two control planes, in one run
// (`pnpm bench move-clusterctl`): 1,000 worker Machines by default (OCNE_BENCH_MOVE_MACHINES),
// one graph per side in a namespace of its own. clusterctl needs the provider inventory, which a
// management cluster gets from `clusterctl init`: the benchmark records it in both control planes
// (the Provider CRD and objects, the CRDs' clusterctl and provider labels).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type KubeClient, parseManifests } from '@ocne/kubernetes';
import { tableRow } from '@ocne/test-bench';
import { startControlPlane } from '@ocne/test-control-plane';
import { moveCluster } from '../src/move/index.ts';
import { capiCrds, installCapiCrds } from '../test/crds.ts';
import { createClusterGraph, graphSize } from '../test/graph.ts';

const CLUSTERCTL = 'v1.10.8';
const cache = process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache/ocne-test');
const clusterctl = join(cache, 'bin', `clusterctl-${CLUSTERCTL}`);
const inventoryCrd = join(cache, 'bench', `clusterctl-api-${CLUSTERCTL}.yaml`);
const workers = Number(process.env.OCNE_BENCH_MOVE_MACHINES ?? 1000);

/** The providers a management cluster of the OCI template has, as `clusterctl init` records them. */
const PROVIDERS = [
  {
    name: 'cluster-api',
    type: 'CoreProvider',
    namespace: 'capi-system',
    version: CLUSTERCTL,
    group: 'cluster.x-k8s.io',
  },
  {
    name: 'bootstrap-kubeadm',
    type: 'BootstrapProvider',
    namespace: 'capi-kubeadm-bootstrap-system',
    version: CLUSTERCTL,
    group: 'bootstrap.cluster.x-k8s.io',
  },
  {
    name: 'control-plane-kubeadm',
    type: 'ControlPlaneProvider',
    namespace: 'capi-kubeadm-control-plane-system',
    version: CLUSTERCTL,
    group: 'controlplane.cluster.x-k8s.io',
  },
  {
    name: 'infrastructure-oci',
    type: 'InfrastructureProvider',
    namespace: 'cluster-api-provider-oci-system',
    version: 'v0.21.0',
    group: 'infrastructure.cluster.x-k8s.io',
  },
] as const;

/** Records the provider inventory clusterctl reads in a control plane with the CAPI CRDs. */
async function recordInventory(kube: KubeClient): Promise<void> {
  await kube.apply(parseManifests(readFileSync(inventoryCrd, 'utf8')));
  // Each CRD of the graph's kinds, labelled as its provider's components label it.
  await kube.apply(
    capiCrds().map((crd) => {
      const { metadata, spec } = crd as { metadata: { name: string }; spec: { group: string } };
      const provider = PROVIDERS.find((p) => p.group === spec.group) ?? PROVIDERS[0];
      return {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: {
          name: metadata.name,
          labels: { 'clusterctl.cluster.x-k8s.io': '', 'cluster.x-k8s.io/provider': provider.name },
        },
      };
    }),
    { fieldManager: 'clusterctl-inventory' },
  );
  await kube.apply(
    PROVIDERS.flatMap((p) => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: p.namespace } },
      {
        apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3',
        kind: 'Provider',
        metadata: {
          name: p.name,
          namespace: p.namespace,
          labels: {
            'clusterctl.cluster.x-k8s.io': '',
            'clusterctl.cluster.x-k8s.io/core': 'inventory',
            'cluster.x-k8s.io/provider': p.name,
          },
        },
        providerName: p.name.replace(/^(bootstrap|control-plane|infrastructure)-/, ''),
        type: p.type,
        version: p.version,
      },
    ]),
  );
}

if (!existsSync(clusterctl) || !existsSync(inventoryCrd)) {
  console.log(
    `\nclusterctl ${CLUSTERCTL} is not built: run scripts/bench-tools.sh (once, ~15 min), then this again`,
  );
  process.exit(0);
}

const [source, target] = await Promise.all([
  startControlPlane({ name: 'bench-vs-source' }),
  startControlPlane({ name: 'bench-vs-target' }),
]);
const home = mkdtempSync(join(tmpdir(), 'ocne-bench-clusterctl-'));
try {
  const from = await connect({ kubeconfig: source.kubeconfig });
  const to = await connect({ kubeconfig: target.kubeconfig });
  await Promise.all([installCapiCrds(from), installCapiCrds(to)]);
  await Promise.all([recordInventory(from), recordInventory(to)]);
  for (const namespace of ['move-ocne', 'move-clusterctl']) {
    await from.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    await createClusterGraph(source.kubeconfig, { namespace, name: 'bench', workers, concurrency: 16 });
  }
  const size = graphSize(workers);

  const cpu = process.cpuUsage();
  let t0 = performance.now();
  const moved = await moveCluster({ from, to, namespace: 'move-ocne', name: 'bench' });
  const ours = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  if (moved.objects.length !== size)
    throw new Error(`moveCluster moved ${moved.objects.length} of ${size} objects`);

  t0 = performance.now();
  await promisify(execFile)(
    clusterctl,
    [
      'move',
      '--kubeconfig',
      source.kubeconfigPath,
      '--to-kubeconfig',
      target.kubeconfigPath,
      '-n',
      'move-clusterctl',
    ],
    // A home of its own (its configuration and logs), and no check for a newer release online.
    {
      env: { PATH: process.env.PATH ?? '', HOME: home, CLUSTERCTL_DISABLE_VERSIONCHECK: 'true' },
      maxBuffer: 64 << 20,
    },
  );
  const theirs = performance.now() - t0;
  const machines = await to.list('cluster.x-k8s.io/v1beta1', 'Machine', { namespace: 'move-clusterctl' });
  if (machines.items.length !== workers + 1)
    throw new Error(`clusterctl moved ${machines.items.length} of ${workers + 1} Machines`);

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `\ncluster move of ${workers} worker Machines (${size} objects) between two control planes, one run each:`,
  );
  console.log(
    `  ocne moveCluster           ${s(ours).padStart(8)}  ${((size / ours) * 1000).toFixed(0).padStart(4)} objects/s, client CPU ${s((used.user + used.system) / 1000)}`,
  );
  console.log(
    `  clusterctl move ${CLUSTERCTL}   ${s(theirs).padStart(8)}  ${((size / theirs) * 1000).toFixed(0).padStart(4)} objects/s`,
  );
  console.log(`  ratio ocne/clusterctl      ${(ours / theirs).toFixed(2)}x (goal <= 0.50x)`);
  tableRow({
    what: `moveCluster of ${workers} Machines (${size} objects) between the two test control planes`,
    ours: `${s(ours)} (${((size / ours) * 1000).toFixed(0)} objects/s; client CPU ${s((used.user + used.system) / 1000)})`,
    peer: `clusterctl move ${CLUSTERCTL}: ${s(theirs)}`,
    ratio: `${(ours / theirs).toFixed(2)}x`,
    goal: '<= 0.5x',
  });
} finally {
  rmSync(home, { recursive: true, force: true });
  await Promise.all([source.stop(), target.stop()]);
}
