/**
 * Watching what the Cluster API controllers say about a cluster while `start` waits for it. Upstream
 * tails the capoci pod's log and prints its error lines; the SDK reads the same news from the
 * objects the controllers write: a condition that is False with severity `Error` on the Cluster,
 * its infrastructure object (the OCICluster) or its Machines becomes a warning event (once per
 * distinct text), and a terminal failure (`status.failureReason`/`failureMessage`, or a Machine in
 * phase `Failed`), which Cluster API documents as needing a person to step in, ends the start with
 * `OCNE_OCI_CLUSTER_FAILED`. Watch-based: no polling.
 */
import { CLUSTER_NAME_LABEL } from '@ocne/capi/templates';
import { type EventSink, isOcneError, OcneError } from '@ocne/core';
import type { KubeClient, KubernetesObject, WatchTarget } from '@ocne/kubernetes';

/** The status fields the controllers report problems in. */
export interface ReportingStatus {
  failureReason?: string;
  failureMessage?: string;
  phase?: string;
  conditions?: Array<{
    type?: string;
    status?: string;
    severity?: string;
    reason?: string;
    message?: string;
  }>;
}

/** An object a Cluster API controller writes its status into. */
export type ReportingObject = KubernetesObject & { status?: ReportingStatus };

/** A reference to the cluster's infrastructure object (`Cluster.spec.infrastructureRef`). */
export interface InfrastructureRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** Options of {@link watchControllerFailures}. */
export interface WatchFailuresOptions {
  namespace: string;
  /** The Cluster's name, which is also the value of its Machines' cluster-name label. */
  clusterName: string;
  infrastructure?: InfrastructureRef;
  emit: EventSink;
}

/** A running watch of {@link watchControllerFailures}. */
export interface FailureWatch {
  /** Resolves with `promise`, unless a terminal failure is reported first (then rejects with it). */
  guard<T>(promise: Promise<T>): Promise<T>;
  /** Ends the watches. */
  stop(): void;
}

const describe = (o: ReportingObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The terminal failure an object reports, if any. */
export function terminalFailure(object: ReportingObject): string | undefined {
  const status = object.status ?? {};
  if (status.failureReason || status.failureMessage) {
    return `${describe(object)} failed: ${[status.failureReason, status.failureMessage].filter(Boolean).join(': ')}`;
  }
  if (object.kind === 'Machine' && status.phase === 'Failed')
    return `${describe(object)} failed (phase Failed)`;
  return undefined;
}

/** The error conditions an object reports, as warning texts. */
export function errorConditions(object: ReportingObject): string[] {
  return (object.status?.conditions ?? []).flatMap((c) =>
    c.status === 'False' && c.severity === 'Error'
      ? [`${describe(object)}: ${c.type ?? ''} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`.trim()]
      : [],
  );
}

/**
 * Watches the Cluster, its infrastructure object and its Machines in the management cluster until
 * `stop()`. Warnings go to `emit` with code `OCNE_OCI_CONTROLLER_ERROR`; a terminal failure makes
 * `guard` reject with `OCNE_OCI_CLUSTER_FAILED`. A watch that cannot run (a kind the management
 * cluster does not serve) is left out, with a debug log line: the start does not depend on it.
 */
export function watchControllerFailures(kube: KubeClient, options: WatchFailuresOptions): FailureWatch {
  const { namespace, clusterName, emit } = options;
  const stopper = new AbortController();
  const seen = new Set<string>();
  let reject: (error: OcneError) => void = () => {};
  const failed = new Promise<never>((_, r) => {
    reject = r;
  });
  failed.catch(() => {});
  const targets: WatchTarget[] = [
    { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', namespace, name: clusterName },
    {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Machine',
      namespace,
      labelSelector: `${CLUSTER_NAME_LABEL}=${clusterName}`,
    },
  ];
  if (options.infrastructure) targets.push({ ...options.infrastructure, namespace });
  for (const target of targets) {
    kube
      .waitFor<ReportingObject>(
        target,
        (objects) => {
          for (const object of objects) {
            const typed = { ...object, kind: object.kind ?? target.kind };
            for (const text of errorConditions(typed)) {
              if (seen.has(text)) continue;
              seen.add(text);
              emit({
                type: 'warning',
                code: 'OCNE_OCI_CONTROLLER_ERROR',
                message: `Error with Cluster API provider: ${text}`,
              });
            }
            const failure = terminalFailure(typed);
            if (failure !== undefined) {
              reject(new OcneError('OCNE_OCI_CLUSTER_FAILED', failure));
              return true;
            }
          }
          return false;
        },
        {
          signal: stopper.signal,
          timeoutMs: 2 ** 31 - 1,
          description: `Watching ${target.kind} objects for errors`,
        },
      )
      .catch((error: unknown) => {
        if (stopper.signal.aborted || (isOcneError(error) && error.code === 'OCNE_CANCELLED')) return;
        emit({
          type: 'log',
          level: 'debug',
          message: `not watching ${target.kind} objects for errors: ${(error as Error).message}`,
        });
      });
  }
  return {
    guard: (promise) => Promise.race([promise, failed]),
    stop: () => stopper.abort(),
  };
}
