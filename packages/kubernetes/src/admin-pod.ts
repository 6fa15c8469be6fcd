/**
 * Commands on a node through an "admin pod", as upstream runs `kubeadm init phase upload-certs`
 * and `ocne cluster console`: a privileged pod pinned to the node, in the host's network, PID and
 * IPC namespaces, with the host's `/` at `/hostroot` (so `chroot /hostroot ...` runs on the host).
 * The pod's container idles; commands are exec'd in it (through the API server and the kubelet,
 * as `kubectl exec` does), so their output streams and their exit code comes back directly, and the
 * pod is deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  type ConfigurationOptions,
  CoreV1Api,
  Observable,
  type ObservableMiddleware,
  type V1Pod,
} from '@kubernetes/client-node';
import { type EventSink, runStep } from '@ocne/core';
import type { KubeClient } from './client.js';
import { hasReason, KubeError, wrapKubeError } from './errors.js';
import { execInPod } from './exec.js';
import type { KubeObjectMeta, KubernetesObject } from './objects.js';

/** The image of admin pods (upstream's `DefaultPodImage`). */
export const ADMIN_POD_IMAGE = 'container-registry.oracle.com/os/oraclelinux:8';

/** The namespace admin pods run in (created when absent). */
export const ADMIN_POD_NAMESPACE = 'ocne-system';

/** Options of {@link runOnNode}. */
export interface AdminPodOptions {
  /** Namespace of the pod, created when absent. @defaultValue 'ocne-system' */
  namespace?: string;
  /** @defaultValue {@link ADMIN_POD_IMAGE} */
  image?: string;
  /** Give up (and delete the pod) when the command has not finished after this long. @defaultValue 300000 (5 minutes) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives the step `Running <command> on node <node>` and warnings (unreadable output, a pod left behind). */
  emit?: EventSink;
  /** Start of the pod name; a random suffix is added. @defaultValue `ocne-admin-<node>` */
  namePrefix?: string;
  /**
   * The step's text in events and error messages, instead of the command: give one when the
   * command holds a secret (such as `--certificate-key`). @defaultValue `Running <command> on node <node>`
   */
  description?: string;
}

/** What {@link runOnNode} returns: the command's exit code and output. */
export interface AdminPodResult {
  /** The container's exit code; not 0 when the command failed. */
  exitCode: number;
  /** The container's output (stdout and stderr); `''` when the API server could not return it. */
  logs: string;
  /** The pod the command ran in (deleted by now). */
  podName: string;
}

/** A command on a node that failed: {@link runOnNodeOrThrow} with a non-zero exit, or a pod that failed without running it. */
export class KubeCommandError extends KubeError {
  readonly node: string;
  readonly podName: string;
  /** The exit code; `undefined` when the pod failed before the command ran (evicted, rejected by the kubelet). */
  readonly exitCode: number | undefined;
  readonly logs: string;

  constructor(
    message: string,
    details: { node: string; podName: string; exitCode: number | undefined; logs: string },
  ) {
    super('OCNE_KUBE_COMMAND_FAILED', message);
    this.node = details.node;
    this.podName = details.podName;
    this.exitCode = details.exitCode;
    this.logs = details.logs;
  }

  override get name(): string {
    return 'KubeCommandError';
  }
}

const CONTAINER = 'admin';
const MANAGED_BY = 'app.kubernetes.io/managed-by';
const CLEANUP_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 20;

/** Request options that cancel a generated-API call with `signal` (client-node has no `signal` parameter). */
function withSignal(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** A valid pod name: the prefix (cut so the name stays short) and 8 random hex digits. */
function podNameFor(node: string, prefix: string | undefined): string {
  const base = (prefix ?? `ocne-admin-${node}`)
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .slice(0, 54)
    .replace(/[^a-z0-9]+$/, '');
  return `${base === '' ? 'ocne-admin' : base}-${randomBytes(4).toString('hex')}`;
}

/**
 * An admin pod as {@link adminPodManifest} makes it: a `v1` Pod (client-node's `V1Pod`, typed
 * loosely here so that the published types do not load client-node's).
 */
export interface AdminPodManifest extends KubernetesObject {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: KubeObjectMeta;
  spec: Record<string, unknown>;
}

/** The admin pod manifest (exported for tests and for callers that want to inspect it). */
export function adminPodManifest(options: {
  name: string;
  namespace: string;
  node: string;
  command: readonly string[];
  image?: string;
}): AdminPodManifest {
  return {
    apiVersion: 'v1' as const,
    kind: 'Pod' as const,
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { [MANAGED_BY]: 'ocne', 'app.kubernetes.io/component': 'admin-pod' },
    },
    spec: {
      nodeName: options.node,
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: CONTAINER,
          image: options.image ?? ADMIN_POD_IMAGE,
          command: [...options.command],
          securityContext: { privileged: true, runAsUser: 0 },
          volumeMounts: [{ name: 'hostroot', mountPath: '/hostroot' }],
        },
      ],
      volumes: [{ name: 'hostroot', hostPath: { path: '/' } }],
    },
  } satisfies V1Pod;
}

