/**
 * The I/O half of {@link moveCluster}: discovery (listing the CRDs and the objects of the
 * namespace through {@link listKinds}), the readiness checks and their retries, pausing the
 * Cluster, creating the graph in the target group by group, writing status, deleting it from the
 * source, unpausing it in the target, and the rollback. What to move and how each copy looks is
 * decided by the pure `graph.ts`.
 *
 * It talks to both clusters through `KubeClient.rest()`: the move needs merge patches, the status
 * subresource, delete preconditions and many calls in parallel.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventSink, importOptional, isOcneError, pool, runStep } from '@ocne/core';
import type { KubeClient, KubeRestCallOptions } from '@ocne/kubernetes';
import { CapiMoveError } from './errors.js';
import {
  apiVersionOf,
  blockMoveProblems,
  CLUSTER_KIND,
  type Crd,
  collectionPath,
  DELETE_FOR_MOVE,
  deletionGroups,
  describe,
  describePlan,
  type GraphNode,
  isPaused,
  type Kind,
  kindsOf,
  type MoveObject,
  mergePatched,
  missingKinds,
  moveKinds,
  type Obj,
  objectPath,
  type Plan,
  planMove,
  provisioningProblems,
  refOf,
  statusToCopy,
  summarize,
  targetObject,
} from './graph.js';

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

const FIELD_MANAGER = 'ocne-move';
const CREATE_STEP = 'Creating objects in the target cluster';
const DELETE_STEP = 'Deleting objects from the source cluster';
const CRDS_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

type KubeModule = typeof import('@ocne/kubernetes');

/** A cluster's REST client (`KubeClient.rest()`), typed for the objects the move handles. */
interface Api {
  readonly kube: KubeClient;
  call(method: string, path: string, options: KubeRestCallOptions): Promise<Obj | undefined>;
  list(path: string, apiVersion: string, kind: string, doing: string, signal?: AbortSignal): Promise<Obj[]>;
  close(): void;
}

/** The CustomResourceDefinitions of a cluster. */
async function listCrds(
  api: Api,
  where: 'source' | 'target',
  signal: AbortSignal | undefined,
): Promise<Crd[]> {
  return (await api.list(
    CRDS_PATH,
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    `listing the CustomResourceDefinitions of the ${where} cluster`,
    signal,
  )) as unknown as Crd[];
}

/**
 * Lists kinds in the namespace of one cluster, at most 8 kinds at a time, and calls `each` for
 * every object listed. Returns the errors (with `failFast`, no kind starts after one).
 */
