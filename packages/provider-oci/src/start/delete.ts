/**
 * `ocne cluster delete` for the oci provider, as upstream's `Delete()` does it: with a management
 * cluster (and its Cluster API providers), a self-managed cluster is first moved back there from
 * the workload cluster (when the workload cluster still has it); then the `Cluster` is deleted and
 * the controllers' own objects (the Cluster, its infrastructure object, its Machines) are awaited
 * until they are gone, which is when the controllers have removed the cloud resources. The facade
 * then removes the cache entry and the kubeconfig. An ephemeral management cluster is left
 * running, as upstream leaves it, so that a deletion that times out can go on.
 */
import { access, rm } from 'node:fs/promises';
import { CLUSTER_NAME_LABEL, type KubeObject } from '@ocne/capi/templates';
import type { ResolvedConfig } from '@ocne/config';
import { OcneError, type ProviderContext, runStep } from '@ocne/core';
import {
  clusterIdentity,
  installProviders,
  moveIfNeeded,
  OCI_START_TEXT,
  type OciStartDependencies,
  prepare,
  startStatePath,
} from './start.js';

/** Deletes an oci cluster (see the module comment). */
export async function ociDelete(
  context: ProviderContext<ResolvedConfig>,
  deps: OciStartDependencies & { kubeconfigPath: string },
): Promise<void> {
  const { emit, signal } = context;
  const p = await prepare(context, deps, 'Deleting an oci cluster');
  // The controllers finish the deletion (they hold finalizers), and a move back needs them too.
  await installProviders(p, deps);
  const { kube, capi, management } = p;
  const id = await clusterIdentity(context, capi);
  signal.throwIfAborted();
  if (p.cluster.providers.oci.selfManaged) {
    const exists = await access(deps.kubeconfigPath).then(
      () => true,
      () => false,
    );
    if (exists) {
      emit({
        type: 'log',
        level: 'info',
        message: 'Migrating Cluster API resources into the management cluster',
      });
      await moveIfNeeded(p, {
        from: deps.kubeconfigPath,
        to: management.kubeconfigPath,
        namespace: id.namespace,
        name: id.name,
        ...(deps.timeouts?.moveMs !== undefined ? { timeoutMs: deps.timeouts.moveMs } : {}),
      }).catch((error: unknown) => {
        // Upstream treats a workload cluster it cannot read as one that does not hold the objects.
        if (signal.aborted || error instanceof p.capi.CapiMoveError) throw error;
        emit({ type: 'log', level: 'debug', message: `not moving back: ${(error as Error).message}` });
      });
    }
  }
  signal.throwIfAborted();
  const mgmt = await kube.connect({ kubeconfigPath: management.kubeconfigPath, signal });
  emit({ type: 'log', level: 'info', message: `${OCI_START_TEXT.deleting} ${id.namespace}/${id.name}` });
  await mgmt.delete(
    { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', namespace: id.namespace, name: id.name },
    { wait: false, signal },
  );
  const timeoutMs = deps.timeouts?.deleteMs ?? 1_200_000;
  const deadline = Date.now() + timeoutMs;
  await runStep(emit, OCI_START_TEXT.waitingForDeletion, async () => {
    const waits: Array<{ what: string; target: Parameters<typeof mgmt.waitFor>[0] }> = [
      {
        what: `Cluster ${id.namespace}/${id.name}`,
        target: {
          apiVersion: 'cluster.x-k8s.io/v1beta1',
          kind: 'Cluster',
          namespace: id.namespace,
          name: id.name,
        },
      },
      {
        what: `the Machines of cluster ${id.label}`,
        target: {
          apiVersion: 'cluster.x-k8s.io/v1beta1',
          kind: 'Machine',
          namespace: id.namespace,
          labelSelector: `${CLUSTER_NAME_LABEL}=${id.label}`,
        },
      },
    ];
    if (id.infrastructure) {
      waits.push({
        what: `${id.infrastructure.kind} ${id.namespace}/${id.infrastructure.name}`,
        target: { ...id.infrastructure, namespace: id.namespace },
      });
    }
    // One after the other: each is gone for good once gone (nothing recreates them after the Cluster's deletion).
    for (const { what, target } of waits) {
      try {
        await mgmt.waitFor<KubeObject>(target, (objects) => objects.length === 0, {
          signal,
          timeoutMs: Math.max(1, deadline - Date.now()),
          description: `Waiting for the deletion of ${what}`,
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'OCNE_KUBE_TIMEOUT') {
          throw new OcneError(
            'OCNE_OCI_DELETE_TIMEOUT',
            `${what} still exists ${timeoutMs} ms after the deletion of Cluster ${id.namespace}/${id.name}: the Cluster API controllers have not finished removing the cloud resources (the deletion goes on in the management cluster ${management.kubeconfigPath})`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  });
  // What an unfinished start kept (the workload kubeconfig) goes with the cluster.
  const state = startStatePath(context.home, p.cluster.name);
  await Promise.all([rm(state, { force: true }), rm(`${state}.kubeconfig`, { force: true })]);
}
