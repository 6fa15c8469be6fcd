/**
 * Moving one Cluster API cluster from a management cluster to another, as `clusterctl move` does
 * (upstream ocne calls clusterctl's library for its self-managed clusters): discover the object
 * graph, wait until the cluster is ready to move, pause it, recreate the graph in the target with
 * its owner references, delete it from the source, and unpause it in the target.
 *
 * It talks to both clusters through `KubeClient.rest()`: the move needs merge patches, the status
 * subresource, delete preconditions and many calls in parallel.
 *
 * Where it differs from clusterctl 1.10, on purpose or as a limit:
 * - One Cluster per call (clusterctl moves a namespace); objects carrying the Cluster's
 *   `cluster.x-k8s.io/cluster-name` label come along even without an owner reference to it.
 * - Status is copied (without `observedGeneration`, since the copies start at generation 1), so
 *   readiness survives the move; clusterctl leaves status to the controllers.
 * - Never swallows an error (upstream ocne ignores move errors), waits for readiness with a
 *   timeout, and rolls back before its point of no return: the source is unpaused and what was
 *   created in the target is deleted. The target namespace stays even when the move created it.
 * - After the point of no return, running the same move again finishes it, also when the source
 *   Cluster (deleted last) is already gone and the target's copy is still paused.
 * - Not moved: cluster-scoped objects (global identities), ClusterResourceSets (their bindings
 *   move), objects that only the `clusterctl.cluster.x-k8s.io/move` and `move-hierarchy` labels
 *   select, and Clusters with a ClusterClass topology (refused). Upstream's template uses none.
 */
import { type EventSink, isOcneError, OcneError, runStep } from '@ocne/core';
import type { KubeClient, KubeRestCallOptions } from '@ocne/kubernetes';
import { CLUSTER_NAME_LABEL, type OwnerReference } from './objects.js';

/** Codes of the errors {@link moveCluster} raises (as {@link CapiMoveError}). */
export const CapiMoveErrorCode = {
  /** The Cluster does not exist in the source namespace. */
  NotFound: 'OCNE_CAPI_MOVE_NOT_FOUND',
  /** The cluster did not become ready to move in time (clusterctl: `cannot start the move operation ...`). */
  NotReady: 'OCNE_CAPI_MOVE_NOT_READY',
  /**
   * The move cannot be done as asked: the source and the target are the same cluster, the target
   * lacks a kind of the graph, the target already has this Cluster unpaused, objects are shared
   * with another Cluster, or owner references form a cycle.
   */
  Conflict: 'OCNE_CAPI_MOVE_CONFLICT',
  /** A feature this move does not handle, such as a Cluster with a managed topology (ClusterClass). */
  Unsupported: 'OCNE_CAPI_MOVE_UNSUPPORTED',
  /** A request failed before the point of no return; the move was rolled back (see {@link CapiMoveError.state}). */
  Failed: 'OCNE_CAPI_MOVE_FAILED',
  /**
   * A request failed after the point of no return (the deletion from the source had begun): the
   * target holds the whole graph, still paused; running the same move again finishes it.
   */
  Incomplete: 'OCNE_CAPI_MOVE_INCOMPLETE',
  /** The caller's signal stopped the move before the point of no return; it was rolled back. */
  Cancelled: 'OCNE_CANCELLED',
} as const;

/** A move error code. */
export type CapiMoveErrorCode = (typeof CapiMoveErrorCode)[keyof typeof CapiMoveErrorCode];

/**
 * What a failed move left behind.
 *
 * - `unchanged`: it failed before changing anything.
 * - `rolled-back`: the source Cluster was unpaused (as it was) and what the move created in the target was deleted.
 * - `rollback-failed`: part of that undo failed; {@link CapiMoveError.rollbackErrors} says what.
 * - `incomplete`: it failed after the point of no return; see `OCNE_CAPI_MOVE_INCOMPLETE`.
 */
export type CapiMoveState = 'unchanged' | 'rolled-back' | 'rollback-failed' | 'incomplete';

/** One object of a move, by kind, namespace and name. */
export interface MoveObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Options of the {@link CapiMoveError} constructor. */
export interface CapiMoveErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** The object whose request failed. */
  object?: MoveObjectRef;
  /** @defaultValue `'unchanged'` */
  state?: CapiMoveState;
  rollbackErrors?: readonly unknown[];
}

/** An error of {@link moveCluster}: a code, the object concerned, and what the move left behind. */
export class CapiMoveError extends OcneError {
  /** The object whose request failed, when one did. */
  readonly object: MoveObjectRef | undefined;
  /** What the failed move left behind. */
  readonly state: CapiMoveState;
  /** The errors of the undo, when it failed (`rollback-failed`). */
  readonly rollbackErrors: readonly unknown[];

  constructor(code: CapiMoveErrorCode, message: string, options: CapiMoveErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.object = options.object;
    this.state = options.state ?? 'unchanged';
    this.rollbackErrors = options.rollbackErrors ?? [];
  }

  override get name(): string {
    return 'CapiMoveError';
  }
}

/** Upstream's waiter text around the move (`Migrating Cluster API resources: ok`). */
export const CAPI_MOVE_STEP = 'Migrating Cluster API resources';

/** Options of {@link moveCluster}. */
export interface MoveClusterOptions {
  /** The management cluster that holds the Cluster now: a client, or the path of a kubeconfig. */
  from: KubeClient | string;
  /** The management cluster to move it to: a client, or the path of a kubeconfig. Not used by a dry run. */
  to?: KubeClient | string;
  /** Namespace of the Cluster (the whole graph lives there). */
  namespace: string;
  /** Name of the Cluster. */
  name: string;
  /** Only discover the graph and check readiness; change nothing. @defaultValue false */
  dryRun?: boolean;
  /** Stops the move; honoured until the point of no return (the deletion from the source). */
  signal?: AbortSignal;
  emit?: EventSink;
  /**
   * How long to wait for the cluster to be ready to move (upstream ocne retries forever, every 3 s,
   * while clusterctl answers `cannot start the move operation`).
   * @defaultValue 1800000 (30 minutes)
   */
  timeoutMs?: number;
  /** Pause between two readiness checks. @defaultValue 3000 (upstream) */
  retryIntervalMs?: number;
  /** How many requests run at once when creating or deleting the objects of one move group. @defaultValue 16 */
  concurrency?: number;
  /** How long to wait until the deleted source objects are gone. @defaultValue 120000 */
  deleteTimeoutMs?: number;
}

/** An object another object of the move depends on. */
export interface MoveOwner {
  apiVersion: string;
  kind: string;
  name: string;
  /** True for a soft owner (clusterctl's name): a Secret named `<cluster>-ca` and the like depends on its Cluster without an owner reference. */
  soft: boolean;
}

