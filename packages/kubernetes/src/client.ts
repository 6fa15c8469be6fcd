/**
 * The one place the SDK talks to Kubernetes (through `@kubernetes/client-node`): connecting from
 * a kubeconfig, server-side apply, reads, deletes, and watch-based waits. Every request of these
 * methods goes through the retry policy of `retry.ts`, the same as {@link KubeRestClient}'s; a
 * watch that ends is resumed by {@link KubeClient.waitFor} itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFile } from 'node:fs/promises';
import {
  KubeConfig,
  KubernetesObjectApi,
  loadYaml,
  Observable,
  PatchStrategy,
  type RequestContext,
  ResponseContext,
  type V1APIResource,
  Watch,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { type EventSink, pool, runStep } from '@ocne/core';
import { parseAllDocuments } from 'yaml';
import { hasReason, KubeError, wrapKubeError } from './errors.js';
import type { KubernetesObject } from './objects.js';
import { KubeRestClient, type KubeRestOptions } from './rest.js';
import { withRetries } from './retry.js';

/** Where the kubeconfig comes from. */
export interface ConnectOptions {
  /** Path of a kubeconfig file. */
  kubeconfigPath?: string;
  /** Kubeconfig YAML, instead of a path. */
  kubeconfig?: string;
  /** Context to use. @defaultValue the current context */
  context?: string;
  signal?: AbortSignal;
}

/** An object reference: apiVersion, kind, name and (for namespaced kinds) namespace. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** Which objects a wait watches: one by name, or those matching a label selector. */
export interface WatchTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

/** Options of {@link KubeClient.waitFor}. */
export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up after this long. @defaultValue 300000 (5 minutes) */
  timeoutMs?: number;
  /** What is awaited, for events and errors, such as `Waiting for kubeconfig`. */
  description?: string;
  emit?: EventSink;
  /** First delay before re-watching after a dropped watch; doubles up to 5 s. @defaultValue 200 */
  backoffMs?: number;
  /** Ask the server to end each watch after this many seconds (it is then resumed). */
  watchTimeoutSeconds?: number;
}

/** How {@link KubeClient.apply} writes. */
export interface ApplyOptions {
  /** `apply`: server-side apply (the default). `create`: create what is absent, leave what exists (upstream's mode for CAPI resources). */
  mode?: 'apply' | 'create';
  /** @defaultValue 'ocne' */
  fieldManager?: string;
  /** Take over fields other managers own. @defaultValue true */
  force?: boolean;
  /** Ask the server to check without storing anything. */
  dryRun?: boolean;
  /** Namespace for namespaced objects that have none. @defaultValue 'default' */
  defaultNamespace?: string;
  /** How long to wait for CRDs to be established. @defaultValue 60000 */
  crdTimeoutMs?: number;
  /**
   * How many objects of one ordering rank (CRDs, namespaces, the rest) are written at a time; 1
   * writes one after the other. @defaultValue 16
   */
  concurrency?: number;
  signal?: AbortSignal;
  emit?: EventSink;
}

/** Requests of one apply in flight at once: the API server serves them in parallel. */
const APPLY_CONCURRENCY = 16;

/** One object {@link KubeClient.apply} handled. */
export interface AppliedObject {
  ref: ObjectRef;
  /** `applied`, `created`, or `exists` (create mode left it as it was). */
  result: 'applied' | 'created' | 'exists';
  object: KubernetesObject;
}

/**
 * The object in the form the client's serializer reads. The client writes built-in kinds through
 * its generated models, which look properties up by their camelCase model names: raw JSON keys
 * that differ (a CRD schema's `x-kubernetes-*`, `$ref`, `enum`, `default`) would be dropped without
 * a word. Reading the raw object into its model first keeps them. Custom kinds pass as they are.
 */
function forSerializer(object: KubernetesObject): KubernetesObject {
  // client-node's public way into its models is `loadYaml`, which reads YAML and deserializes by
  // apiVersion and kind as the writes serialize (custom kinds keep every key); JSON is YAML.
  return loadYaml<KubernetesObject>(JSON.stringify(object));
}

