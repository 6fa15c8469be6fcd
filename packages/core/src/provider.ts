/**
 * The contract between the `Cluster` facade (`@ocne/cluster`) and a provider (upstream's
 * `ClusterDriver`, asynchronous and cancellable). It lives below every package so that a provider
 * is one package that depends on this contract and never on the facade:
 *
 * - `@ocne/provider-<name>` exports `provider` (a {@link ClusterProvider}) from its main entry; the
 *   facade imports that package by name the first time a cluster of that provider is used.
 * - A provider that takes options exports its own factory (`createByoProvider({ catalog })`), and an
 *   embedder hands the instance to `Cluster.open({ provider })`: options are typed by the provider
 *   that owns them, not fields of a shared context.
 *
 * The contract is generic over the configuration type so that this package stays below the config
 * model; providers use `ClusterProvider<ResolvedConfig>` from `@ocne/config`.
 */
import { OcneError } from './errors.js';
import type { EventSink } from './events.js';

/** What a provider can be asked to do. `start` includes the start of an existing cluster (`postStart`). */
export type ProviderOperation = 'start' | 'join' | 'delete' | 'template' | 'moveNode';

/** What a provider declares about itself, so that a caller can tell before it asks. */
export interface ProviderCapabilities {
  /**
   * The operations it implements; the facade refuses the others with `OCNE_PROVIDER_UNAVAILABLE`
   * (or `OCNE_NOT_IMPLEMENTED` for `template`, as upstream words it) before loading anything.
   */
  readonly operations: readonly ProviderOperation[];
  /**
   * True when the user boots the nodes with Ignition the provider returns (byo); false when the
   * provider creates the machines itself.
   */
  readonly userBootsNodes: boolean;
}

/** What every provider call gets from the facade. */
export interface ProviderContext<TConfig> {
  /** The resolved configuration of the cluster (`ResolvedConfig` of `@ocne/config`). */
  readonly config: TConfig;
  /** The home folder (`.ocne/` and `.kube/` below it). */
  readonly home: string;
  /** The environment the cluster was opened with (`process.env` unless the caller gave one). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the provider reports steps, logs and warnings. */
  readonly emit: EventSink;
  /** Aborts the call. */
  readonly signal: AbortSignal;
}

/** What a provider's first start returns. */
export interface ProviderStartResult {
  /** Ignition the user boots the first node with (providers whose users boot the nodes). */
  ignition?: string;
  /** The admin kubeconfig to store, when the provider made one. */
  kubeconfig?: string;
}

/** What a start of a cluster that exists already gets. */
export interface ProviderPostStartRequest {
  /** The admin kubeconfig of the cluster. */
  kubeconfigPath: string;
}

/** How many nodes to join. */
export interface ProviderJoinRequest {
  controlPlaneNodes: number;
  workerNodes: number;
  /** The admin kubeconfig of the cluster (YAML). */
  kubeconfig: string;
  /** Name of the first control-plane node, when known. */
  firstControlPlaneNode?: string;
}

/** What a provider's join returns. */
export interface ProviderJoinResult {
  /** Ignition of the new nodes (providers whose users boot the nodes). */
  ignition?: string;
  /** The bootstrap token. */
  token?: string;
  /** Commands to run before booting the nodes. */
  commands: string[];
  /** Upstream's text around the commands. */
  instructions?: string;
}

/** A running node that moves from one cluster to another. */
export interface ProviderMoveNodeRequest {
  /** Kubeconfig (YAML) of the cluster the node is in now. */
  sourceKubeconfig: string;
  /** Kubeconfig (YAML) of the cluster it moves to. */
  destinationKubeconfig: string;
  /** The node's name. */
  node: string;
  /** The role it takes in the destination. */
  role: 'worker' | 'control-plane';
}

/** What a node move returns. */
export interface ProviderMoveNodeResult {
  /** The join token created in the destination. */
  token: string;
  /** The destination's control-plane endpoint. */
  endpoint: string;
  /** For control-plane nodes: the key the certificates were uploaded with. */
  certificateKey?: string;
}

/**
 * A provider as the facade drives it. Every method of an operation the provider lists in
 * {@link ProviderCapabilities.operations} must be present; the others may be left out.
 *
 * @typeParam TConfig - the configuration type; `ResolvedConfig` of `@ocne/config` for the facade.
 */
export interface ClusterProvider<TConfig = unknown> {
  /** The provider's name, as `provider:` in a configuration file says it. */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Creates the cluster (or what the user needs to create it). */
  start?(context: ProviderContext<TConfig>): Promise<ProviderStartResult>;
  /** What a start of an existing cluster does (upstream installs the applications). */
  postStart?(context: ProviderContext<TConfig>, request: ProviderPostStartRequest): Promise<void>;
  /** Makes what new nodes need to join. */
  join?(context: ProviderContext<TConfig>, request: ProviderJoinRequest): Promise<ProviderJoinResult>;
  /** Removes what the provider made (the facade removes the cache entry and the kubeconfig). */
  delete?(context: ProviderContext<TConfig>): Promise<void>;
  /** Renders the cluster's resources as YAML (`ocne cluster template`). */
  template?(context: ProviderContext<TConfig>): Promise<string>;
  /** Moves a running node into another cluster. */
  moveNode?(
    context: ProviderContext<TConfig>,
    request: ProviderMoveNodeRequest,
  ): Promise<ProviderMoveNodeResult>;
}

const OPERATIONS: readonly ProviderOperation[] = ['start', 'join', 'delete', 'template', 'moveNode'];

/**
 * Checks that a value (a provider package's `provider` export, a registered provider) keeps the
 * contract: a name, capabilities naming known operations, and a method for each operation it
 * lists (`start` also needs `postStart`). Throws `OCNE_PROVIDER_INVALID` saying what is wrong.
 */
export function assertClusterProvider(value: unknown, source: string): asserts value is ClusterProvider {
  const fail = (what: string): never => {
    throw new OcneError('OCNE_PROVIDER_INVALID', `${source} is not a cluster provider: ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail('expected an object');
  const provider = value as Partial<Record<string, unknown>>;
  if (typeof provider.name !== 'string' || provider.name === '') fail('it has no name');
  const capabilities = provider.capabilities as Partial<ProviderCapabilities> | undefined;
  if (typeof capabilities !== 'object' || capabilities === null || !Array.isArray(capabilities.operations))
    fail('it declares no capabilities.operations');
  for (const operation of (capabilities as ProviderCapabilities).operations) {
    if (!OPERATIONS.includes(operation)) fail(`unknown operation ${String(operation)}`);
    const methods = operation === 'start' ? ['start', 'postStart'] : [operation];
    for (const method of methods)
      if (typeof provider[method] !== 'function') fail(`it lists ${operation} but has no ${method}()`);
  }
}