async function listKinds(
  api: Api,
  kinds: readonly Kind[],
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
    kinds,
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

interface Context {
  k: KubeModule;
  source: Api;
  namespace: string;
  name: string;
  emit: EventSink;
  signal: AbortSignal | undefined;
  concurrency: number;
}

/** Lists the source's CRDs and every object of the move's kinds in the namespace, and plans the move. */
async function discover(ctx: Context): Promise<Plan> {
  const { source, namespace, name, signal, concurrency } = ctx;
  const kinds = moveKinds(await listCrds(source, 'source', signal));
  const listed: Array<{ obj: Obj; kind: Kind }> = [];
  const errors = await listKinds(
    source,
    kinds,
    { namespace, where: 'source', concurrency, failFast: true, signal },
    (kind, obj) => listed.push({ obj, kind }),
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
  const k = await importOptional('@ocne/kubernetes', () => import('@ocne/kubernetes'), 'Moving a cluster');
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
      throw new CapiMoveError('OCNE_CAPI_MOVE_CONFLICT', 'moveCluster needs a target cluster (`to`)');
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

/** What a move result says before any object was written. */
function summary(
  plan: Plan,
  namespace: string,
  name: string,
  dryRun: boolean,
): Omit<MoveResult, 'notReady' | 'attempts' | 'durationMs'> {
  return { namespace, name, dryRun, ...summarize(plan), created: 0, updated: 0, deleted: 0 };
}

/** Metadata to send back in a PUT that leaves the managed fields as they are (the server keeps its own when none are sent). */
function withoutManagedFields(metadata: Obj['metadata']): Obj['metadata'] {
  const { managedFields: _managedFields, ...rest } = metadata;
  return rest;
}

/** One move, with what it changed so far (for the rollback). */
class Mover {
  readonly #ctx: Context;
  readonly #target: Api;
  readonly #options: MoveClusterOptions;
  /** Set once the pause request was sent: the Cluster's path and the value `spec.paused` had. */
  #pausedFrom: { path: string; value: unknown } | undefined;
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
        'OCNE_CAPI_MOVE_CONFLICT',
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
          'OCNE_CAPI_MOVE_NOT_READY',
          `Cluster ${namespace}/${name} was not ready to move after ${timeoutMs} ms (${attempts} checks): ${problems.join('; ')}`,
        );
      }
      const every = interval % 1000 === 0 ? `${interval / 1000} s` : `${interval} ms`;
      this.#log(`${problems.join('; ')}: checking again in ${every}`);
      await sleep(Math.min(interval, left), undefined, signal ? { signal } : {});
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
    this.#targetCrds ??= await listCrds(this.#target, 'target', signal);
    const missing = missingKinds(plan, this.#targetCrds);
    if (missing.length > 0) {
      throw new CapiMoveError(
        'OCNE_CAPI_MOVE_CONFLICT',
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
        'OCNE_CAPI_MOVE_CONFLICT',
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
      const errors = await listKinds(
        target,
        kindsOf(plan),
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

  async #createOne(node: GraphNode, k: KubeModule): Promise<void> {
    const { namespace, signal } = this.#ctx;
    const target = this.#target;
    const what = describe({ kind: node.kind.kind, namespace, name: node.obj.metadata.name });
    const path = objectPath(node.kind, namespace, node.obj.metadata.name);
    const body = targetObject(node, this.#newUids);
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
      if (written === undefined || uid === undefined)
        throw new Error(`the API server answered without the object's UID`);
      if (!existing) this.#attempted.set(node, uid);
      this.#newUids.set(node, uid);
      let current: Obj = written;
      const status = statusToCopy(node);
      if (status !== undefined) {
        current =
          (await this.#replace(target, `${path}/status`, {
            // The status subresource takes only the status: the managed fields need not travel.
            object: { ...current, metadata: withoutManagedFields(current.metadata) },
            patch: { status },
            doing: `writing the status of ${what} in the target cluster`,
            signal,
          })) ?? current;
      }
      const managedFields = node.obj.metadata.managedFields;
      if (managedFields !== undefined && managedFields.length > 0) {
        await this.#replace(target, path, {
          object: current,
          patch: { metadata: { managedFields } },
          doing: `restoring the managed fields of ${what} in the target cluster`,
          signal,
        });
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new CapiMoveError(
        'OCNE_CAPI_MOVE_FAILED',
        `moving Cluster ${namespace}/${this.#ctx.name}: ${(error as Error).message}`,
        {
          cause: error,
          object: refOf(node),
        },
      );
    }
  }

  /**
   * Writes what the merge patch `patch` makes of `object` (the object as last read, with its
   * resourceVersion) as a PUT, and sends the patch itself only when the object changed since
   * (409 Conflict). The stored object is the same either way; the PUT spares the API server the
   * patch's read-modify-write (it encodes the stored object, patches it and decodes it again),
   * about a sixth of its CPU in a move. The merge patch is kept in `object` as the
   * server would apply it ({@link mergePatched}), and the PUT's answer is only the metadata (the
   * rest is what was sent). Returns the object as stored now, or `undefined` when it is gone and
   * `allowNotFound` is set.
   */
  async #replace(
    api: Api,
    path: string,
    request: {
      object: Obj;
      patch: Record<string, unknown>;
      doing: string;
      signal?: AbortSignal | undefined;
      allowNotFound?: boolean;
    },
  ): Promise<Obj | undefined> {
    const { object, patch, ...options } = request;
    const body = mergePatched(object, patch) as Obj;
    try {
      const answer = await api.call('PUT', path, { ...options, body, metadataOnly: true });
      return answer === undefined ? undefined : { ...body, metadata: answer.metadata };
    } catch (error) {
      if (!this.#ctx.k.hasReason(error, 'Conflict')) throw error;
    }
    return api.call('PATCH', path, { ...options, merge: true, body: patch });
  }

  /**
   * Deletes an object of the graph, as clusterctl does but in fewer requests: one patch adds the
   * delete-for-move annotation (which tells CAPI controllers and webhooks that this is no real
   * deletion; Secrets and ConfigMaps have no reader of it and skip it) and removes the finalizers,
   * so that the delete (for that UID only) is immediate. Should a controller put a finalizer back
   * meanwhile, the delete's answer shows it and it is removed again. False when the object was
   * gone already (or another object has its name now). `current` is the object as last read in
   * that cluster: the first write is then a PUT of it, which the API server serves with less work
   * than the patch ({@link Mover.#replace}).
   */
  async #forceDelete(
    api: Api,
    node: GraphNode,
    uid: string | undefined,
    where: string,
    current?: Obj,
  ): Promise<boolean> {
    const { namespace } = this.#ctx;
    const name = node.obj.metadata.name;
    const path = objectPath(node.kind, namespace, name);
    const what = `${describe({ kind: node.kind.kind, namespace, name })} in the ${where} cluster`;
    const hasReason = this.#ctx.k.hasReason;
    // With the UID in a patch, the server refuses (Conflict) an object of that name that is not ours.
    const patch = (metadata: Record<string, unknown>, doing: string, object?: Obj) => {
      const body = { metadata: { ...metadata, ...(uid !== undefined ? { uid } : {}) } };
      const options = { doing, allowNotFound: true };
      return (
        object === undefined
          ? api.call('PATCH', path, { ...options, merge: true, body, metadataOnly: true })
          : this.#replace(api, path, {
              ...options,
              object: { ...object, metadata: withoutManagedFields(object.metadata) },
              patch: body,
            })
      ).catch((error: unknown) => {
        if (uid !== undefined && hasReason(error, 'Conflict')) return undefined;
        throw error;
      });
    };
    const annotate = node.kind.group !== '';
    const finalizers = (node.obj.metadata.finalizers?.length ?? 0) > 0;
    if (annotate || finalizers) {
      const patched = await patch(
        {
          ...(annotate ? { annotations: { [DELETE_FOR_MOVE]: '' } } : {}),
          ...(finalizers ? { finalizers: null } : {}),
        },
        `${annotate ? 'annotating' : 'removing the finalizers of'} ${what}${annotate ? ' for deletion' : ''}`,
        current,
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
        // Only its finalizers are read.
        metadataOnly: true,
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
        'OCNE_CAPI_MOVE_INCOMPLETE',
        `moving Cluster ${namespace}/${name}: ${what}: ${(errors[0] as Error).message}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''}; the target cluster has the whole graph, with the Cluster paused: run the same move again to finish it`,
        {
          cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
          state: 'incomplete',
          ...(node ? { object: refOf(node) } : {}),
        },
      );
    };
    for (const group of deletionGroups(plan, plan.nodes, (n) => n)) {
      const errors = await pool(
        group,
        concurrency,
        async (node) => {
          try {
            if (await this.#forceDelete(source, node, node.uid, 'source', node.obj)) deleted++;
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
    const listErrors = await listKinds(
      source,
      kindsOf(plan),
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
        'OCNE_CAPI_MOVE_INCOMPLETE',
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
          ? new CapiMoveError('OCNE_CANCELLED', `moving Cluster ${namespace}/${name}: cancelled`, {
              cause: signal?.reason ?? error,
              ...(error instanceof CapiMoveError && error.object ? { object: error.object } : {}),
            })
          : new CapiMoveError(
              'OCNE_CAPI_MOVE_FAILED',
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
    const groups = this.#plan ? deletionGroups(this.#plan, created, ([node]) => node) : [created];
    let cleaned = 0;
    for (const group of groups) {
      errors.push(
        ...(await pool(
          group,
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
    return new CapiMoveError(base.code, message, {
      cause: base.cause ?? error,
      ...(base.object ? { object: base.object } : {}),
      state: errors.length === 0 ? 'rolled-back' : 'rollback-failed',
      rollbackErrors: errors,
    });
  }
}