/** Options of {@link KubeClient.delete}. */
export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Wait until the object is gone. @defaultValue true */
  wait?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const describeRef = (r: { kind: string; name?: string; namespace?: string }) =>
  `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name ?? ''}`.trim();

/** Parses multi-document YAML into objects; documents without `kind` are an error, empty ones are skipped. */
export function parseManifests(yaml: string, source = '<manifests>'): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const [i, doc] of parseAllDocuments(yaml).entries()) {
    if (doc.errors.length > 0) {
      throw new KubeError(
        'OCNE_KUBE_INVALID_MANIFEST',
        `${source}: document ${i + 1}: ${doc.errors[0]!.message.split('\n')[0]}`,
      );
    }
    const value = doc.toJS() as KubernetesObject | null;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
      throw new KubeError(
        'OCNE_KUBE_INVALID_MANIFEST',
        `${source}: document ${i + 1} has no apiVersion and kind`,
      );
    }
    out.push(value);
  }
  return out;
}

/** The ordering rank of an object: CRDs (0) before namespaces (1) before the rest (2). */
const rank = (o: KubernetesObject): number =>
  o.kind === 'CustomResourceDefinition' ? 0 : o.kind === 'Namespace' ? 1 : 2;

/** Orders objects as they must be created: CRDs, then namespaces, then the rest in their order. */
export function applyOrder(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return [...objects]
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map((x) => x.o);
}

/**
 * Objects in {@link applyOrder} cut into their ranks: each rank is applied in parallel, after the
 * ranks before it are done.
 */
function byRank(ordered: readonly KubernetesObject[]): KubernetesObject[][] {
  const groups: KubernetesObject[][] = [];
  let last: number | undefined;
  for (const object of ordered) {
    if (rank(object) !== last) groups.push([]);
    last = rank(object);
    groups.at(-1)?.push(object);
  }
  return groups;
}