/** One object of the moved graph. */
export interface MoveObject extends MoveObjectRef {
  /**
   * Its move group: objects of group 0 (the Cluster, objects without owners) are created first,
   * then group 1 (owned by group 0), and so on; deletion runs the other way.
   */
  group: number;
  /** Owners (owner references within the graph) and soft owners. */
  owners: MoveOwner[];
  /** Owner references to objects outside the graph, which the copy in the target does not keep. */
  droppedOwners: MoveOwner[];
}

/** What {@link moveCluster} did (or, for a dry run, would do). */
export interface MoveResult {
  namespace: string;
  name: string;
  dryRun: boolean;
  /** The graph, in creation order. */
  objects: MoveObject[];
  /** How many move groups the graph has. */
  groups: number;
  /** Objects per kind. */
  counts: Record<string, number>;
  /** Objects created in the target. */
  created: number;
  /** Objects the target had already (left by an interrupted move), updated to the source's content. */
  updated: number;
  /** Objects deleted from the source. */
  deleted: number;
  /** Why the cluster is not ready to move (a dry run reports it instead of waiting); empty otherwise. */
  notReady: string[];
  /** How many times readiness was checked. */
  attempts: number;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------------
// Constants of Cluster API and clusterctl.

const FIELD_MANAGER = 'ocne-move';
const CAPI_GROUP = 'cluster.x-k8s.io';
const CLUSTERCTL_LABEL = 'clusterctl.cluster.x-k8s.io';
const DELETE_FOR_MOVE = 'clusterctl.cluster.x-k8s.io/delete-for-move';
const BLOCK_MOVE = 'clusterctl.cluster.x-k8s.io/block-move';
/** The suffixes of the Secrets CAPI names after a Cluster (`util/secret`). */
const SECRET_PURPOSES: readonly string[] = [
  'kubeconfig',
  'ca',
  'etcd',
  'sa',
  'proxy',
  'apiserver-etcd-client',
];

// ---------------------------------------------------------------------------------------------------
// Objects and kinds.

interface Metadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  [key: string]: unknown;
}

/** A kind the move lists, at the version the source stores it. */
interface Kind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** Has a status subresource (the status is written separately after a create). */
  status: boolean;
}

/**
 * A status without its `observedGeneration` fields (top level and in conditions). The copy in the
 * target starts again at generation 1: a generation observed in the source would make it look
 * reconciled there before any controller has seen it. The rest of the status is kept, so the
 * Cluster's and Machines' readiness survive the move.
 */
function withoutObservedGenerations(status: unknown): unknown {
  if (Array.isArray(status)) return status.map(withoutObservedGenerations);
  if (status === null || typeof status !== 'object') return status;
  return Object.fromEntries(
    Object.entries(status)
      .filter(([key]) => key !== 'observedGeneration')
      .map(([key, value]) => [key, withoutObservedGenerations(value)]),
  );
}

/** The Cluster kind at the version CAPI 1.x serves it; for finishing an earlier move. */
const CLUSTER_KIND: Kind = {
  group: 'cluster.x-k8s.io',
  version: 'v1beta1',
  kind: 'Cluster',
  plural: 'clusters',
  status: true,
};

const CORE_KINDS: readonly Kind[] = [
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', status: false },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', status: false },
];

