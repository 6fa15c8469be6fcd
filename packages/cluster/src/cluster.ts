/**
 * The `Cluster` facade: one typed object over every provider, as the `ocne cluster` commands
 * use them. It never prompts, never opens a browser and never writes to the terminal: long
 * calls return an {@link Operation} whose events say what happens.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  LayerKind,
  type LoadConfigOptions,
  loadConfig,
  PROVIDERS,
  type ResolvedClusterConfig,
  type ResolvedConfig,
  resolveConfig,
} from '@ocne/config';
import {
  assertClusterProvider,
  type ClusterProvider,
  type EventSink,
  formatPidLockHolder,
  importOptional,
  OcneError,
  type Operation,
  type OperationOptions,
  type ProviderContext,
  type ProviderMoveNodeResult,
  type ProviderOperation,
  runStep,
  startOperation,
  writeFileAtomic,
} from '@ocne/core';
import { type CachedCluster, ClusterCache, type ClusterCacheCallOptions } from './cache.js';
import { loadProvider, registeredProviders } from './provider.js';

/** `node:fs/promises`, loaded on first use (it loads readline and more). */
const fsp = () => process.getBuiltinModule('node:fs/promises');

/** The user's home folder; `node:os` is loaded only when no home is given (the CLI gives `HOME`). */
const homedir = (): string => process.getBuiltinModule('node:os').homedir();

/**
 * Options of {@link Cluster.open}: where the configuration comes from, as for `loadConfig`
 * (`configPath` or `config`, `overrides`, `configOverrides`, `defaults`, `env`,
 * `defaultProvider`, `signal`), the home folder holding `.ocne/` and `.kube/`, and optionally the
 * provider instance to use.
 */
export interface ClusterOpenOptions extends Omit<LoadConfigOptions, 'extraProviders'> {
  /**
   * The provider to drive this cluster with, instead of the one loaded by name: a provider made
   * with its own options (`createByoProvider({ catalog })` of `@ocne/provider-byo`,
   * `createOciProvider({ lookup })` of `@ocne/provider-oci`) or an embedder's own. It is the
   * default provider of the configuration, and a configuration naming another provider is an error.
   * @defaultValue the provider registered under the configuration's provider name, else the
   * `provider` export of `@ocne/provider-<name>`
   */
  provider?: ClusterProvider<ResolvedConfig>;
}

/** Options of {@link Cluster.console}. */
export interface ConsoleOptions {
  /** The node's name. */
  node: string;
  /** The cluster's kubeconfig. @defaultValue `KUBECONFIG` of `env`, else `~/.kube/config` */
  kubeconfigPath?: string;
  /** The command (an argument vector); none: an interactive shell. */
  command?: readonly string[];
  /** Run in the node's root (`chroot /hostroot`). */
  direct?: boolean;
  /** Run in the toolbox image. */
  toolbox?: boolean;
  /** Ask for a terminal (when stdin is one); stderr then comes on stdout. */
  tty?: boolean;
  /** Sent to the command; its end closes the command's stdin. None: the command gets no stdin. */
  stdin?: NodeJS.ReadableStream;
  /** Receives the command's output (left open afterwards). */
  stdout?: NodeJS.WritableStream;
  /** Receives the command's error output (left open afterwards). */
  stderr?: NodeJS.WritableStream;
  /** Ends the session (the command gets a hang-up) and deletes the pod: `OCNE_CANCELLED`. */
  signal?: AbortSignal;
  /** Where `KUBECONFIG` is read. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home of `~/.kube/config`. @defaultValue the user's home */
  home?: string;
}

/** Options of {@link Cluster.template}. */
export type TemplateOptions = OperationOptions;

/** Options of {@link Cluster.start}. */
export interface StartOptions extends OperationOptions {
  /**
   * Hands a new cluster's Ignition (byo: the first control-plane node's, which holds the cluster's
   * CA key) to where it goes, before the cluster is recorded. When it throws, or the operation is
   * cancelled meanwhile, the start fails and leaves nothing: no cache entry, no kubeconfig. Without
   * it the Ignition is only in the result, and a caller that then fails to keep it has a recorded
   * cluster whose nodes can never boot. The CLI writes it to stdout here.
   */
  deliver?: (ignition: string) => void | Promise<void>;
}