/** KubernetesObjectApi with its resource discovery opened up, for watch paths. */
class ObjectApi extends KubernetesObjectApi {
  resourceOf(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  /**
   * Gives every request the signal `current()` answers at that moment. The object API has no
   * signal parameter, and its per-call options do not reach the middleware it runs.
   */
  useSignals(current: () => AbortSignal | undefined): void {
    this.configuration.middleware.push({
      pre: (request) => {
        const signal = current();
        if (signal !== undefined) request.setSignal(signal);
        return new Observable(Promise.resolve(request));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    });
  }

  /**
   * Sends every request through `transport`'s kept-alive node:http connections (TLS and proxy as
   * the kubeconfig says, the same as {@link KubeRestClient}'s) instead of client-node's undici
   * fetch, whose per-request work (fetch's streams, HTTP/2 framing) was most of the client's CPU in
   * a parallel apply: client-node still builds each request (credentials included) and reads each
   * answer into its models, so what is sent and returned does not change. A body that is not text
   * (none of this client's requests) still goes through client-node's own transport.
   */
  useTransport(transport: KubeRestClient): void {
    const own = this.configuration.httpApi;
    const send = async (request: RequestContext): Promise<ResponseContext> => {
      const body = request.getBody();
      if (body !== undefined && typeof body !== 'string') return own.send(request).toPromise();
      const signal = request.getSignal();
      const answer = await transport.exchange(request.getUrl(), {
        method: request.getHttpMethod(),
        headers: request.getHeaders(),
        ...(body !== undefined ? { body } : {}),
        ...(signal !== undefined ? { signal } : {}),
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return new ResponseContext(answer.status, headers, {
        text: async () => answer.body.toString('utf8'),
        binary: async () => answer.body,
        stream: () => new Blob([answer.body]).stream(),
      });
    };
    this.configuration = { ...this.configuration, httpApi: wrapHttpLibrary({ send }) };
  }

  /**
   * Sends every request through one connection pool. client-node 2 makes a new undici agent for
   * each request from the kubeconfig's TLS settings, so each request opened (and paid for) a TLS
   * connection of its own; the first request's agent, kept, holds its connections open for the
   * next. The settings are the kubeconfig's, the same for every request of a client (as for
   * `KubeClient.rest()`); the credentials in headers are still applied per request.
   */
  shareConnections(): void {
    let shared: ReturnType<RequestContext['getDispatcher']>;
    this.configuration.middleware.push({
      pre: (request) => {
        const own = request.getDispatcher();
        if (own !== undefined) {
          shared ??= own;
          if (own !== shared) request.setDispatcher(shared);
        }
        return new Observable(Promise.resolve(request));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    });
  }
}

/** Options of one request of {@link KubeClient}. */
interface CallOptions {
  signal?: AbortSignal | undefined;
  /** False for a create: see `RetryOptions.repeatable`. @defaultValue true */
  repeatable?: boolean;
}

/** A connection to one cluster. */
export class KubeClient {
  /**
   * client-node's configuration, for the SDK's own modules and tests. Internal: the published
   * types leave it out, so that they do not load client-node's (see `objects.ts`).
   *
   * @internal
   */
  readonly config: KubeConfig;
  readonly #api: ObjectApi;
  /** The signal of the attempt running in this async context (for the requests it makes). */
  readonly #attemptSignal = new AsyncLocalStorage<AbortSignal>();

  /**
   * Use {@link connect}. Internal: the published types leave it out (see {@link KubeClient.config}).
   *
   * @internal
   */
  constructor(config: KubeConfig) {
    this.config = config;
    // makeApiClient builds a plain KubernetesObjectApi (it also sets the default namespace from the
    // context); give that instance the subclass's prototype for resourceOf.
    this.#api = ObjectApi.makeApiClient(config) as ObjectApi;
    Object.setPrototypeOf(this.#api, ObjectApi.prototype);
    this.#api.useSignals(() => this.#attemptSignal.getStore());
    this.#api.shareConnections();
    // Through a proxy, client-node's own transport (its proxy agent) stays.
    const cluster = config.getCurrentCluster();
    if (cluster && !cluster.proxyUrl && URL.canParse(cluster.server)) {
      this.#api.useTransport(new KubeRestClient(this, { maxSockets: 32 }));
    }
  }

  /**
   * Runs client-node requests under the retry policy: `request` is one attempt, and every request
   * it makes ends with the caller's signal or the attempt's time. Throws a {@link KubeError}.
   */
  #call<T>(doing: string, request: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    return withRetries((signal) => this.#attemptSignal.run(signal, request), {
      doing,
      signal: options.signal,
      ...(options.repeatable === false ? { repeatable: false } : {}),
    });
  }

  /** Plain REST calls against this client's server (see {@link KubeRestClient}); close it when done. */
  rest(options: KubeRestOptions = {}): KubeRestClient {
    return new KubeRestClient(this, options);
  }

  /** The API server URL. */
  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '';
  }

  /** The URL path of a kind's collection (namespaced when a namespace is given). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const resource = await this.#call(`looking up the resource of ${kind} (${apiVersion})`, () =>
      this.#api.resourceOf(apiVersion, kind),
    );
    if (resource === undefined) {
      throw new KubeError('OCNE_KUBE_API', `the API server has no resource for ${kind} in ${apiVersion}`, {
        status: { code: 404, reason: 'NotFound', message: `no ${kind} in ${apiVersion}` },
      });
    }
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return resource.namespaced && namespace
      ? `${base}/namespaces/${namespace}/${resource.name}`
      : `${base}/${resource.name}`;
  }

  /** Reads an object; `undefined` when it does not exist. */
  async get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.#call(`reading ${describeRef(ref)}`, () =>
        this.#api.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        }),
      )) as T;
    } catch (error) {
      if (hasReason(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** Lists objects of a kind, optionally in a namespace and by label selector. */
  async list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    return this.#list(apiVersion, kind, options, undefined);
  }

  async #list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string },
    signal: AbortSignal | undefined,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const list = await this.#call(
      `listing ${kind}${options.namespace ? ` in ${options.namespace}` : ''}`,
      () =>
        this.#api.list<T>(
          apiVersion,
          kind,
          options.namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          options.labelSelector,
        ),
      { signal },
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /**
   * Applies objects (or multi-document YAML): CRDs first, waiting until they are established,
   * then namespaces, then the rest in order. Server-side apply with `fieldManager: ocne`, or
   * create-if-absent in `create` mode.
   */
  async apply(
    manifests: readonly KubernetesObject[] | string,
    options: ApplyOptions = {},
  ): Promise<AppliedObject[]> {
    const objects = applyOrder(typeof manifests === 'string' ? parseManifests(manifests) : manifests);
    const results: AppliedObject[] = [];
    let crds: KubernetesObject[] = [];
    for (const group of byRank(objects)) {
      // What a rank needs from the ones before: established CRDs (and namespaces, applied already).
      if (crds.length > 0 && group[0]?.kind !== 'CustomResourceDefinition') {
        await this.#waitEstablished(crds, options);
        crds = [];
      }
      const applied: AppliedObject[] = new Array(group.length);
      const failures: { index: number; error: unknown }[] = [];
      await pool(
        group.map((_, index) => index),
        options.concurrency ?? APPLY_CONCURRENCY,
        async (index) => {
          try {
            applied[index] = await this.#applyOne(group[index] as KubernetesObject, options);
          } catch (error) {
            failures.push({ index, error });
          }
        },
        { failFast: true, stop: () => failures.length > 0 || options.signal?.aborted === true },
      );
      // The first failure in the order of the objects, as a sequential apply would have met it.
      if (failures.length > 0) throw failures.sort((a, b) => a.index - b.index)[0]?.error;
      options.signal?.throwIfAborted();
      results.push(...applied);
      if (!options.dryRun) crds.push(...group.filter((o) => o.kind === 'CustomResourceDefinition'));
    }
    if (crds.length > 0) await this.#waitEstablished(crds, options);
    return results;
  }

  /** Applies (or creates) one object: the requests of {@link KubeClient.apply} for it. */
  async #applyOne(original: KubernetesObject, options: ApplyOptions): Promise<AppliedObject> {
    options.signal?.throwIfAborted();
    const fieldManager = options.fieldManager ?? 'ocne';
    const dryRun = options.dryRun ? 'All' : undefined;
    const object = structuredClone(original);
    const ref: ObjectRef = {
      apiVersion: object.apiVersion!,
      kind: object.kind!,
      name: object.metadata?.name ?? '',
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
    };
    if (
      ref.namespace === undefined &&
      object.kind !== 'Namespace' &&
      object.kind !== 'CustomResourceDefinition'
    ) {
      const resource = await this.#call(
        `looking up the resource of ${ref.kind} (${ref.apiVersion})`,
        () => this.#api.resourceOf(ref.apiVersion, ref.kind),
        { signal: options.signal },
      ).catch(() => undefined);
      if (resource?.namespaced) {
        ref.namespace = options.defaultNamespace ?? 'default';
        object.metadata = { ...object.metadata, namespace: ref.namespace };
      }
    }
    const doing = `applying ${describeRef(ref)}`;
    const body = forSerializer(object);
    if (options.mode === 'create') {
      try {
        // Not repeated after an unknown outcome: a retry meeting its own create would say `exists`.
        const created = await this.#call(
          doing,
          () => this.#api.create(body, undefined, dryRun, fieldManager),
          { signal: options.signal, repeatable: false },
        );
        return { ref, result: 'created', object: created };
      } catch (error) {
        if (!hasReason(error, 'AlreadyExists')) throw error;
        return { ref, result: 'exists', object };
      }
    }
    // Server-side apply is idempotent: a retry after a lost answer applies the same again.
    const applied = await this.#call(
      doing,
      () =>
        this.#api.patch(
          body,
          undefined,
          dryRun,
          fieldManager,
          options.force ?? true,
          PatchStrategy.ServerSideApply,
        ),
      { signal: options.signal },
    );
    return { ref, result: 'applied', object: applied };
  }

  async #waitEstablished(crds: KubernetesObject[], options: ApplyOptions): Promise<void> {
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '';
      await this.waitFor(
        { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name },
        (objects) => hasCondition(objects[0], 'Established'),
        {
          description: `Waiting for CustomResourceDefinition ${name} to be established`,
          timeoutMs: options.crdTimeoutMs ?? 60_000,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.emit ? { emit: options.emit } : {}),
        },
      );
    }
  }

  /** Deletes an object (absent is fine) and, by default, waits until it is gone. */
  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<void> {
    try {
      // A retry after a lost answer finds the object gone (NotFound), which is fine here.
      await this.#call(
        `deleting ${describeRef(ref)}`,
        () =>
          this.#api.delete(
            {
              apiVersion: ref.apiVersion,
              kind: ref.kind,
              metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
            },
            undefined,
            undefined,
            undefined,
            undefined,
            options.propagationPolicy ?? 'Background',
          ),
        { signal: options.signal },
      );
    } catch (error) {
      if (!hasReason(error, 'NotFound')) throw error;
      return;
    }
    if (options.wait === false) return;
    await this.waitFor({ ...ref }, (objects) => objects.length === 0, {
      description: `Waiting for deletion of ${describeRef(ref)}`,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Waits until `done(objects)` is true for the objects the target names (one by name, or all
   * matching a label selector). Lists once, then watches from that `resourceVersion`; a dropped
   * watch resumes from the last version seen, with backoff; an expired version (410) relists.
   * Never polls on a fixed sleep. Returns the objects that satisfied it.
   */
  async waitFor<T extends KubernetesObject = KubernetesObject>(
    target: WatchTarget,
    done: (objects: T[]) => boolean,
    options: WaitOptions = {},
  ): Promise<T[]> {
    const description = options.description ?? `Waiting for ${describeRef(target)}`;
    const timeoutMs = options.timeoutMs ?? 300_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const run = async (): Promise<T[]> => {
      const path = await this.collectionPath(target.apiVersion, target.kind, target.namespace);
      const fieldSelector = target.name ? `metadata.name=${target.name}` : undefined;
      const state = new Map<string, T>();
      const key = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
      const current = () => [...state.values()];
      let resourceVersion = '';
      let backoff = options.backoffMs ?? 200;
      const relist = async () => {
        const listed = await this.#list<T>(
          target.apiVersion,
          target.kind,
          {
            ...(target.namespace ? { namespace: target.namespace } : {}),
            ...(target.labelSelector ? { labelSelector: target.labelSelector } : {}),
          },
          signal,
        );
        state.clear();
        for (const o of listed.items)
          if (!target.name || o.metadata?.name === target.name) state.set(key(o), o);
        resourceVersion = listed.resourceVersion;
      };
      await relist();
      for (;;) {
        signal.throwIfAborted();
        if (done(current())) return current();
        // One watch session: resolves when the condition holds, or when the watch ends.
        const outcome = await new Promise<'done' | 'ended' | 'gone'>((resolve, reject) => {
          let controller: AbortController | undefined;
          let settled = false;
          const finish = (value: 'done' | 'ended' | 'gone') => {
            if (settled) return;
            settled = true;
            signal.removeEventListener('abort', onAbort);
            controller?.abort();
            resolve(value);
          };
          const onAbort = () => {
            if (settled) return;
            settled = true;
            controller?.abort();
            reject(signal.reason);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          new Watch(this.config)
            .watch(
              path,
              {
                resourceVersion,
                allowWatchBookmarks: true,
                ...(options.watchTimeoutSeconds !== undefined
                  ? { timeoutSeconds: options.watchTimeoutSeconds }
                  : {}),
                ...(fieldSelector ? { fieldSelector } : {}),
                ...(target.labelSelector ? { labelSelector: target.labelSelector } : {}),
              },
              (phase, object: T & { code?: number }) => {
                if (phase === 'ERROR') {
                  finish(object.code === 410 ? 'gone' : 'ended');
                  return;
                }
                const rv = object.metadata?.resourceVersion;
                if (rv) resourceVersion = rv;
                if (phase === 'BOOKMARK') return;
                if (phase === 'DELETED') state.delete(key(object));
                else state.set(key(object), object);
                backoff = options.backoffMs ?? 200;
                if (done(current())) finish('done');
              },
              () => finish('ended'),
            )
            .then((c) => {
              controller = c;
              if (settled) c.abort();
            })
            .catch((error: unknown) => {
              if (!settled) {
                settled = true;
                signal.removeEventListener('abort', onAbort);
                reject(wrapKubeError(error, description));
              }
            });
        });
        if (outcome === 'done') return current();
        if (outcome === 'gone') {
          await relist();
          continue;
        }
        // The watch ended (server timeout, dropped connection): resume after a pause.
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, backoff);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              reject(signal.reason);
            },
            { once: true },
          );
        });
        backoff = Math.min(backoff * 2, 5000);
      }
    };
    try {
      return await runStep(options.emit, description, run);
    } catch (error) {
      if (timeout.aborted && !(options.signal?.aborted ?? false)) {
        throw new KubeError('OCNE_KUBE_TIMEOUT', `${description}: not done after ${timeoutMs} ms`, {
          cause: error,
        });
      }
      // Whatever the abort reason is (a DOMException, a string from Operation.cancel, an Error).
      if (options.signal?.aborted) {
        throw new KubeError('OCNE_CANCELLED', `${description}: cancelled`, { cause: error });
      }
      throw wrapKubeError(error, description);
    }
  }
}

