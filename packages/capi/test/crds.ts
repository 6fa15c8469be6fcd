// The Cluster API CustomResourceDefinitions integration tests and benchmarks install into a bare
// control plane: the seven kinds of the reference schemas (Cluster API 1.10.8 and CAPOCI 0.21.0,
// with Oracle's patch; scripts/crds.ts), plus small CRDs of our own for the kinds a live cluster
// also has but whose schemas are not in the reference folder (MachineSet, KubeadmConfig,
// OCIMachine). Ours accept any content (`x-kubernetes-preserve-unknown-fields`) and, like CAPI's,
// are namespaced with a status subresource.
import type { KubernetesObject } from '@kubernetes/client-node';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { type SimpleKind, simpleCrd } from '@ocne/test-control-plane';
import { CRD_SOURCES, loadCrd } from '../scripts/crds.ts';

export { type SimpleKind, simpleCrd };

/** The kinds CAPI has that the reference schemas lack, at the version CAPI / CAPOCI store them. */
export const EXTRA_KINDS: readonly SimpleKind[] = [
  { group: 'cluster.x-k8s.io', version: 'v1beta1', kind: 'MachineSet', plural: 'machinesets' },
  {
    group: 'bootstrap.cluster.x-k8s.io',
    version: 'v1beta1',
    kind: 'KubeadmConfig',
    plural: 'kubeadmconfigs',
  },
  { group: 'infrastructure.cluster.x-k8s.io', version: 'v1beta2', kind: 'OCIMachine', plural: 'ocimachines' },
];

/** Every CRD {@link installCapiCrds} installs: the seven reference kinds, then {@link EXTRA_KINDS}. */
export function capiCrds(): Array<Record<string, unknown>> {
  return [
    ...CRD_SOURCES.map((source) => {
      const crd = loadCrd(source) as unknown as Record<string, unknown>;
      // The reference files come from controller-gen: drop its status and empty timestamps.
      const { status: _status, ...rest } = crd;
      const metadata = { ...(rest.metadata as Record<string, unknown>) };
      delete metadata.creationTimestamp;
      return { ...rest, metadata };
    }),
    ...EXTRA_KINDS.map((kind) => simpleCrd(kind)),
  ];
}

/**
 * Installs (server-side apply, idempotent) every CRD of {@link capiCrds} into a cluster, given by
 * a kubeconfig path or a client, and waits until they are established. Several test files may call
 * it against the same control plane.
 */
export async function installCapiCrds(
  cluster: string | KubeClient,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { signal } = options;
  const kube =
    typeof cluster === 'string'
      ? await connect({ kubeconfigPath: cluster, ...(signal ? { signal } : {}) })
      : cluster;
  await installCrds(kube, capiCrds(), signal);
}

/** Installs CRDs (server-side apply) and waits until they are established. */
export async function installCrds(
  kube: KubeClient,
  crds: ReadonlyArray<Record<string, unknown>>,
  signal?: AbortSignal,
): Promise<void> {
  await kube.apply(crds as unknown as KubernetesObject[], {
    fieldManager: 'ocne-test-crds',
    crdTimeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  });
}