/** What {@link Cluster.start} returns. */
export interface StartResult {
  /** True when the cluster existed already (a second start). */
  alreadyRunning: boolean;
  /** For providers whose nodes the user boots (byo): the first node's Ignition, as JSON. */
  ignition?: string;
  /** Where the admin kubeconfig is. */
  kubeconfigPath: string;
}

/** Options of {@link Cluster.join}. */
export interface JoinOptions extends OperationOptions {
  /** How many worker nodes. Without either count: one worker. */
  workerNodes?: number;
  /** How many control-plane nodes. */
  controlPlaneNodes?: number;
  /** The cluster's kubeconfig. @defaultValue the cached one, `~/.kube/kubeconfig.<name>` */
  kubeconfigPath?: string;
  /** Name of the first control-plane node, for the upload-certs command. */
  firstControlPlaneNode?: string;
}

/** What {@link Cluster.join} returns. */
export interface JoinResult {
  /** For providers whose nodes the user boots (byo): the new nodes' Ignition, as JSON. */
  ignition?: string;
  token?: string;
  /** Commands to run before the nodes boot. */
  commands: string[];
  /** Upstream's instructions text (the CLI prints it on stderr). */
  instructions?: string;
}

/** Options of `Cluster#moveNode`. */
export interface MoveNodeOptions extends OperationOptions {
  /** Kubeconfig of the cluster the node is in now. */
  sourceKubeconfigPath: string;
  /** Kubeconfig of the cluster it moves to. */
  destinationKubeconfigPath: string;
  /** The node's name. */
  node: string;
  /** The role it takes in the destination. @defaultValue 'worker' */
  role?: 'worker' | 'control-plane';
}

/** Options of the static `Cluster.moveNode`, for a move without a cluster configuration. */
export interface ConfiglessMoveNodeOptions extends MoveNodeOptions {
  /** The provider that moves the node: a name (loaded as for a cluster) or an instance. */
  provider: string | ClusterProvider<ResolvedConfig>;
  /** The home folder. @defaultValue `os.homedir()` */
  home?: string;
  /** The environment the provider reads. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
}

/** What `Cluster.moveNode` (static or on a cluster) returns. */
export type MoveNodeResult = ProviderMoveNodeResult;

/** A cluster in the cache, as {@link Cluster.list} and {@link Cluster.show} report it. */
export interface ClusterInfo {
  name: string;
  provider: string;
  kubernetesVersion: string;
  kubeconfigPath: string;
  config: ResolvedClusterConfig;
}

const info = (c: CachedCluster): ClusterInfo => ({
  name: c.name,
  provider: c.config.provider,
  kubernetesVersion: c.config.kubernetesVersion,
  kubeconfigPath: c.kubeconfig,
  config: c.config,
});

async function exists(path: string): Promise<boolean> {
  try {
    await fsp().access(path);
    return true;
  } catch {
    return false;
  }
}

/** One cluster, resolved from its configuration. */
export class Cluster {
  /** The resolved configuration, with provenance. */
  readonly config: ResolvedConfig;
  /** The home folder holding `.ocne/` and `.kube/`. */
  readonly home: string;
  readonly #cache: ClusterCache;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #provider: ClusterProvider<ResolvedConfig> | undefined;

  private constructor(
    config: ResolvedConfig,
    home: string,
    env: Readonly<Record<string, string | undefined>>,
    provider: ClusterProvider<ResolvedConfig> | undefined,
  ) {
    this.config = config;
    this.home = home;
    this.#cache = new ClusterCache({ home });
    this.#env = env;
    this.#provider = provider;
  }