/** Where a pod is, for a timeout message: `phase Pending, container waiting: ImagePullBackOff`. */
function describePod(pod: V1Pod | undefined): string {
  if (pod === undefined) return 'the pod was not seen';
  const parts = [`phase ${pod.status?.phase ?? 'unknown'}`];
  const state = pod.status?.containerStatuses?.[0]?.state;
  if (state?.waiting?.reason) parts.push(`container waiting: ${state.waiting.reason}`);
  else if (state?.running) parts.push('container running');
  return parts.join(', ');
}

const lastLines = (text: string, n: number): string => text.trimEnd().split('\n').slice(-n).join('\n');

/** How {@link withAdminPod} makes its pod. */
interface PodPlan {
  node: string;
  namespace: string;
  name: string;
  image: string | undefined;
  /** How long the pod's idle container lives: a bound for a pod this process never gets to delete. */
  lifetimeSeconds: number;
  step: string;
  /** The caller's signal, or undefined. */
  callerSignal: AbortSignal | undefined;
  /** Aborted by the caller's signal or by the deadline. */
  signal: AbortSignal;
  /** The deadline, when there is one. */
  deadline: AbortSignal | undefined;
  timeoutMs: number;
  emit: EventSink | undefined;
  /** Delete a pod of the same name first (upstream's console uses one name per node). */
  replace: boolean;
  /** Called once the pod runs, before `body`. */
  onRunning?: () => void;
}

/**
 * Makes an admin pod whose container idles, waits until it runs, hands it to `body` (which execs
 * commands in it), and deletes it afterwards, also after an error, a timeout or an abort. A node
 * the cluster does not have is `OCNE_KUBE_API` with the status `NotFound`, and no pod is made.
 */
async function withAdminPod<T>(
  client: KubeClient,
  plan: PodPlan,
  body: (pod: { namespace: string; pod: string }) => Promise<T>,
): Promise<T> {
  const { node, namespace, name, step, signal } = plan;
  const startedAt = Date.now();
  const ref = { apiVersion: 'v1', kind: 'Pod', namespace, name };
  const core = client.config.makeApiClient(CoreV1Api);
  let podRequested = false;
  let lastSeen: V1Pod | undefined;
  try {
    signal.throwIfAborted();
    if ((await client.get({ apiVersion: 'v1', kind: 'Node', name: node })) === undefined) {
      throw new KubeError('OCNE_KUBE_API', `${step}: the cluster has no node ${node}`, {
        status: { code: 404, reason: 'NotFound', message: `nodes "${node}" not found` },
      });
    }
    signal.throwIfAborted();
    await client.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], {
      mode: 'create',
      signal,
    });
    if (plan.replace) await deletePod(client, core, ref, plan.emit);
    signal.throwIfAborted();
    podRequested = true;
    const [created] = await client.apply(
      [
        adminPodManifest({
          name,
          namespace,
          node,
          command: ['sleep', String(plan.lifetimeSeconds)],
          ...(plan.image !== undefined ? { image: plan.image } : {}),
        }),
      ],
      { mode: 'create', signal },
    );
    if (created?.result !== 'created') {
      // A name that is taken: never use (or delete) a pod this call did not make.
      podRequested = false;
      throw new KubeError('OCNE_KUBE_API', `${step}: pod ${namespace}/${name} already exists`, {
        status: { code: 409, reason: 'AlreadyExists', message: `pods "${name}" already exists` },
      });
    }
    const [pod] = await client.waitFor<V1Pod>(
      ref,
      (pods) => {
        lastSeen = pods[0] ?? lastSeen;
        const status = pods[0]?.status;
        const running = status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state?.running;
        return (
          pods.length === 0 ||
          running !== undefined ||
          status?.phase === 'Succeeded' ||
          status?.phase === 'Failed'
        );
      },
      {
        signal,
        // The deadline ends the wait; this only keeps waitFor's own default (5 min) out of the way.
        timeoutMs: Math.max(1, plan.timeoutMs - (Date.now() - startedAt) + 1000),
        description: `Waiting for pod ${namespace}/${name} on node ${node} to run`,
      },
    );
    if (pod === undefined) {
      throw new KubeError('OCNE_KUBE_API', `${step}: pod ${namespace}/${name} was deleted before it ran`, {
        status: { code: 404, reason: 'NotFound', message: `pods "${name}" not found` },
      });
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      const why = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ');
      throw new KubeCommandError(
        `${step}: pod ${namespace}/${name} failed before the command ran${why ? `: ${why}` : ''}`,
        { node, podName: name, exitCode: undefined, logs: '' },
      );
    }
    plan.onRunning?.();
    return await body({ namespace, pod: name });
  } catch (error) {
    if (error instanceof KubeCommandError) throw error;
    if (plan.callerSignal?.aborted) {
      throw new KubeError('OCNE_CANCELLED', `${step}: cancelled`, { cause: error });
    }
    if (plan.deadline?.aborted) {
      throw new KubeError(
        'OCNE_KUBE_TIMEOUT',
        `${step}: not finished after ${plan.timeoutMs} ms (${describePod(lastSeen)})`,
        { cause: error },
      );
    }
    throw wrapKubeError(error, step);
  } finally {
    if (podRequested) await deletePod(client, core, ref, plan.emit);
  }
}

