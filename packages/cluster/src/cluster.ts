/**
 * The `Cluster` facade: one typed object over every provider, as the `ocne cluster` commands
 * use them. It never prompts, never opens a browser and never writes to the terminal: long
 * calls return an {@link Operation} whose events say what happens.
 */
import { access, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type LoadConfigOptions,
  loadConfig,
  type ResolvedClusterConfig,
  type ResolvedConfig,
} from '@ocne/config';
import { OcneError, runStep, writeFileAtomic } from '@ocne/core';
import { type CachedCluster, ClusterCache } from './cache.js';
import { type Operation, type OperationOptions, startOperation } from './operation.js';
import {
  type ClusterProvider,
  loadProvider,
  type ProviderContext,
  type ProviderTemplateOptions,
  registeredProviders,
  registerProvider,
  unavailableProvider,
} from './provider.js';

registerProvider('byo', async () => (await import('./providers/byo.js')).byoProvider);
registerProvider('oci', async () => (await import('./providers/oci.js')).ociProvider);
for (const [name, reason] of [
  ['libvirt', 'it arrives with the libvirt support'],
  ['none', 'it installs applications into an existing cluster, which arrives with the Kubernetes support'],
  ['olvm', 'it is not planned yet'],
] as const) {
  registerProvider(name, async () => unavailableProvider(name, reason));
}

/**
 * Options of {@link Cluster.open}: where the configuration comes from, as for `loadConfig`
 * (`configPath` or `config`, `overrides`, `configOverrides`, `defaults`, `env`,
 * `defaultProvider`, `signal`), and the home folder holding `.ocne/` and `.kube/`.
 */
export interface ClusterOpenOptions extends Omit<LoadConfigOptions, 'extraProviders'> {
  /**
   * The application catalog a second start installs the core applications from: a Helm repository
   * URL (`http(s)://…`), `file://` of a folder with `index.yaml`, or a local folder of charts.
   * @defaultValue `OCNE_CATALOG` of `env` (or of `process.env`); none: a second start fails with
   * `OCNE_CATALOG_MISSING`
   */
  catalog?: { repoUrl: string };
  /** The helm binary. @defaultValue `OCNE_HELM` of `env` (or of `process.env`), else `helm` on `PATH` */
  helmPath?: string;
}

/** What {@link Cluster.open} keeps for the providers besides the configuration. */
interface ClusterTools {
  catalog?: { repoUrl: string };
  helmPath?: string;
}

/** Options of {@link Cluster.template}. */
export interface TemplateOptions extends OperationOptions, ProviderTemplateOptions {}

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

/** Options of {@link Cluster.moveNode}. */
export interface MoveNodeOptions extends OperationOptions {
  /** Kubeconfig of the cluster the node is in now. */
  sourceKubeconfigPath: string;
  /** Kubeconfig of the cluster it moves to. */
  destinationKubeconfigPath: string;
  /** The node's name. */
  node: string;
  /** The role it takes in the destination. @defaultValue 'worker' */
  role?: 'worker' | 'control-plane';
  /** The destination's virtual IP, for control-plane nodes of a virtual-IP cluster. */
  virtualIp?: string;
  /** The node's cluster network interface (needed with `virtualIp`). */
  netInterface?: string;
  /** @defaultValue 'iptables' */
  kubeProxyMode?: string;
}

