/**
 * The pure half of {@link moveCluster}: from what discovery listed (CustomResourceDefinitions and
 * the objects of a namespace) to the move plan: which kinds are listed, which objects belong to
 * the Cluster, their move groups (owners before what they own), what each object looks like in
 * the target (owner references pointing at the new UIDs), and the checks that decide whether the
 * cluster is ready to move. Data in, data out: no requests, no clock, no events.
 */
import { CLUSTER_NAME_LABEL, type OwnerReference } from '../objects.js';
import { CapiMoveError } from './errors.js';

/** One object of a move, by kind, namespace and name. */
export interface MoveObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
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

// ---------------------------------------------------------------------------------------------------
// Constants of Cluster API and clusterctl.

const CAPI_GROUP = 'cluster.x-k8s.io';
const CLUSTERCTL_LABEL = 'clusterctl.cluster.x-k8s.io';
/** Tells CAPI controllers and webhooks that a deletion is a move, not a real deletion. */
export const DELETE_FOR_MOVE = 'clusterctl.cluster.x-k8s.io/delete-for-move';
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

/** The metadata of a listed object, as far as the move reads it. */
export interface Metadata {
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

/** A listed object. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  [key: string]: unknown;
}

/** A kind the move lists, at the version the source stores it. */
export interface Kind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** Has a status subresource (the status is written separately after a create). */
  status: boolean;
}