  /** Loads and checks the configuration. Warnings are in `config.warnings`. */
  static async open(options: ClusterOpenOptions = {}): Promise<Cluster> {
    const { provider, ...load } = options;
    if (provider !== undefined) assertClusterProvider(provider, 'the provider given to Cluster.open');
    const home = load.home ?? homedir();
    // Each name once: a provider instance is usually registered too, or one of upstream's own.
    const extraProviders = [...new Set([...registeredProviders(), ...(provider ? [provider.name] : [])])];
    const config = await loadConfig({
      ...load,
      home,
      extraProviders: extraProviders.filter((name) => !PROVIDERS.includes(name)),
      ...(provider && load.defaultProvider === undefined ? { defaultProvider: provider.name } : {}),
    });
    if (provider !== undefined && config.cluster.provider !== provider.name) {
      throw new OcneError(
        'OCNE_CONFIG_CONFLICT',
        `the configuration's provider is ${config.cluster.provider}, but Cluster.open was given the ${provider.name} provider`,
      );
    }
    return new Cluster(config, home, options.env ?? process.env, provider);
  }

  /** The clusters in the cache of a home folder. */
  static async list(options: { home?: string; signal?: AbortSignal } = {}): Promise<ClusterInfo[]> {
    const cache = new ClusterCache({ home: options.home ?? homedir() });
    return (await cache.list(options.signal ? { signal: options.signal } : {})).map(info);
  }

  /** The cluster's name. */
  get name(): string {
    return this.config.cluster.name;
  }

  /** The cluster's provider. */
  get provider(): string {
    return this.config.cluster.provider;
  }

  /** Where the admin kubeconfig of this cluster is kept (`~/.kube/kubeconfig.<name>`). */
  get kubeconfigPath(): string {
    return join(this.home, '.kube', `kubeconfig.${this.name}`);
  }

  /** The cache entry of this cluster, if any. */
  async show(options: { signal?: AbortSignal } = {}): Promise<ClusterInfo | undefined> {
    const cached = await this.#cache.get(this.name, options.signal ? { signal: options.signal } : {});
    return cached ? info(cached) : undefined;
  }

  #context(signal: AbortSignal, emit: EventSink): ProviderContext<ResolvedConfig> {
    return { config: this.config, home: this.home, env: this.#env, emit, signal };
  }

  /**
   * The provider, with the methods of `operation` present. A provider that does not list the
   * operation fails here, before anything is done.
   */
  async #providerFor<O extends ProviderOperation>(operation: O): Promise<ProviderWith<O>> {
    return requireOperation(this.#provider ?? (await loadProvider(this.provider)), operation);
  }

  #warnings(emit: EventSink): void {
    for (const w of this.config.warnings) {
      emit({
        type: 'warning',
        code: w.code,
        message: w.message,
        ...(w.file !== undefined ? { file: w.file } : {}),
        ...(w.line !== undefined ? { line: w.line } : {}),
        ...(w.column !== undefined ? { column: w.column } : {}),
        ...(w.path !== undefined ? { path: w.path } : {}),
      });
    }
  }

  /**
   * Starts the cluster. A new byo cluster gets its PKI and the first node's Ignition (in the
   * result, and to `deliver` first), its kubeconfig (mode 0600) and a cache entry. Starting a
   * cluster that exists goes on to the provider's next step (upstream installs the applications).
   *
   * Of parallel starts of one name (in any processes sharing the home), one claims the name and
   * makes the cluster; the others fail with `OCNE_CLUSTER_BUSY` before making anything, or, once it
   * is recorded, find it running. A start that fails or is cancelled removes the kubeconfig it
   * wrote and records nothing.
   */
  start(options: StartOptions = {}): Operation<StartResult> {
    return startOperation(async ({ signal, emit }) => {
      this.#warnings(emit);
      const cluster = this.config.cluster;
      const provider = await this.#providerFor('start');
      const context = this.#context(signal, emit);
      // Checked and claimed under the cache lock: only the claimant makes the PKI and writes the kubeconfig.
      const claim = await this.#cache.claim(this.name, this.#cacheOptions(signal, emit));
      try {
        const cached = claim.cached;
        if (cached !== undefined) {
          await claim.release(); // the next step of a running cluster changes nothing in the home
          return await this.#startExisting(provider, context, cached);
        }
        const kubeconfigPath = this.kubeconfigPath;
        const result = await provider.start(context);
        let wrote = false;
        try {
          if (result.kubeconfig !== undefined) {
            await runStep(emit, `Saving kubeconfig to ${kubeconfigPath}`, async () => {
              await writeFileAtomic(kubeconfigPath, result.kubeconfig!, { mode: 0o600, signal });
              wrote = true;
            });
          }
          // Delivered before it is recorded: a recorded cluster always has its Ignition somewhere.
          if (result.ignition !== undefined) await options.deliver?.(result.ignition);
          signal.throwIfAborted();
          await claim.add({ config: cluster, kubeconfig: kubeconfigPath }, { signal });
        } catch (error) {
          // Not cancellable: a kubeconfig without a cache entry is what the next start trips over.
          if (wrote)
            await fsp()
              .rm(kubeconfigPath, { force: true })
              .catch(() => {});
          throw error;
        }
        return {
          alreadyRunning: false,
          kubeconfigPath,
          ...(result.ignition !== undefined ? { ignition: result.ignition } : {}),
        };
      } finally {
        await claim.release();
      }
    }, options);
  }