const apiVersionOf = (k: Kind) => (k.group === '' ? k.version : `${k.group}/${k.version}`);
const collectionPath = (k: Kind, namespace: string) =>
  `${k.group === '' ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`}/namespaces/${namespace}/${k.plural}`;
const objectPath = (k: Kind, namespace: string, name: string) =>
  `${collectionPath(k, namespace)}/${encodeURIComponent(name)}`;
const describe = (o: { kind: string; namespace?: string; name: string }) =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

interface Crd {
  metadata: Metadata;
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: Array<{ name: string; served: boolean; storage: boolean; subresources?: { status?: unknown } }>;
  };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** The namespaced kinds of Cluster API (the `*.cluster.x-k8s.io` groups and CRDs labelled for clusterctl), at their storage version. */
function capiKinds(crds: readonly Crd[]): Kind[] {
  const kinds: Kind[] = [];
  for (const crd of crds) {
    const { group, scope, names, versions } = crd.spec;
    const capi =
      group === CAPI_GROUP ||
      group.endsWith(`.${CAPI_GROUP}`) ||
      crd.metadata.labels?.[CLUSTERCTL_LABEL] !== undefined;
    if (!capi || scope !== 'Namespaced') continue;
    const stored = versions.find((v) => v.storage) ?? versions.find((v) => v.served);
    if (stored === undefined) continue;
    kinds.push({
      group,
      version: stored.name,
      kind: names.kind,
      plural: names.plural,
      status: stored.subresources?.status !== undefined,
    });
  }
  return kinds.sort((a, b) => `${a.group}/${a.kind}`.localeCompare(`${b.group}/${b.kind}`));
}

// ---------------------------------------------------------------------------------------------------
// The graph (pure).

interface GraphNode {
  obj: Obj;
  kind: Kind;
  uid: string;
  /** Owners found among the listed objects. */
  owners: Array<{ ref: OwnerReference; node: GraphNode | undefined }>;
  softOwners: GraphNode[];
}

/** A move, planned: the graph of one Cluster in creation order. */
interface Plan {
  cluster: GraphNode;
  groups: GraphNode[][];
  nodes: GraphNode[];
  moved: Set<GraphNode>;
  groupOf: Map<GraphNode, number>;
}

const isKind = (n: GraphNode, group: string, kind: string) => n.kind.group === group && n.kind.kind === kind;

/**
 * Plans the move of Cluster `namespace/name` from every listed object of its namespace: the
 * Cluster, what it owns (owner references, transitively), what carries its
 * `cluster.x-k8s.io/cluster-name` label (and what they own), and the Secrets named after it
 * without owner references; then the move groups (owners before what they own).
 */
function planMove(listed: ReadonlyArray<{ obj: Obj; kind: Kind }>, namespace: string, name: string): Plan {
  const nodes: GraphNode[] = listed.map(({ obj, kind }) => ({
    obj,
    kind,
    uid: obj.metadata.uid ?? `${kind.kind}/${obj.metadata.name}`,
    owners: [],
    softOwners: [],
  }));
  const byUid = new Map(nodes.map((n) => [n.uid, n]));
  const clusters = nodes.filter((n) => isKind(n, CAPI_GROUP, 'Cluster'));
  const cluster = clusters.find((n) => n.obj.metadata.name === name);
  if (cluster === undefined) {
    throw new CapiMoveError(
      CapiMoveErrorCode.NotFound,
      `Cluster ${namespace}/${name} does not exist in the source management cluster`,
    );
  }
  if ((cluster.obj.spec as { topology?: unknown } | undefined)?.topology !== undefined) {
    throw new CapiMoveError(
      CapiMoveErrorCode.Unsupported,
      `Cluster ${namespace}/${name} has a managed topology (ClusterClass), which moveCluster does not move`,
    );
  }
  const children = new Map<GraphNode, GraphNode[]>();
  const addChild = (owner: GraphNode, child: GraphNode) => {
    const list = children.get(owner);
    if (list === undefined) children.set(owner, [child]);
    else list.push(child);
  };
  for (const n of nodes) {
    for (const ref of n.obj.metadata.ownerReferences ?? []) {
      const owner = byUid.get(ref.uid);
      n.owners.push({ ref, node: owner });
      if (owner) addChild(owner, n);
    }
    // Soft ownership (clusterctl): a Secret without owner references named `<cluster>-<purpose>`,
    // and a ClusterResourceSetBinding naming the cluster.
    let softName: string | undefined;
    if (isKind(n, '', 'Secret') && n.owners.length === 0) {
      const secretName = n.obj.metadata.name;
      const purpose = SECRET_PURPOSES.find(
        (p) => secretName.endsWith(`-${p}`) && secretName.length > p.length + 1,
      );
      if (purpose !== undefined) softName = secretName.slice(0, -(purpose.length + 1));
    } else if (isKind(n, `addons.${CAPI_GROUP}`, 'ClusterResourceSetBinding')) {
      softName = (n.obj.spec as { clusterName?: string } | undefined)?.clusterName;
    }
    const softOwner =
      softName === undefined ? undefined : clusters.find((c) => c.obj.metadata.name === softName);
    if (softOwner) {
      n.softOwners.push(softOwner);
      addChild(softOwner, n);
    }
  }
  const tenants = (root: GraphNode): Set<GraphNode> => {
    const clusterName = root.obj.metadata.name;
    const set = new Set<GraphNode>();
    const queue = [root, ...nodes.filter((n) => n.obj.metadata.labels?.[CLUSTER_NAME_LABEL] === clusterName)];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      if (set.has(next)) continue;
      set.add(next);
      queue.push(...(children.get(next) ?? []));
    }
    return set;
  };
  const moved = tenants(cluster);
  for (const other of clusters) {
    if (other === cluster) continue;
    const shared = [...tenants(other)].filter((n) => moved.has(n));
    if (shared.length > 0) {
      const some = shared.slice(0, 5).map((n) => describe({ ...n.obj.metadata, kind: n.kind.kind }));
      const more = shared.length > 5 ? ` and ${shared.length - 5} more` : '';
      throw new CapiMoveError(
        CapiMoveErrorCode.Conflict,
        `${some.join(', ')}${more} belong to both Cluster ${namespace}/${name} and Cluster ${namespace}/${other.obj.metadata.name}, so neither can be moved without the other`,
      );
    }
  }
  // Move groups: an object joins the first group after all its owners (hard and soft) in the graph.
  const deps = (n: GraphNode) => [
    ...n.owners.flatMap((o) => (o.node && moved.has(o.node) ? [o.node] : [])),
    ...n.softOwners.filter((o) => moved.has(o)),
  ];
  const order = (a: GraphNode, b: GraphNode) =>
    `${a.kind.group}/${a.kind.kind}/${a.obj.metadata.name}`.localeCompare(
      `${b.kind.group}/${b.kind.kind}/${b.obj.metadata.name}`,
    );
  const groupOf = new Map<GraphNode, number>();
  const groups: GraphNode[][] = [];
  let remaining = [...moved];
  while (remaining.length > 0) {
    const group = remaining.filter((n) => deps(n).every((d) => groupOf.has(d))).sort(order);
    if (group.length === 0) {
      throw new CapiMoveError(
        CapiMoveErrorCode.Conflict,
        `the owner references of ${remaining
          .slice(0, 5)
          .map((n) => describe({ ...n.obj.metadata, kind: n.kind.kind }))
          .join(', ')} form a cycle`,
      );
    }
    for (const n of group) groupOf.set(n, groups.length);
    groups.push(group);
    remaining = remaining.filter((n) => !groupOf.has(n));
  }
  return { cluster, groups, nodes: groups.flat(), moved, groupOf };
}

const refOf = (n: GraphNode): MoveObjectRef => ({
  apiVersion: apiVersionOf(n.kind),
  kind: n.kind.kind,
  namespace: n.obj.metadata.namespace ?? '',
  name: n.obj.metadata.name,
});

function describePlan(plan: Plan): MoveObject[] {
  return plan.nodes.map((n) => ({
    ...refOf(n),
    group: plan.groupOf.get(n) ?? 0,
    owners: [
      ...n.owners.flatMap((o) =>
        o.node && plan.moved.has(o.node)
          ? [{ apiVersion: o.ref.apiVersion, kind: o.ref.kind, name: o.ref.name, soft: false }]
          : [],
      ),
      ...n.softOwners
        .filter((o) => plan.moved.has(o))
        .map((o) => ({
          apiVersion: o.obj.apiVersion,
          kind: o.kind.kind,
          name: o.obj.metadata.name,
          soft: true,
        })),
    ],
    droppedOwners: n.owners.flatMap((o) =>
      o.node && plan.moved.has(o.node)
        ? []
        : [{ apiVersion: o.ref.apiVersion, kind: o.ref.kind, name: o.ref.name, soft: false }],
    ),
  }));
}

function countKinds(plan: Plan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of plan.nodes) counts[n.kind.kind] = (counts[n.kind.kind] ?? 0) + 1;
  return counts;
}

interface Condition {
  type?: string;
  status?: string;
}

/**
 * clusterctl's `checkProvisioningCompleted`: the Cluster's infrastructure is provisioned, its
 * control plane initialized (and ready, when it has a control plane reference), and every Machine
 * has a node. Reads CAPI v1beta1 and v1beta2 status shapes.
 */
function provisioningProblems(plan: Plan): string[] {
  const problems: string[] = [];
  const c = plan.cluster.obj;
  const where = `Cluster ${c.metadata.namespace}/${c.metadata.name}`;
  const status = (c.status ?? {}) as {
    infrastructureReady?: boolean;
    controlPlaneReady?: boolean;
    conditions?: Condition[];
    initialization?: { infrastructureProvisioned?: boolean; controlPlaneInitialized?: boolean };
  };
  const v1beta1 = plan.cluster.kind.version === 'v1beta1';
  const infrastructure = v1beta1
    ? status.infrastructureReady
    : status.initialization?.infrastructureProvisioned;
  const initialized = status.conditions?.some(
    (x) => x.type === 'ControlPlaneInitialized' && x.status === 'True',
  );
  const hasControlPlane =
    (c.spec as { controlPlaneRef?: unknown } | undefined)?.controlPlaneRef !== undefined;
  const controlPlane = v1beta1 ? status.controlPlaneReady : status.initialization?.controlPlaneInitialized;
  if (infrastructure !== true) {
    problems.push(`cannot start the move operation while ${where} is still provisioning the infrastructure`);
  } else if (initialized !== true) {
    problems.push(
      `cannot start the move operation while the control plane for ${where} is not yet initialized`,
    );
  } else if (hasControlPlane && controlPlane !== true) {
    problems.push(`cannot start the move operation while the control plane for ${where} is not yet ready`);
  }
  for (const n of plan.nodes) {
    if (!isKind(n, CAPI_GROUP, 'Machine')) continue;
    const nodeRef = (n.obj.status as { nodeRef?: { name?: string } } | undefined)?.nodeRef;
    if (!nodeRef?.name) {
      problems.push(
        `cannot start the move operation while Machine ${n.obj.metadata.namespace}/${n.obj.metadata.name} is still provisioning the node`,
      );
    }
  }
  return problems;
}

/** Objects with clusterctl's block-move annotation, which providers remove once they have paused. */
function blockMoveProblems(plan: Plan): string[] {
  return plan.nodes
    .filter((n) => n.obj.metadata.annotations?.[BLOCK_MOVE] !== undefined)
    .map(
      (n) =>
        `cannot start the move operation while ${describe({ ...n.obj.metadata, kind: n.kind.kind })} has the ${BLOCK_MOVE} annotation`,
    );
}

const isPaused = (o: Obj) => (o.spec as { paused?: unknown } | undefined)?.paused === true;

type KubeModule = typeof import('@ocne/kubernetes');

/** A cluster's REST client (`KubeClient.rest()`), typed for the objects the move handles. */
interface Api {
  readonly kube: KubeClient;
  call(method: string, path: string, options: KubeRestCallOptions): Promise<Obj | undefined>;
  list(path: string, apiVersion: string, kind: string, doing: string, signal?: AbortSignal): Promise<Obj[]>;
  close(): void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` on every item, at most `limit` at a time. With `failFast`, no item starts after an
 * error or once `stop()` is true; the items running finish either way. Returns the errors.
 */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  options: { failFast: boolean; stop?: () => boolean },
): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (options.failFast && (errors.length > 0 || options.stop?.())) return;
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