/** A CustomResourceDefinition, as far as the move reads it. */
export interface Crd {
  metadata: Metadata;
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: Array<{ name: string; served: boolean; storage: boolean; subresources?: { status?: unknown } }>;
  };
  status?: { conditions?: Array<{ type: string; status: string }> };
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
export const CLUSTER_KIND: Kind = {
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

/** `group/version`, or `version` for the core group. */
export const apiVersionOf = (k: Kind): string => (k.group === '' ? k.version : `${k.group}/${k.version}`);
/** The URL path of a kind's collection in a namespace. */
export const collectionPath = (k: Kind, namespace: string): string =>
  `${k.group === '' ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`}/namespaces/${namespace}/${k.plural}`;
/** The URL path of one object. */
export const objectPath = (k: Kind, namespace: string, name: string): string =>
  `${collectionPath(k, namespace)}/${encodeURIComponent(name)}`;
/** `Kind namespace/name`, for messages. */
export const describe = (o: { kind: string; namespace?: string; name: string }): string =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/**
 * The kinds a move lists, at their storage version: the namespaced kinds of Cluster API (the
 * `*.cluster.x-k8s.io` groups and CRDs labelled for clusterctl), then Secrets and ConfigMaps.
 */
export function moveKinds(crds: readonly Crd[]): Kind[] {
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
  kinds.sort((a, b) => `${a.group}/${a.kind}`.localeCompare(`${b.group}/${b.kind}`));
  return [...kinds, ...CORE_KINDS];
}

// ---------------------------------------------------------------------------------------------------
// The graph.

/** One object of the namespace, with its owners among the listed objects. */
export interface GraphNode {
  obj: Obj;
  kind: Kind;
  /** Its UID in the source. */
  uid: string;
  /** Owner references, each with the listed object it names (`undefined`: not listed). */
  owners: Array<{ ref: OwnerReference; node: GraphNode | undefined }>;
  softOwners: GraphNode[];
}

/** A move, planned: the graph of one Cluster in creation order. */
export interface Plan {
  cluster: GraphNode;
  /** The move groups, in creation order; each sorted by kind and name. */
  groups: GraphNode[][];
  /** Every object of the move, in creation order. */
  nodes: GraphNode[];
  moved: Set<GraphNode>;
  groupOf: Map<GraphNode, number>;
}

const isKind = (n: GraphNode, group: string, kind: string) => n.kind.group === group && n.kind.kind === kind;
const describeNode = (n: GraphNode) => describe({ ...n.obj.metadata, kind: n.kind.kind });

/**
 * Plans the move of Cluster `namespace/name` from every listed object of its namespace: the
 * Cluster, what it owns (owner references, transitively), what carries its
 * `cluster.x-k8s.io/cluster-name` label (and what they own), and the Secrets named after it
 * without owner references; then the move groups (owners before what they own).
 *
 * @throws {@link CapiMoveError} `OCNE_CAPI_MOVE_NOT_FOUND` without that Cluster,
 * `OCNE_CAPI_MOVE_UNSUPPORTED` for a Cluster with a managed topology, `OCNE_CAPI_MOVE_CONFLICT`
 * when objects belong to two Clusters or owner references form a cycle.
 */
export function planMove(
  listed: ReadonlyArray<{ obj: Obj; kind: Kind }>,
  namespace: string,
  name: string,
): Plan {
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
      'OCNE_CAPI_MOVE_NOT_FOUND',
      `Cluster ${namespace}/${name} does not exist in the source management cluster`,
    );
  }
  if ((cluster.obj.spec as { topology?: unknown } | undefined)?.topology !== undefined) {
    throw new CapiMoveError(
      'OCNE_CAPI_MOVE_UNSUPPORTED',
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
      const some = shared.slice(0, 5).map(describeNode);
      const more = shared.length > 5 ? ` and ${shared.length - 5} more` : '';
      throw new CapiMoveError(
        'OCNE_CAPI_MOVE_CONFLICT',
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
        'OCNE_CAPI_MOVE_CONFLICT',
        `the owner references of ${remaining.slice(0, 5).map(describeNode).join(', ')} form a cycle`,
      );
    }
    for (const n of group) groupOf.set(n, groups.length);
    groups.push(group);
    remaining = remaining.filter((n) => !groupOf.has(n));
  }
  return { cluster, groups, nodes: groups.flat(), moved, groupOf };
}

/** An object of the graph, by kind, namespace and name (the apiVersion its kind is listed at). */
export const refOf = (n: GraphNode): MoveObjectRef => ({
  apiVersion: apiVersionOf(n.kind),
  kind: n.kind.kind,
  namespace: n.obj.metadata.namespace ?? '',
  name: n.obj.metadata.name,
});

/** The plan's objects as the result reports them, in creation order, with owners kept and dropped. */
export function describePlan(plan: Plan): MoveObject[] {
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

/** What a move result says about its plan. */
export interface PlanSummary {
  /** The graph, in creation order. */
  objects: MoveObject[];
  /** How many move groups the graph has. */
  groups: number;
  /** Objects per kind. */
  counts: Record<string, number>;
}

/** The plan as a move result reports it. */
export function summarize(plan: Plan): PlanSummary {
  const counts: Record<string, number> = {};
  for (const n of plan.nodes) counts[n.kind.kind] = (counts[n.kind.kind] ?? 0) + 1;
  return { objects: describePlan(plan), groups: plan.groups.length, counts };
}

/** The distinct kinds of a plan's objects. */
export const kindsOf = (plan: Plan): Kind[] => [
  ...new Map(plan.nodes.map((n) => [`${n.kind.group}/${n.kind.kind}`, n.kind])).values(),
];

/**
 * Groups some objects of a plan (or entries naming them) for deletion: one array per move group,
 * the last group first, so that owned objects go before their owners.
 */
export function deletionGroups<T>(plan: Plan, entries: readonly T[], nodeOf: (entry: T) => GraphNode): T[][] {
  const byGroup = new Map<number, T[]>();
  for (const entry of entries) {
    const group = plan.groupOf.get(nodeOf(entry)) ?? 0;
    const list = byGroup.get(group);
    if (list === undefined) byGroup.set(group, [entry]);
    else list.push(entry);
  }
  return [...byGroup.keys()].sort((a, b) => b - a).map((group) => byGroup.get(group) ?? []);
}

// ---------------------------------------------------------------------------------------------------
// Readiness.

interface Condition {
  type?: string;
  status?: string;
}

/**
 * clusterctl's `checkProvisioningCompleted`: the Cluster's infrastructure is provisioned, its
 * control plane initialized (and ready, when it has a control plane reference), and every Machine
 * has a node. Reads CAPI v1beta1 and v1beta2 status shapes. Empty when ready.
 */
export function provisioningProblems(plan: Plan): string[] {
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
export function blockMoveProblems(plan: Plan): string[] {
  return plan.nodes
    .filter((n) => n.obj.metadata.annotations?.[BLOCK_MOVE] !== undefined)
    .map((n) => `cannot start the move operation while ${describeNode(n)} has the ${BLOCK_MOVE} annotation`);
}

/** Whether a Cluster has `spec.paused: true`. */
export const isPaused = (o: Obj): boolean => (o.spec as { paused?: unknown } | undefined)?.paused === true;

/** The kinds of the plan the target cannot store: no established CRD serving that version. */
export function missingKinds(plan: Plan, targetCrds: readonly Crd[]): Kind[] {
  return kindsOf(plan).filter((kind) => {
    if (kind.group === '') return false;
    const crd = targetCrds.find((c) => c.spec.group === kind.group && c.spec.names.kind === kind.kind);
    const established = crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    return !established || !crd?.spec.versions.some((v) => v.name === kind.version && v.served);
  });
}

// ---------------------------------------------------------------------------------------------------
// The copy in the target.

/** Metadata the API server sets; the copy in the target gets its own. */
const SERVER_SET_METADATA: readonly string[] = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/**
 * The object as the target gets it: server-set metadata and clusterctl's delete-for-move
 * annotation removed, owner references pointing at the owners' UIDs in the target
 * (`targetUids`), at the version the cluster stores the owner (a reference may name an older
 * one), as clusterctl does. References to owners without a UID there yet (not part of the move)
 * are dropped. The status is kept (it is written through the status subresource afterwards).
 */
export function targetObject(node: GraphNode, targetUids: ReadonlyMap<GraphNode, string>): Obj {
  const obj = structuredClone(node.obj);
  const m = obj.metadata;
  for (const field of SERVER_SET_METADATA) delete m[field];
  if (m.name && m.generateName !== undefined) delete m.generateName;
  if (m.annotations?.[DELETE_FOR_MOVE] !== undefined) {
    delete m.annotations[DELETE_FOR_MOVE];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  const refs = node.owners.flatMap(({ ref, node: owner }) => {
    const uid = owner === undefined ? undefined : targetUids.get(owner);
    return uid === undefined || owner === undefined
      ? []
      : [{ ...ref, apiVersion: apiVersionOf(owner.kind), uid }];
  });
  if (refs.length > 0) m.ownerReferences = refs;
  else delete m.ownerReferences;
  return obj;
}

/**
 * What a JSON merge patch (RFC 7386) makes of `target`: objects merge member by member, `null`
 * removes a member, anything else (arrays too) replaces. The move writes with a PUT what the API
 * server would have made of its merge patch, so the stored object is the same either way. Objects
 * are built without a prototype: a key `__proto__` stays a key.
 */
export function mergePatched(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = Object.create(null);
  if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.assign(out, target);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatched(out[key], value);
  }
  return out;
}

/**
 * The status to write through the status subresource of the copy: the source's, without its
 * observed generations; `undefined` when the kind has no status subresource or the status is empty.
 */
export function statusToCopy(node: GraphNode): Record<string, unknown> | undefined {
  if (!node.kind.status) return undefined;
  const status = withoutObservedGenerations(node.obj.status);
  if (status === undefined || status === null || Object.keys(status).length === 0) return undefined;
  return status as Record<string, unknown>;
}