  /** A start of a cluster the cache has: the provider's next step, when it matches the configuration. */
  async #startExisting(
    provider: ProviderWith<'start'>,
    context: ProviderContext<ResolvedConfig>,
    cached: CachedCluster,
  ): Promise<StartResult> {
    const cluster = this.config.cluster;
    if (cached.config.provider !== cluster.provider) {
      throw new OcneError(
        'OCNE_CLUSTER_MISMATCH',
        `the provider of the existing cluster is ${cached.config.provider}. The target provider is ${cluster.provider}`,
      );
    }
    if (cached.config.kubernetesVersion !== cluster.kubernetesVersion) {
      throw new OcneError(
        'OCNE_CLUSTER_MISMATCH',
        `the Kubernetes version of the existing cluster is ${cached.config.kubernetesVersion}. The target Kubernetes version is ${cluster.kubernetesVersion}`,
      );
    }
    const kubeconfigPath = cached.kubeconfig ?? this.kubeconfigPath;
    if (!(await exists(kubeconfigPath))) {
      throw new OcneError(
        'OCNE_CLUSTER_INCONSISTENT',
        `the cluster ${this.name} is in the cache but its kubeconfig ${kubeconfigPath} is missing: delete the cluster first`,
      );
    }
    context.emit({ type: 'log', level: 'info', message: `Cluster ${this.name} is running already` });
    await provider.postStart(context, { kubeconfigPath });
    return { alreadyRunning: true, kubeconfigPath };
  }

  /** The cache options of an operation: its signal, and a log line when the cache lock is held. */
  #cacheOptions(signal: AbortSignal, emit: EventSink): ClusterCacheCallOptions {
    return {
      signal,
      onLockWait: (holder) =>
        emit({
          type: 'log',
          level: 'info',
          message: `Waiting for the lock ${this.#cache.lockPath}: ${formatPidLockHolder(holder)}`,
        }),
    };
  }

  /** Makes what new nodes need to join: for byo, their Ignition and the commands that admit them. */
  join(options: JoinOptions = {}): Operation<JoinResult> {
    return startOperation(async ({ signal, emit }) => {
      this.#warnings(emit);
      const controlPlaneNodes = options.controlPlaneNodes ?? 0;
      const workerNodes = options.workerNodes ?? (controlPlaneNodes > 0 ? 0 : 1);
      if (controlPlaneNodes < 0 || workerNodes < 0 || controlPlaneNodes + workerNodes === 0) {
        throw new OcneError('OCNE_USAGE', 'join needs a positive number of control-plane or worker nodes');
      }
      const cached = await this.#cache.get(this.name, { signal });
      const kubeconfigPath = options.kubeconfigPath ?? cached?.kubeconfig ?? this.kubeconfigPath;
      const kubeconfig = await readKubeconfig(
        kubeconfigPath,
        signal,
        `cannot read the kubeconfig of cluster ${this.name} at ${kubeconfigPath}: start the cluster first, or give its kubeconfig`,
      );
      const provider = await this.#providerFor('join');
      const result = await provider.join(this.#context(signal, emit), {
        controlPlaneNodes,
        workerNodes,
        kubeconfig,
        ...(options.firstControlPlaneNode ? { firstControlPlaneNode: options.firstControlPlaneNode } : {}),
      });
      if (result.instructions !== undefined && result.instructions !== '') {
        emit({ type: 'instructions', text: result.instructions, commands: result.commands });
      }
      return result;
    }, options);
  }

  /**
   * Deletes the cluster: what the provider made, its cache entry and its kubeconfig. The name is
   * claimed meanwhile (a start of it in another process fails with `OCNE_CLUSTER_BUSY`), and the
   * entry goes before the file with no cancellation point after it, so an interruption leaves
   * both or neither.
   */
  delete(options: OperationOptions = {}): Operation<void> {
    return startOperation(async ({ signal, emit }) => {
      const provider = await this.#providerFor('delete');
      await using claim = await this.#cache.claim(this.name, this.#cacheOptions(signal, emit));
      await provider.delete(this.#context(signal, emit));
      const kubeconfigPath = claim.cached?.kubeconfig ?? this.kubeconfigPath;
      await claim.delete({ signal });
      if (await exists(kubeconfigPath)) {
        emit({ type: 'log', level: 'info', message: `Deleting file ${kubeconfigPath}` });
        await fsp().rm(kubeconfigPath, { force: true });
      }
    }, options);
  }

  /**
   * Moves a running node from the cluster of `sourceKubeconfigPath` into the cluster of
   * `destinationKubeconfigPath` (`ocne cluster join --kubeconfig SRC --destination DST --node N`),
   * through this cluster's provider. For byo: a join token (and, for control-plane nodes, the
   * certificate upload) in the destination, the join configuration written on the node by an admin
   * pod, the Node removed from the source; the destination's virtual IP, the node's network
   * interface and the kube-proxy mode come from this cluster's configuration.
   */
  moveNode(options: MoveNodeOptions): Operation<MoveNodeResult> {
    return startOperation(async ({ signal, emit }) => {
      const provider = await this.#providerFor('moveNode');
      return moveNodeWith(provider, this.#context(signal, emit), options);
    }, options);
  }

  /**
   * Moves a node without a cluster configuration, as `ocne cluster join -k SRC -d DST -N NODE`
   * does without `-c`: the provider (by name, loaded as for a cluster, or an instance) gets the
   * built-in defaults as its configuration. These are not checked for what start and join need
   * (a byo network interface, a virtual IP): a move uses none of it, and without a virtual IP a
   * control-plane node moves without the virtual-IP stack.
   */
  static moveNode(options: ConfiglessMoveNodeOptions): Operation<MoveNodeResult> {
    return startOperation(async ({ signal, emit }) => {
      const provider = requireOperation(
        typeof options.provider === 'string' ? await loadProvider(options.provider) : options.provider,
        'moveNode',
      );
      const config = resolveConfig(
        [{ kind: LayerKind.ClusterOverrides, source: '<node move>', data: { provider: provider.name } }],
        { skipValidation: true },
      );
      const context: ProviderContext<ResolvedConfig> = {
        config,
        home: options.home ?? homedir(),
        env: options.env ?? process.env,
        emit,
        signal,
      };
      return moveNodeWith(provider, context, options);
    }, options);
  }

  /**
   * `ocne cluster console`: runs `command` (an argument vector; none: an interactive `sh`) on
   * `node` in an admin pod, with stdin, stdout and stderr streamed, and resolves with the command's
   * exit code. `direct` runs it in the node's root (`chroot /hostroot`), `toolbox` in the toolbox
   * image; pass `tty: true` when stdin is a terminal. The pod is deleted afterwards, also after an
   * error or an abort (`OCNE_CANCELLED`). Works with any provider: it needs only a kubeconfig
   * (`kubeconfigPath`, else `KUBECONFIG` of `env`, else `~/.kube/config`, as upstream).
   *
   * @throws `OcneError` `OCNE_DEPENDENCY_MISSING` when `@ocne/kubernetes` is not installed.
   */
  static async console(options: ConsoleOptions): Promise<number> {
    const env = options.env ?? process.env;
    const kubeconfigPath =
      options.kubeconfigPath ??
      (env.KUBECONFIG ? env.KUBECONFIG : join(options.home ?? homedir(), '.kube', 'config'));
    const kubernetes = await importOptional(
      '@ocne/kubernetes',
      () => import('@ocne/kubernetes'),
      'The cluster console',
    );
    const client = await kubernetes.connect({
      kubeconfigPath,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { node, kubeconfigPath: _path, env: _env, home: _home, ...rest } = options;
    return kubernetes.consoleOnNode(client, node, rest);
  }

  /**
   * Renders the cluster's resources as YAML (`ocne cluster template`). The oci provider renders
   * offline when the compartment and image OCIDs are configured; a compartment path or finding the
   * newest OCK image needs a provider made with `createOciProvider({ lookup })`. Providers without
   * a template fail with `OCNE_NOT_IMPLEMENTED`.
   */
  template(options: TemplateOptions = {}): Operation<string> {
    return startOperation(async ({ signal, emit }) => {
      this.#warnings(emit);
      const provider = await this.#providerFor('template');
      return provider.template(this.#context(signal, emit));
    }, options);
  }
}

/** The provider methods an operation calls. */
type MethodsOf<O extends ProviderOperation> = O extends 'start' ? 'start' | 'postStart' : O;

const OPERATION_TEXT: Record<ProviderOperation, string> = {
  start: 'start clusters',
  join: 'join nodes',
  delete: 'delete clusters',
  template: 'render templates',
  moveNode: 'move nodes',
};

/** A provider known to have the methods of `operation`. */
type ProviderWith<O extends ProviderOperation> = Required<
  Pick<ClusterProvider<ResolvedConfig>, MethodsOf<O>>
> &
  ClusterProvider<ResolvedConfig>;

/**
 * The provider, when it lists `operation` among its capabilities; otherwise the error that says it
 * does not, before anything is done.
 */
function requireOperation<O extends ProviderOperation>(
  provider: ClusterProvider<ResolvedConfig>,
  operation: O,
): ProviderWith<O> {
  if (!provider.capabilities.operations.includes(operation)) {
    if (operation === 'template') {
      throw new OcneError('OCNE_NOT_IMPLEMENTED', `templates not implemented for provider ${provider.name}`);
    }
    throw new OcneError(
      'OCNE_PROVIDER_UNAVAILABLE',
      `the ${provider.name} provider cannot ${OPERATION_TEXT[operation]} in this version of the SDK`,
    );
  }
  return provider as ProviderWith<O>;
}

/**
 * A kubeconfig's text; a file that cannot be read is `OCNE_KUBECONFIG_MISSING` with `message`, and
 * an abort is the abort, not a missing file.
 */
async function readKubeconfig(path: string, signal: AbortSignal, message: string): Promise<string> {
  try {
    signal.throwIfAborted();
    // A regular file is read with synchronous calls (microseconds; an asynchronous call waits for
    // the thread pool). Anything else (`<(...)`, a named pipe) may take its time: asynchronously,
    // and never opened twice (a writer waiting for a reader would meet the first and lose its text).
    if (statSync(path).isFile()) {
      const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      try {
        if (fstatSync(fd).isFile()) return readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    }
    return await fsp().readFile(path, { encoding: 'utf8', signal });
  } catch (error) {
    signal.throwIfAborted();
    throw new OcneError('OCNE_KUBECONFIG_MISSING', message, { cause: error });
  }
}

/** Reads both kubeconfigs and hands the move to the provider. */
async function moveNodeWith(
  provider: ProviderWith<'moveNode'>,
  context: ProviderContext<ResolvedConfig>,
  options: MoveNodeOptions,
): Promise<MoveNodeResult> {
  const read = (path: string, which: string) =>
    readKubeconfig(path, context.signal, `cannot read the ${which} kubeconfig ${path}`);
  const [sourceKubeconfig, destinationKubeconfig] = await Promise.all([
    read(options.sourceKubeconfigPath, 'source'),
    read(options.destinationKubeconfigPath, 'destination'),
  ]);
  return provider.moveNode(context, {
    sourceKubeconfig,
    destinationKubeconfig,
    node: options.node,
    role: options.role ?? 'worker',
  });
}
