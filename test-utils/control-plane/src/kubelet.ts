// Playing the kubelet in a control plane that has none: an admin pod the SDK starts on a node is
// reported as finished, with the exit code a test chooses.
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';

/**
 * What {@link completeAdminPod} needs of a client: `KubeClient` of `@ocne/kubernetes` fits. Written
 * out here rather than imported, because the tests of `@ocne/kubernetes` use this package: importing
 * it back would make the two depend on each other.
 */
export interface AdminPodClient {
  readonly config: KubeConfig;
  /** Resolves once `done` holds for the objects the target selects (a watch, not a poll). */
  waitFor<T extends KubernetesObject>(
    target: { apiVersion: string; kind: string; namespace: string; labelSelector: string },
    done: (objects: T[]) => boolean,
    options: { timeoutMs: number },
  ): Promise<T[]>;
}

/** Options of {@link completeAdminPod}. */
export interface CompleteAdminPodOptions {
  /** @defaultValue 0 */
  exitCode?: number;
  /** @defaultValue 'ocne-system' */
  namespace?: string;
  /** @defaultValue 30000 */
  timeoutMs?: number;
}

/**
 * Waits (watch) for an unfinished SDK admin pod on `node`, reports its container as exited with
 * `exitCode`, and returns the pod's command.
 */
export async function completeAdminPod(
  kube: AdminPodClient,
  node: string,
  options: CompleteAdminPodOptions = {},
): Promise<string[]> {
  const namespace = options.namespace ?? 'ocne-system';
  const running = (p: V1Pod) =>
    p.spec?.nodeName === node && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
  const pods = await kube.waitFor<V1Pod>(
    { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector: 'app.kubernetes.io/managed-by=ocne' },
    (all) => all.some(running),
    { timeoutMs: options.timeoutMs ?? 30_000 },
  );
  const name = pods.find(running)!.metadata!.name!;
  const core = kube.config.makeApiClient(CoreV1Api);
  const current = await core.readNamespacedPod({ name, namespace });
  const exitCode = options.exitCode ?? 0;
  current.status = {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: [
      {
        name: current.spec!.containers[0]!.name,
        image: current.spec!.containers[0]!.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode } },
      },
    ],
  };
  await core.replaceNamespacedPodStatus({ name, namespace, body: current });
  return current.spec!.containers[0]!.command ?? [];
}