/** What {@link Cluster.moveNode} returns. */
export interface MoveNodeResult {
  /** The join token created in the destination. */
  token: string;
  /** The destination's control-plane endpoint. */
  endpoint: string;
  /** For control-plane nodes: the key the certificates were uploaded with. */
  certificateKey?: string;
}

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
    await access(path);
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
  readonly #tools: ClusterTools;

  private constructor(config: ResolvedConfig, home: string, tools: ClusterTools = {}) {
    this.config = config;
    this.home = home;
    this.#cache = new ClusterCache({ home });
    this.#tools = tools;
  }

  /** Loads and checks the configuration. Warnings are in `config.warnings`. */
  static async open(options: ClusterOpenOptions = {}): Promise<Cluster> {
    const { catalog: catalogOption, helmPath: helmOption, ...load } = options;
    const home = load.home ?? homedir();
    const config = await loadConfig({ ...load, home, extraProviders: registeredProviders() });
    const env = options.env ?? process.env;
    const tools: ClusterTools = {};
    const catalog = catalogOption ?? (env.OCNE_CATALOG ? { repoUrl: env.OCNE_CATALOG } : undefined);
    if (catalog !== undefined) tools.catalog = catalog;
    const helmPath = helmOption ?? (env.OCNE_HELM || undefined);
    if (helmPath !== undefined) tools.helmPath = helmPath;
    return new Cluster(config, home, tools);
  }

  /** The clusters in the cache of a home folder. */
  static async list(options: { home?: string; signal?: AbortSignal } = {}): Promise<ClusterInfo[]> {
    const cache = new ClusterCache({ home: options.home ?? homedir() });
    return (await cache.list(options.signal ? { signal: options.signal } : {})).map(info);
  }

  /**
   * Moves a BYO node from one cluster to another
   * (`ocne cluster join --kubeconfig SRC --destination DST --node N`): a join token (and, for control-plane nodes, the certificate upload) in the
   * destination, the join configuration written on the node by an admin pod, the Node removed
   * from the source.
   */
  static moveNode(options: MoveNodeOptions): Operation<MoveNodeResult> {
    return startOperation(async ({ signal, emit }) => {
      const read = async (path: string, which: string) => {
        try {
          return await readFile(path, { encoding: 'utf8', signal });
        } catch (error) {
          throw new OcneError('OCNE_KUBECONFIG_MISSING', `cannot read the ${which} kubeconfig ${path}`, {
            cause: error,
          });
        }
      };
      const [sourceKubeconfig, destinationKubeconfig] = await Promise.all([
        read(options.sourceKubeconfigPath, 'source'),
        read(options.destinationKubeconfigPath, 'destination'),
      ]);
      const { migrateNode } = await import('@ocne/provider-byo');
      return migrateNode({
        sourceKubeconfig,
        destinationKubeconfig,
        node: options.node,
        role: options.role ?? 'worker',
        emit,
        signal,
        ...(options.virtualIp ? { virtualIp: options.virtualIp } : {}),
        ...(options.netInterface ? { netInterface: options.netInterface } : {}),
        ...(options.kubeProxyMode ? { kubeProxyMode: options.kubeProxyMode } : {}),
      });
    }, options);
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

  #context(signal: AbortSignal, emit: ProviderContext['emit']): ProviderContext {
    return { config: this.config, home: this.home, emit, signal, ...this.#tools };
  }

  async #provider(): Promise<ClusterProvider> {
    return loadProvider(this.provider);
  }

  #warnings(emit: ProviderContext['emit']): void {
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
   * result), its kubeconfig (mode 0600) and a cache entry. Starting a cluster that exists goes on
   * to the provider's next step (upstream installs the applications).
   */
  start(options: OperationOptions = {}): Operation<StartResult> {
    return startOperation(async ({ signal, emit }) => {
      this.#warnings(emit);
      const cluster = this.config.cluster;
      const cached = await this.#cache.get(this.name, { signal });
      if (cached !== undefined) {
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
      }
      const provider = await this.#provider();
      const context = this.#context(signal, emit);
      const kubeconfigPath = cached?.kubeconfig ?? this.kubeconfigPath;
      if (cached !== undefined && (await exists(kubeconfigPath))) {
        emit({ type: 'log', level: 'info', message: `Cluster ${this.name} is running already` });
        await provider.postStart({ ...context, kubeconfigPath });
        return { alreadyRunning: true, kubeconfigPath };
      }
      if (cached !== undefined) {
        throw new OcneError(
          'OCNE_CLUSTER_INCONSISTENT',
          `the cluster ${this.name} is in the cache but its kubeconfig ${kubeconfigPath} is missing: delete the cluster first`,
        );
      }
      const result = await provider.start(context);
      if (result.kubeconfig !== undefined) {
        await runStep(emit, `Saving kubeconfig to ${kubeconfigPath}`, () =>
          writeFileAtomic(kubeconfigPath, result.kubeconfig!, { mode: 0o600, signal }),
        );
      }
      await this.#cache.add({ config: cluster, kubeconfig: kubeconfigPath }, { signal });
      return {
        alreadyRunning: false,
        kubeconfigPath,
        ...(result.ignition !== undefined ? { ignition: result.ignition } : {}),
      };
    }, options);
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
      let kubeconfig: string;
      try {
        kubeconfig = await readFile(kubeconfigPath, { encoding: 'utf8', signal });
      } catch (error) {
        throw new OcneError(
          'OCNE_KUBECONFIG_MISSING',
          `cannot read the kubeconfig of cluster ${this.name} at ${kubeconfigPath}: start the cluster first, or give its kubeconfig`,
          { cause: error },
        );
      }
      const provider = await this.#provider();
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

  /** Deletes the cluster: what the provider made, its kubeconfig and its cache entry. */
  delete(options: OperationOptions = {}): Operation<void> {
    return startOperation(async ({ signal, emit }) => {
      const provider = await this.#provider();
      await provider.delete(this.#context(signal, emit));
      const cached = await this.#cache.get(this.name, { signal });
      const kubeconfigPath = cached?.kubeconfig ?? this.kubeconfigPath;
      if (await exists(kubeconfigPath)) {
        emit({ type: 'log', level: 'info', message: `Deleting file ${kubeconfigPath}` });
        await rm(kubeconfigPath, { force: true });
      }
      await this.#cache.delete(this.name, { signal });
    }, options);
  }

  /**
   * Renders the cluster's Cluster API resources as YAML (`ocne cluster template`). The oci
   * provider renders offline when the compartment and image OCIDs are configured; a compartment
   * path or finding the newest OCK image needs {@link ProviderTemplateOptions.lookup}. Providers without a
   * template fail with `OCNE_NOT_IMPLEMENTED`.
   */
  template(options: TemplateOptions = {}): Operation<string> {
    return startOperation(async ({ signal, emit }) => {
      this.#warnings(emit);
      const provider = await this.#provider();
      if (provider.template === undefined) {
        throw new OcneError(
          'OCNE_NOT_IMPLEMENTED',
          `templates not implemented for provider ${this.provider}`,
        );
      }
      return provider.template(this.#context(signal, emit), options.lookup ? { lookup: options.lookup } : {});
    }, options);
  }
}