/** The distinct kinds of a plan's objects. */
const kindsOf = (plan: Plan): Kind[] => [
  ...new Map(plan.nodes.map((n) => [`${n.kind.group}/${n.kind.kind}`, n.kind])).values(),
];

/**
 * Lists every kind of a plan in the namespace of one cluster, at most 8 kinds at a time, and calls
 * `each` for every object listed. Returns the errors (with `failFast`, no kind starts after one).
 */
async function listPlanKinds(
  api: Api,
  plan: Plan,
  options: {
    namespace: string;
    where: 'source' | 'target';
    concurrency: number;
    failFast: boolean;
    signal?: AbortSignal | undefined;
  },
  each: (kind: Kind, object: Obj) => void,
): Promise<unknown[]> {
  const { namespace, where, signal } = options;
  return pool(
    kindsOf(plan),
    Math.min(options.concurrency, 8),
    async (kind) => {
      const items = await api.list(
        collectionPath(kind, namespace),
        apiVersionOf(kind),
        kind.kind,
        `listing ${kind.kind} in ${namespace} in the ${where} cluster`,
        signal,
      );
      for (const o of items) each(kind, o);
    },
    { failFast: options.failFast },
  );
}

// ---------------------------------------------------------------------------------------------------
// The move.

const CREATE_STEP = 'Creating objects in the target cluster';
const DELETE_STEP = 'Deleting objects from the source cluster';

interface Context {
  k: KubeModule;
  source: Api;
  namespace: string;
  name: string;
  emit: EventSink;
  signal: AbortSignal | undefined;
  concurrency: number;
}

async function discover(ctx: Context): Promise<Plan> {
  const { source, namespace, name, signal, concurrency } = ctx;
  const crds = (await source.list(
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    'listing the CustomResourceDefinitions of the source cluster',
    signal,
  )) as unknown as Crd[];
  const kinds = [...capiKinds(crds), ...CORE_KINDS];
  const listed: Array<{ obj: Obj; kind: Kind }> = [];
  const errors = await pool(
    kinds,
    Math.min(concurrency, 8),
    async (kind) => {
      const items = await source.list(
        collectionPath(kind, namespace),
        apiVersionOf(kind),
        kind.kind,
        `listing ${kind.kind} in ${namespace} in the source cluster`,
        signal,
      );
      for (const obj of items) listed.push({ obj, kind });
    },
    { failFast: true },
  );
  if (errors.length > 0) throw errors[0];
  return planMove(listed, namespace, name);
}

/**
 * Moves Cluster `namespace/name`, with its whole Cluster API object graph, from one management
 * cluster to another, as `clusterctl move` does (upstream ocne runs it for self-managed clusters
 * inside the waiter `Migrating Cluster API resources`).
 *
 * The graph: the Cluster, every object it owns through owner references (transitively), every
 * object labelled `cluster.x-k8s.io/cluster-name=<name>` (and what those own), and the Secrets
 * named `<name>-kubeconfig`, `<name>-ca`, `-etcd`, `-proxy`, `-sa` without owner references. Kinds
 * are listed from the source's CustomResourceDefinitions of the `*.cluster.x-k8s.io` groups (and
 * those labelled for clusterctl), plus Secrets and ConfigMaps. Objects of other Clusters in the
 * namespace are left alone (upstream moves every Cluster of the namespace at once; call this once
 * per Cluster); an object belonging to two Clusters is a conflict.
 *
 * Steps:
 * 1. Wait until the cluster is ready to move (clusterctl's checks: infrastructure provisioned,
 * control plane initialized and ready, every Machine has a node), checking every
 * `retryIntervalMs` for at most `timeoutMs`, with a log event per attempt. Check the target: a
 * different cluster, one that serves every kind of the graph, and has no unpaused copy of the Cluster.
 * 2. Pause the Cluster (`spec.paused: true`), list the graph again, and wait while an object has
 * clusterctl's block-move annotation.
 * 3. Create the graph in the target, move group by move group (owners first), up to `concurrency`
 * objects at once: owner references point at the new UIDs, the status is written through the
 * status subresource (clusterctl leaves it to the controllers to rebuild), and the source's
 * managed fields are restored (as clusterctl does). The Cluster arrives paused.
 * 4. The point of no return: delete the graph from the source, owned objects first (with
 * clusterctl's delete-for-move annotation; finalizers are removed), and wait until it is gone.
 * 5. Unpause the Cluster in the target (as clusterctl does, even when it was paused in the
 * source before the move).
 *
 * Any failure or cancellation before step 4 rolls back: the source Cluster gets its `paused`
 * value back and what the move created in the target is deleted (the error's `state` says whether
 * that worked). From step 4 on, finishing forward is the recovery: the signal is no longer
 * honoured, and a failure there is `OCNE_CAPI_MOVE_INCOMPLETE`, after which the same move run
 * again completes (objects the target already has are updated, a paused Cluster there is accepted).
 *
 * Events: the step `Migrating Cluster API resources` (for a dry run, the step
 * `Discovering Cluster API objects`), log events, and progress events counting the objects
 * created and deleted.
 */