/** Collects what a command writes, in the order it comes (stdout and stderr together). */
class OutputBuffer extends Writable {
  readonly #chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.#chunks.push(chunk);
    callback();
  }
  get text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

async function run(
  client: KubeClient,
  node: string,
  command: readonly string[],
  options: AdminPodOptions,
  step: string,
  check: boolean,
): Promise<AdminPodResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const name = podNameFor(node, options.namePrefix);
  const plan: PodPlan = {
    node,
    namespace: options.namespace ?? ADMIN_POD_NAMESPACE,
    name,
    image: options.image,
    lifetimeSeconds: Math.ceil(timeoutMs / 1000) + 60,
    step,
    callerSignal: options.signal,
    signal,
    deadline,
    timeoutMs,
    emit: options.emit,
    replace: false,
  };
  return withAdminPod(client, plan, async (pod) => {
    const output = new OutputBuffer();
    const exitCode = await execInPod(client, {
      ...pod,
      container: CONTAINER,
      command,
      stdout: output,
      stderr: output,
      signal,
    });
    const logs = output.text;
    if (check && exitCode !== 0) {
      const tail = lastLines(logs, LOG_TAIL_LINES);
      throw new KubeCommandError(
        `${step}: exit code ${exitCode}${tail ? `; last lines of output:\n${tail}` : ' (no output)'}`,
        { node, podName: name, exitCode, logs },
      );
    }
    return { exitCode, logs, podName: name };
  });
}

/**
 * Force-deletes the pod (grace period 0: without a kubelet, or with an unreachable one, a graceful
 * delete never completes) and waits until it is gone, on a signal of its own so that cleanup also
 * happens after a timeout or an abort. A failure is reported as a warning, not thrown, so that it
 * never hides the command's result or error.
 */
async function deletePod(
  client: KubeClient,
  core: CoreV1Api,
  ref: { apiVersion: string; kind: string; namespace: string; name: string },
  emit: EventSink | undefined,
): Promise<void> {
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  const what = `pod ${ref.namespace}/${ref.name}`;
  try {
    try {
      await core.deleteNamespacedPod(
        { name: ref.name, namespace: ref.namespace, gracePeriodSeconds: 0 },
        withSignal(signal),
      );
    } catch (error) {
      const wrapped = wrapKubeError(error, `deleting ${what}`);
      if (!hasReason(wrapped, 'NotFound')) throw wrapped;
      return;
    }
    await client.waitFor(ref, (pods) => pods.length === 0, {
      signal,
      timeoutMs: CLEANUP_TIMEOUT_MS,
      description: `Waiting for deletion of ${what}`,
    });
  } catch (error) {
    const wrapped = wrapKubeError(error, `deleting ${what}`);
    emit?.({
      type: 'warning',
      code: 'OCNE_KUBE_ADMIN_POD_LEFT',
      message: `the privileged ${what} could not be deleted, delete it by hand: ${wrapped.message}`,
    });
  }
}