/**
 * Waits until every named Deployment reports the `Available` condition (upstream's waiters such as
 * `Waiting for Core Cluster API Controllers`), one watch per Deployment, all within one timeout.
 */
export async function waitForDeployments(
  client: KubeClient,
  deployments: ReadonlyArray<{ namespace: string; name: string }>,
  options: WaitOptions = {},
): Promise<void> {
  const description =
    options.description ?? `Waiting for ${deployments.map((d) => `${d.namespace}/${d.name}`).join(', ')}`;
  const { emit, ...rest } = options;
  await runStep(emit, description, async () => {
    await Promise.all(
      deployments.map((d) =>
        client.waitFor(
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.namespace, name: d.name },
          (objects) => hasCondition(objects[0], 'Available'),
          { ...rest, description: `${description}: deployment ${d.namespace}/${d.name}` },
        ),
      ),
    );
  });
}

/** True when an object's `status.conditions` has the condition with the given status. */
export function hasCondition(object: KubernetesObject | undefined, type: string, status = 'True'): boolean {
  const conditions = (
    object as { status?: { conditions?: Array<{ type?: string; status?: string }> } } | undefined
  )?.status?.conditions;
  return conditions?.some((c) => c.type === type && c.status === status) ?? false;
}

/** Connects to the cluster a kubeconfig names. Checks nothing over the network yet. */
export async function connect(options: ConnectOptions): Promise<KubeClient> {
  const config = new KubeConfig();
  try {
    if (options.kubeconfig !== undefined) {
      config.loadFromString(options.kubeconfig);
    } else if (options.kubeconfigPath !== undefined) {
      config.loadFromString(
        await readFile(options.kubeconfigPath, {
          encoding: 'utf8',
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    } else {
      throw new Error('give kubeconfigPath or kubeconfig');
    }
    if (options.context !== undefined) config.setCurrentContext(options.context);
  } catch (error) {
    if (error instanceof KubeError) throw error;
    const where = options.kubeconfigPath ?? '<kubeconfig>';
    throw new KubeError(
      'OCNE_KUBE_INVALID_KUBECONFIG',
      `cannot use the kubeconfig ${where}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (config.getCurrentCluster() === null) {
    throw new KubeError(
      'OCNE_KUBE_INVALID_KUBECONFIG',
      `the kubeconfig ${options.kubeconfigPath ?? '<kubeconfig>'} has no current cluster`,
    );
  }
  return new KubeClient(config);
}