export async function moveCluster(options: MoveClusterOptions): Promise<MoveResult> {
  const started = performance.now();
  const { namespace, name, signal } = options;
  const sink = options.emit;
  const emit: EventSink = (event) => {
    try {
      sink?.(event);
    } catch {
      // A listener's failure must not break a move half-way.
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
  const k = await import('@ocne/kubernetes');
  const open = async (kube: KubeClient | string) =>
    typeof kube === 'string' ? k.connect({ kubeconfigPath: kube, ...(signal ? { signal } : {}) }) : kube;
  const rest = { maxSockets: concurrency + 4, fieldManager: FIELD_MANAGER };
  const source: Api = (await open(options.from)).rest(rest);
  try {
    const ctx: Context = { k, source, namespace, name, emit, signal, concurrency };
    if (options.dryRun) {
      return await runStep(emit, 'Discovering Cluster API objects', async () => {
        const plan = await discover(ctx);
        return {
          ...summary(plan, namespace, name, true),
          notReady: [...provisioningProblems(plan), ...blockMoveProblems(plan)],
          attempts: 1,
          durationMs: performance.now() - started,
        };
      });
    }
    if (options.to === undefined) {
      throw new CapiMoveError(CapiMoveErrorCode.Conflict, 'moveCluster needs a target cluster (`to`)');
    }
    const target: Api = (await open(options.to)).rest(rest);
    try {
      return await runStep(emit, CAPI_MOVE_STEP, async () => {
        const mover = new Mover(ctx, target, options);
        const result = await mover.run();
        return { ...result, durationMs: performance.now() - started };
      });
    } finally {
      target.close();
    }
  } finally {
    source.close();
  }
}

function summary(
  plan: Plan,
  namespace: string,
  name: string,
  dryRun: boolean,
): Omit<MoveResult, 'notReady' | 'attempts' | 'durationMs'> {
  return {
    namespace,
    name,
    dryRun,
    objects: describePlan(plan),
    groups: plan.groups.length,
    counts: countKinds(plan),
    created: 0,
    updated: 0,
    deleted: 0,
  };
}

/** One move, with what it changed so far (for the rollback). */
class Mover {
  readonly #ctx: Context;
  readonly #target: Api;
  readonly #options: MoveClusterOptions;
  /** Set once the pause request was sent: the Cluster's path and the value `spec.paused` had. */
  #pausedFrom: { path: string; value: unknown } | undefined;
  /** The namespace did not exist in the target and its creation was requested. */
  /** Target objects that existed before the move (left by an interrupted move), by key. */
  #existing = new Map<string, Obj>();
  /** Objects whose create was requested in the target, with their new UID once known. */
  #attempted = new Map<GraphNode, string | undefined>();
  /** UIDs in the target of every object written there (created or updated). */
  #newUids = new Map<GraphNode, string>();
  /** The plan being created, once creation began. */
  #plan: Plan | undefined;
  #targetCrds: Crd[] | undefined;
  #created = 0;
  #updated = 0;

  constructor(ctx: Context, target: Api, options: MoveClusterOptions) {
    this.#ctx = ctx;
    this.#target = target;
    this.#options = options;
  }

  #log(message: string, level: 'info' | 'warn' = 'info'): void {
    this.#ctx.emit({ type: 'log', level, message });
  }

  async run(): Promise<Omit<MoveResult, 'durationMs'>> {
    const { namespace, name, signal } = this.#ctx;
    const finished = await this.#finishEarlierMove();
    if (finished !== undefined) return finished;
    let plan: Plan;
    let attempts = 0;
    try {
      await this.#checkDistinct();
      ({ plan, attempts } = await this.#waitReadyAndPause());
      await this.#checkTarget(plan);
      for (const object of describePlan(plan)) {
        for (const owner of object.droppedOwners) {
          this.#ctx.emit({
            type: 'warning',
            code: 'OCNE_CAPI_MOVE_OWNER_DROPPED',
            message: `${describe(object)} is owned by ${owner.kind} ${owner.name}, which is not part of the move: the copy in the target cluster will not have that owner reference`,
          });
        }
      }
      await this.#createAll(plan);
    } catch (error) {
      throw await this.#rollback(error);
    }
    // The point of no return: from here on, finishing forward is the recovery.
    if (signal?.aborted) this.#log('Cancellation requested after the point of no return: finishing the move');
    const deleted = await this.#deleteSource(plan);
    await this.#unpauseTarget(plan.cluster);
    this.#log(`Moved Cluster ${namespace}/${name}: ${plan.nodes.length} objects`);
    return {
      ...summary(plan, namespace, name, false),
      created: this.#created,
      updated: this.#updated,
      deleted,
      notReady: [],
      attempts,
    };
  }

  /** The source and the target must be different clusters (else the deletion would remove the only copy). */
  async #checkDistinct(): Promise<void> {
    const { source, signal } = this.#ctx;
    const id = async (api: Api, which: string) =>
      (
        await api.call('GET', '/api/v1/namespaces/kube-system', {
          doing: `reading namespace kube-system of the ${which} cluster`,
          signal,
          allowNotFound: true,
        })
      )?.metadata.uid ?? api.kube.server;
    const [from, to] = await Promise.all([id(source, 'source'), id(this.#target, 'target')]);
    if (from === to) {
      throw new CapiMoveError(
        CapiMoveErrorCode.Conflict,
        `the source and the target are the same cluster (${source.kube.server}): nothing to move`,
      );
    }
  }

  /** Discovers, checks, pauses, discovers again; retries while clusterctl would say `cannot start the move operation`. */
  async #waitReadyAndPause(): Promise<{ plan: Plan; attempts: number }> {
    const { signal, namespace, name } = this.#ctx;
    const timeoutMs = this.#options.timeoutMs ?? 1_800_000;
    const interval = this.#options.retryIntervalMs ?? 3000;
    const deadline = performance.now() + timeoutMs;
    this.#log(`Discovering Cluster API objects of Cluster ${namespace}/${name}`);
    for (let attempts = 1; ; attempts++) {
      signal?.throwIfAborted();
      let plan = await discover(this.#ctx);
      let problems = provisioningProblems(plan);
      if (problems.length === 0) {
        await this.#checkTarget(plan);
        if (this.#pausedFrom === undefined && !isPaused(plan.cluster.obj)) await this.#pause(plan);
        plan = await discover(this.#ctx);
        const provisioning = provisioningProblems(plan);
        problems = [...provisioning, ...blockMoveProblems(plan)];
        if (problems.length === 0) return { plan, attempts };
        // Still provisioning (a Machine appeared meanwhile): let the controllers work again.
        if (provisioning.length > 0) await this.#unpauseSource();
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new CapiMoveError(
          CapiMoveErrorCode.NotReady,
          `Cluster ${namespace}/${name} was not ready to move after ${timeoutMs} ms (${attempts} checks): ${problems.join('; ')}`,
        );
      }
      const every = interval % 1000 === 0 ? `${interval / 1000} s` : `${interval} ms`;
      this.#log(`${problems.join('; ')}: checking again in ${every}`);
      await sleep(Math.min(interval, left), signal);
    }
  }

  async #pause(plan: Plan): Promise<void> {
    const { source, signal } = this.#ctx;
    const c = plan.cluster;
    this.#log(`Pausing Cluster ${c.obj.metadata.namespace}/${c.obj.metadata.name} in the source cluster`);
    const path = objectPath(c.kind, c.obj.metadata.namespace ?? '', c.obj.metadata.name);
    this.#pausedFrom = { path, value: (c.obj.spec as { paused?: unknown } | undefined)?.paused ?? null };
    await source.call('PATCH', path, {
      merge: true,
      body: { spec: { paused: true } },
      doing: `pausing Cluster ${c.obj.metadata.namespace}/${c.obj.metadata.name}`,
      signal,
    });
  }

  /** Gives `spec.paused` back the value it had before the move. */
  async #unpauseSource(): Promise<void> {
    const { source, namespace, name } = this.#ctx;
    const from = this.#pausedFrom;
    if (from === undefined) return;
    await source.call('PATCH', from.path, {
      merge: true,
      body: { spec: { paused: from.value } },
      doing: `unpausing Cluster ${namespace}/${name} in the source cluster`,
      allowNotFound: true,
    });
    this.#pausedFrom = undefined;
  }

  /** The target serves every kind of the graph and has no unpaused copy of the Cluster. */
  async #checkTarget(plan: Plan): Promise<void> {
    const { signal, namespace, name } = this.#ctx;
    this.#targetCrds ??= (await this.#target.list(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      'listing the CustomResourceDefinitions of the target cluster',
      signal,
    )) as unknown as Crd[];
    const missing = kindsOf(plan).filter((kind) => {
      if (kind.group === '') return false;
      const crd = this.#targetCrds?.find(
        (c) => c.spec.group === kind.group && c.spec.names.kind === kind.kind,
      );
      const established = crd?.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      return !established || !crd?.spec.versions.some((v) => v.name === kind.version && v.served);
    });
    if (missing.length > 0) {
      throw new CapiMoveError(
        CapiMoveErrorCode.Conflict,
        `the target cluster cannot store ${missing.map((m) => `${m.kind} (${apiVersionOf(m)})`).join(', ')}: install the same Cluster API providers there first`,
        { object: refOf(plan.nodes.find((n) => n.kind === missing[0])!) },
      );
    }
    const existing = await this.#target.call('GET', objectPath(plan.cluster.kind, namespace, name), {
      doing: `reading Cluster ${namespace}/${name} in the target cluster`,
      signal,
      allowNotFound: true,
    });
    if (existing && !isPaused(existing)) {
      throw new CapiMoveError(
        CapiMoveErrorCode.Conflict,
        `Cluster ${namespace}/${name} already exists in the target cluster and is not paused: it is managed there already`,
        { object: refOf(plan.cluster) },
      );
    }
  }

  async #createAll(plan: Plan): Promise<void> {
    const { namespace, signal, concurrency, emit, k } = this.#ctx;
    const target = this.#target;
    this.#plan = plan;
    const namespaceExists = await target.call('GET', `/api/v1/namespaces/${namespace}`, {
      doing: `reading namespace ${namespace} in the target cluster`,
      signal,
      allowNotFound: true,
    });
    if (namespaceExists === undefined) {
      await target.call('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        doing: `creating namespace ${namespace} in the target cluster`,
        signal,
      });
    } else {
      // What the target has already (an interrupted move) is updated, not created, and a rollback keeps it.
      const errors = await listPlanKinds(
        target,
        plan,
        { namespace, where: 'target', concurrency, failFast: true, signal },
        (kind, o) => this.#existing.set(`${kind.group}/${kind.kind}/${o.metadata.name}`, o),
      );
      if (errors.length > 0) throw errors[0];
    }
    const total = plan.nodes.length;
    let done = 0;
    this.#log(`Creating ${total} objects in the target cluster (${plan.groups.length} move groups)`);
    emit({ type: 'progress', step: CREATE_STEP, transferredBytes: 0, totalBytes: total });
    for (const group of plan.groups) {
      const errors = await pool(
        group,
        concurrency,
        async (node) => {
          await this.#createOne(node, k);
          done++;
          emit({ type: 'progress', step: CREATE_STEP, transferredBytes: done, totalBytes: total });
        },
        { failFast: true, stop: () => signal?.aborted === true },
      );
      signal?.throwIfAborted();
      if (errors.length > 0) throw errors[0];
    }
  }

  /** The object as the target gets it: server-set fields removed, owner references pointing at the new UIDs. */
  #prepare(node: GraphNode): Obj {
    const obj = structuredClone(node.obj);
    const m = obj.metadata;
    for (const field of [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'generation',
      'managedFields',
      'selfLink',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
    ]) {
      delete m[field];
    }
    if (m.name && m.generateName !== undefined) delete m.generateName;
    if (m.annotations?.[DELETE_FOR_MOVE] !== undefined) {
      delete m.annotations[DELETE_FOR_MOVE];
      if (Object.keys(m.annotations).length === 0) delete m.annotations;
    }
    const refs = node.owners.flatMap(({ ref, node: owner }) => {
      const uid = owner === undefined ? undefined : this.#newUids.get(owner);
      // The owner's version as the cluster stores it (a reference may name an older one), as clusterctl does.
      return uid === undefined || owner === undefined
        ? []
        : [{ ...ref, apiVersion: apiVersionOf(owner.kind), uid }];
    });
    if (refs.length > 0) m.ownerReferences = refs;
    else delete m.ownerReferences;
    return obj;
  }

  async #createOne(node: GraphNode, k: KubeModule): Promise<void> {
    const { namespace, signal } = this.#ctx;
    const target = this.#target;
    const what = describe({ kind: node.kind.kind, namespace, name: node.obj.metadata.name });
    const path = objectPath(node.kind, namespace, node.obj.metadata.name);
    const body = this.#prepare(node);
    const existing = this.#existing.get(`${node.kind.group}/${node.kind.kind}/${node.obj.metadata.name}`);
    let written: Obj | undefined;
    try {
      if (existing) {
        body.metadata.resourceVersion = existing.metadata.resourceVersion ?? '';
        body.metadata.uid = existing.metadata.uid ?? '';
        written = await target.call('PUT', path, {
          body,
          doing: `updating ${what} in the target cluster`,
          signal,
        });
        this.#updated++;
      } else {
        this.#attempted.set(node, undefined);
        try {
          written = await target.call('POST', collectionPath(node.kind, namespace), {
            body,
            doing: `creating ${what} in the target cluster`,
            signal,
          });
        } catch (error) {
          // Created meanwhile: by a retried request of ours (its first answer was lost), since the
          // target did not have it when the creation began.
          if (!k.hasReason(error, 'AlreadyExists')) throw error;
          written = await target.call('GET', path, {
            doing: `reading ${what} in the target cluster`,
            signal,
          });
        }
        this.#created++;
      }
      const uid = written?.metadata.uid;
      if (uid === undefined) throw new Error(`the API server answered without the object's UID`);
      if (!existing) this.#attempted.set(node, uid);
      this.#newUids.set(node, uid);
      const status = withoutObservedGenerations(node.obj.status);
      if (node.kind.status && status !== undefined && status !== null && Object.keys(status).length > 0) {
        await target.call('PATCH', `${path}/status`, {
          merge: true,
          body: { status },
          doing: `writing the status of ${what} in the target cluster`,
          signal,
        });
      }
      const managedFields = node.obj.metadata.managedFields;
      if (managedFields !== undefined && managedFields.length > 0) {
        await target.call('PATCH', path, {
          merge: true,
          body: { metadata: { managedFields } },
          doing: `restoring the managed fields of ${what} in the target cluster`,
          signal,
        });
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new CapiMoveError(
        CapiMoveErrorCode.Failed,
        `moving Cluster ${namespace}/${this.#ctx.name}: ${(error as Error).message}`,
        {
          cause: error,
          object: refOf(node),
        },
      );
    }
  }

  /**
   * Deletes an object of the graph, as clusterctl does but in fewer requests: one patch adds the
   * delete-for-move annotation (which tells CAPI controllers and webhooks that this is no real
   * deletion; Secrets and ConfigMaps have no reader of it and skip it) and removes the finalizers,
   * so that the delete (for that UID only) is immediate. Should a controller put a finalizer back
   * meanwhile, the delete's answer shows it and it is removed again. False when the object was
   * gone already (or another object has its name now).
   */
  async #forceDelete(api: Api, node: GraphNode, uid: string | undefined, where: string): Promise<boolean> {
    const { namespace } = this.#ctx;
    const name = node.obj.metadata.name;
    const path = objectPath(node.kind, namespace, name);
    const what = `${describe({ kind: node.kind.kind, namespace, name })} in the ${where} cluster`;
    const hasReason = this.#ctx.k.hasReason;
    // With the UID in a patch, the server refuses (Conflict) an object of that name that is not ours.
    const patch = (metadata: Record<string, unknown>, doing: string) =>
      api
        .call('PATCH', path, {
          merge: true,
          body: { metadata: { ...metadata, ...(uid !== undefined ? { uid } : {}) } },
          doing,
          allowNotFound: true,
        })
        .catch((error: unknown) => {
          if (uid !== undefined && hasReason(error, 'Conflict')) return undefined;
          throw error;
        });
    const annotate = node.kind.group !== '';
    const finalizers = (node.obj.metadata.finalizers?.length ?? 0) > 0;
    if (annotate || finalizers) {
      const patched = await patch(
        {
          ...(annotate ? { annotations: { [DELETE_FOR_MOVE]: '' } } : {}),
          ...(finalizers ? { finalizers: null } : {}),
        },
        `${annotate ? 'annotating' : 'removing the finalizers of'} ${what}${annotate ? ' for deletion' : ''}`,
      );
      if (patched === undefined) return false;
    }
    let deleted: Obj | undefined;
    try {
      deleted = await api.call('DELETE', path, {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          ...(uid !== undefined ? { preconditions: { uid } } : {}),
        },
        doing: `deleting ${what}`,
        allowNotFound: true,
      });
    } catch (error) {
      // A precondition failure: another object of that name now; ours is gone.
      if (hasReason(error, 'Conflict')) return false;
      throw error;
    }
    if (deleted === undefined) return false;
    if (deleted.kind !== 'Status' && (deleted.metadata?.finalizers?.length ?? 0) > 0) {
      await patch({ finalizers: null }, `removing the finalizers of ${what}`);
    }
    return true;
  }

  /** Deletes the graph from the source, owned objects first, and waits until it is gone. */
  async #deleteSource(plan: Plan): Promise<number> {
    const { source, namespace, name, concurrency, emit } = this.#ctx;
    const total = plan.nodes.length;
    let done = 0;
    let deleted = 0;
    this.#log(`Deleting ${total} objects from the source cluster`);
    emit({ type: 'progress', step: DELETE_STEP, transferredBytes: 0, totalBytes: total });
    /** The object each failure concerns. */
    const failedOn = new Map<unknown, GraphNode>();
    const fail = (errors: readonly unknown[], what: string) => {
      const node = failedOn.get(errors[0]);
      return new CapiMoveError(
        CapiMoveErrorCode.Incomplete,
        `moving Cluster ${namespace}/${name}: ${what}: ${(errors[0] as Error).message}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''}; the target cluster has the whole graph, with the Cluster paused: run the same move again to finish it`,
        {
          cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
          state: 'incomplete',
          ...(node ? { object: refOf(node) } : {}),
        },
      );
    };
    for (const group of [...plan.groups].reverse()) {
      const errors = await pool(
        group,
        concurrency,
        async (node) => {
          try {
            if (await this.#forceDelete(source, node, node.uid, 'source')) deleted++;
          } catch (error) {
            failedOn.set(error, node);
            throw error;
          }
          done++;
          emit({ type: 'progress', step: DELETE_STEP, transferredBytes: done, totalBytes: total });
        },
        { failFast: false },
      );
      if (errors.length > 0) throw fail(errors, 'deleting the graph from the source cluster failed');
    }
    // Gone? Finalizers were removed, so it is at once, unless a controller put one back.
    const left: GraphNode[] = [];
    const uids = new Set(plan.nodes.map((n) => n.uid));
    const listErrors = await listPlanKinds(
      source,
      plan,
      { namespace, where: 'source', concurrency, failFast: false },
      (_kind, o) => {
        if (uids.has(o.metadata.uid ?? '')) left.push(plan.nodes.find((n) => n.uid === o.metadata.uid)!);
      },
    );
    if (listErrors.length > 0) throw fail(listErrors, 'checking the deletion from the source cluster failed');
    const waitErrors = await pool(
      left,
      concurrency,
      async (node) => {
        await source.kube.waitFor(
          {
            apiVersion: apiVersionOf(node.kind),
            kind: node.kind.kind,
            namespace,
            name: node.obj.metadata.name,
          },
          (objects) => objects.every((o) => o.metadata?.uid !== node.uid),
          {
            timeoutMs: this.#options.deleteTimeoutMs ?? 120_000,
            description: `Waiting for the deletion of ${describe({ kind: node.kind.kind, namespace, name: node.obj.metadata.name })}`,
          },
        );
      },
      { failFast: false },
    );
    if (waitErrors.length > 0) throw fail(waitErrors, 'the graph did not go from the source cluster');
    return deleted;
  }

  async #unpauseTarget(cluster: GraphNode): Promise<void> {
    const { namespace, name } = this.#ctx;
    this.#log(`Resuming Cluster ${namespace}/${name} in the target cluster`);
    try {
      await this.#target.call('PATCH', objectPath(cluster.kind, namespace, name), {
        merge: true,
        body: { spec: { paused: null } },
        doing: `unpausing Cluster ${namespace}/${name} in the target cluster`,
      });
    } catch (error) {
      throw new CapiMoveError(
        CapiMoveErrorCode.Incomplete,
        `moving Cluster ${namespace}/${name}: ${(error as Error).message}; the graph is in the target cluster but the Cluster is still paused there: run the same move again to finish it`,
        { cause: error, state: 'incomplete', object: refOf(cluster) },
      );
    }
  }

  /**
   * An earlier move that failed after deleting the source's Cluster (the last object deleted)
   * left the Cluster paused in the target: with the Cluster gone from the source and paused in
   * the target, rerunning the move only unpauses it there. `undefined` otherwise.
   */
  async #finishEarlierMove(): Promise<Omit<MoveResult, 'durationMs'> | undefined> {
    const { source, namespace, name, signal } = this.#ctx;
    const path = objectPath(CLUSTER_KIND, namespace, name);
    const doing = (where: string) => ({
      doing: `reading Cluster ${namespace}/${name} in the ${where} cluster`,
      signal,
      allowNotFound: true,
    });
    if ((await source.call('GET', path, doing('source'))) !== undefined) return undefined;
    const target = await this.#target.call('GET', path, doing('target'));
    if (target === undefined || !isPaused(target)) return undefined;
    this.#log(
      `Cluster ${namespace}/${name} is gone from the source and paused in the target: finishing an earlier move`,
    );
    await this.#unpauseTarget({
      obj: target,
      kind: CLUSTER_KIND,
      uid: target.metadata.uid ?? '',
      owners: [],
      softOwners: [],
    });
    return {
      namespace,
      name,
      dryRun: false,
      objects: [],
      groups: 0,
      counts: {},
      created: 0,
      updated: 0,
      deleted: 0,
      notReady: [],
      attempts: 0,
    };
  }

  /** Undoes what the move changed, and says so in the error it returns. */
  async #rollback(error: unknown): Promise<CapiMoveError> {
    const { namespace, name, signal, concurrency } = this.#ctx;
    const cancelled =
      signal?.aborted === true && !(error instanceof CapiMoveError && error.code !== 'OCNE_CANCELLED');
    const base =
      error instanceof CapiMoveError && !cancelled
        ? error
        : cancelled
          ? new CapiMoveError(CapiMoveErrorCode.Cancelled, `moving Cluster ${namespace}/${name}: cancelled`, {
              cause: signal?.reason ?? error,
              ...(error instanceof CapiMoveError && error.object ? { object: error.object } : {}),
            })
          : new CapiMoveError(
              CapiMoveErrorCode.Failed,
              `moving Cluster ${namespace}/${name}: ${isOcneError(error) || error instanceof Error ? error.message : String(error)}`,
              { cause: error },
            );
    const created = [...this.#attempted.entries()];
    const paused = this.#pausedFrom !== undefined;
    if (!paused && created.length === 0) return base;
    this.#log(`Rolling back the move of Cluster ${namespace}/${name}: ${base.message}`, 'warn');
    const errors: unknown[] = [];
    // The source first: it must be usable again whatever happens to the target.
    await this.#unpauseSource().catch((e: unknown) => errors.push(e));
    // Then what was created in the target, owned objects first.
    const groupOf = this.#plan?.groupOf ?? new Map<GraphNode, number>();
    const byGroup = new Map<number, Array<[GraphNode, string | undefined]>>();
    for (const entry of created) {
      const group = groupOf.get(entry[0]) ?? 0;
      const list = byGroup.get(group);
      if (list === undefined) byGroup.set(group, [entry]);
      else list.push(entry);
    }
    let cleaned = 0;
    for (const group of [...byGroup.keys()].sort((a, b) => b - a)) {
      errors.push(
        ...(await pool(
          byGroup.get(group) ?? [],
          concurrency,
          async ([node, uid]) => {
            if (await this.#forceDelete(this.#target, node, uid, 'target')) cleaned++;
          },
          { failFast: false },
        )),
      );
    }
    // The namespace stays, even when this move created it: another move (of another Cluster in
    // the same namespace) may be using it, and deleting a namespace deletes everything in it.
    const undone = [
      ...(paused ? ['the source Cluster was unpaused'] : []),
      `the ${cleaned} objects created in the target were deleted`,
    ].join(', ');
    const message =
      errors.length === 0
        ? `${base.message}; rolled back: ${undone}`
        : `${base.message}; the rollback failed: ${(errors[0] as Error).message}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''}`;
    return new CapiMoveError(base.code as CapiMoveErrorCode, message, {
      cause: base.cause ?? error,
      ...(base.object ? { object: base.object } : {}),
      state: errors.length === 0 ? 'rolled-back' : 'rollback-failed',
      rollbackErrors: errors,
    });
  }
}