/**
 * Runs `command` (an argument vector: the container's `command`, not a shell string) in a
 * privileged admin pod on `node`, waits (watching the pod) until it finishes, and returns its exit
 * code and output. A non-zero exit code is returned, not thrown (see {@link runOnNodeOrThrow}). The
 * pod is always deleted, also after a failure, a timeout (`OCNE_KUBE_TIMEOUT`) or an abort
 * (`OCNE_CANCELLED`). A node the cluster does not have is an `OCNE_KUBE_API` error with the
 * status `NotFound`, and no pod is made.
 *
 * @example
 * ```ts
 * await runOnNode(client, 'cp-1', ['chroot', '/hostroot', 'kubeadm', 'init', 'phase', 'upload-certs',
 *   '--certificate-key', key, '--upload-certs']);
 * ```
 */
export async function runOnNode(
  client: KubeClient,
  node: string,
  command: readonly string[],
  options: AdminPodOptions = {},
): Promise<AdminPodResult> {
  const step = options.description ?? `Running ${command.join(' ')} on node ${node}`;
  return runStep(options.emit, step, () => run(client, node, command, options, step, false));
}

/**
 * {@link runOnNode}, but a non-zero exit code is a {@link KubeCommandError}
 * (`OCNE_KUBE_COMMAND_FAILED`) with the exit code and the last lines of the output.
 */
export async function runOnNodeOrThrow(
  client: KubeClient,
  node: string,
  command: readonly string[],
  options: AdminPodOptions = {},
): Promise<AdminPodResult> {
  const step = options.description ?? `Running ${command.join(' ')} on node ${node}`;
  return runStep(options.emit, step, () => run(client, node, command, options, step, true));
}

/** The toolbox image of `ocne cluster console --toolbox` (upstream's, unqualified as upstream names it). */
export const TOOLBOX_IMAGE = 'olcne/ock:toolbox';

/** Options of {@link consoleOnNode}. */
export interface ConsoleOptions {
  /** The command (an argument vector); none: an interactive shell (`sh`). */
  command?: readonly string[];
  /** Run in the node's root: the command (or a shell) under `/usr/sbin/chroot /hostroot`. */
  direct?: boolean;
  /** Use {@link TOOLBOX_IMAGE} instead of {@link ADMIN_POD_IMAGE}. */
  toolbox?: boolean;
  /** Sent to the command; its end closes the command's stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Ask for a terminal (pass true when stdin is one); stderr then comes on stdout. */
  tty?: boolean;
  signal?: AbortSignal;
  emit?: EventSink;
  /** Bound on the pod getting ready (not on the session). @defaultValue 240000 (upstream: 48 × 5 s) */
  readyTimeoutMs?: number;
}

/** The console pod's name for a node (upstream's `console-<node>`, dots made dashes). */
export function consolePodName(node: string): string {
  return `console-${node}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** What `ocne cluster console` runs: the command, `sh` without one, under `chroot /hostroot` with `direct`. */
export function consoleCommand(command: readonly string[] = [], direct = false): string[] {
  if (direct) return ['/usr/sbin/chroot', '/hostroot', ...command];
  return command.length === 0 ? ['sh'] : [...command];
}

const CONSOLE_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * `ocne cluster console`: runs a command (or an interactive shell) in an admin pod on `node`,
 * with stdin, stdout and stderr streamed, and resolves with the command's exit code. The pod is
 * `console-<node>` in `ocne-system` (a leftover of that name is deleted first, as upstream does)
 * and is deleted afterwards, also after an error or an abort (`OCNE_CANCELLED`).
 */
export async function consoleOnNode(
  client: KubeClient,
  node: string,
  options: ConsoleOptions = {},
): Promise<number> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 240_000;
  const signal = options.signal ?? new AbortController().signal;
  const step = `Running a console on node ${node}`;
  // The bound is on the pod getting ready: it is lifted once the session starts.
  const ready = new AbortController();
  const timer = setTimeout(
    () => ready.abort(new DOMException('the console pod was not ready in time', 'TimeoutError')),
    readyTimeoutMs,
  );
  const plan: PodPlan = {
    node,
    namespace: ADMIN_POD_NAMESPACE,
    name: consolePodName(node),
    image: options.toolbox ? TOOLBOX_IMAGE : undefined,
    // A session may last long; a pod left by a killed process still ends within a day.
    lifetimeSeconds: CONSOLE_LIFETIME_SECONDS,
    step,
    callerSignal: options.signal,
    signal: AbortSignal.any([signal, ready.signal]),
    deadline: ready.signal,
    timeoutMs: readyTimeoutMs,
    emit: options.emit,
    replace: true,
    onRunning: () => clearTimeout(timer),
  };
  return withAdminPod(client, plan, (pod) =>
    execInPod(client, {
      ...pod,
      container: CONTAINER,
      command: consoleCommand(options.command, options.direct),
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
      tty: options.tty,
      signal,
    }),
  ).finally(() => clearTimeout(timer));
}
