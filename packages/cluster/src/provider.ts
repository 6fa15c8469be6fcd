/**
 * The provider interface of the facade, and the registry that loads providers by name, lazily:
 * a provider's code (and its dependencies: OCI SDK, libvirt bindings, Kubernetes client) is
 * imported only when a cluster of that provider is used.
 */
import type { OciLookup } from '@ocne/capi/templates';
import type { ResolvedConfig } from '@ocne/config';
import { type EventSink, OcneError } from '@ocne/core';

/** What a provider operation gets from the facade. */
export interface ProviderContext {
  /** The resolved configuration of the cluster. */
  config: ResolvedConfig;
  /** The home folder (`.ocne/`, `.kube/` below it). */
  home: string;
  emit: EventSink;
  signal: AbortSignal;
  /**
   * The application catalog the core applications come from (a Helm repository URL, `file://`
   * folder, or local folder of charts), from {@link ClusterOpenOptions.catalog} or `OCNE_CATALOG`.
   */
  catalog?: { repoUrl: string };
  /** The helm binary, from `ClusterOpenOptions.helmPath` or `OCNE_HELM`. @defaultValue `helm` on `PATH` */
  helmPath?: string;
  /** The admin kubeconfig of an existing cluster (given to `postStart`). */
  kubeconfigPath?: string;
}

/** What a provider's first start returns. */
export interface ProviderStartResult {
  /** Ignition the user boots the first node with (providers whose nodes the user boots). */
  ignition?: string;
  /** The admin kubeconfig to store, when the provider made one. */
  kubeconfig?: string;
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
  /** Ignition of the new nodes (providers whose nodes the user boots). */
  ignition?: string;
  /** The bootstrap token. */
  token?: string;
  /** Commands to run before booting the nodes, and upstream's text around them. */
  commands: string[];
  instructions?: string;
}

/** A provider as the facade drives it (upstream's `ClusterDriver`, asynchronous and cancellable). */
export interface ClusterProvider {
  readonly name: string;
  /** Creates the cluster (or what the user needs to create it). */
  start(context: ProviderContext): Promise<ProviderStartResult>;
  /** What a start on an existing cluster does (upstream installs the applications). */
  postStart(context: ProviderContext): Promise<void>;
  join(context: ProviderContext, request: ProviderJoinRequest): Promise<ProviderJoinResult>;
  /** Removes what the provider made (the facade removes the cache entry and kubeconfig). */
  delete(context: ProviderContext): Promise<void>;
  /** Renders the cluster's resources as YAML (`ocne cluster template`), for providers that have a template. */
  template?(context: ProviderContext, options: ProviderTemplateOptions): Promise<string>;
}

/** What a provider's template may use. */
export interface ProviderTemplateOptions {
  /** Oracle Cloud lookups (compartment paths, OCK images); without it, OCIDs must be configured. */
  lookup?: OciLookup;
}

/** Loads a provider's code on first use. */
export type ProviderLoader = () => Promise<ClusterProvider>;

const registry = new Map<string, ProviderLoader>();

/** Registers (or replaces) the provider of a name. Embedders can add their own providers. */
export function registerProvider(name: string, loader: ProviderLoader): void {
  registry.set(name, loader);
}

/** Names of the registered providers. */
export function registeredProviders(): string[] {
  return [...registry.keys()].sort();
}

/** Loads the provider of a name, or throws `OCNE_PROVIDER_UNKNOWN`. */
export async function loadProvider(name: string): Promise<ClusterProvider> {
  const loader = registry.get(name);
  if (loader === undefined) {
    throw new OcneError(
      'OCNE_PROVIDER_UNKNOWN',
      `No implementation exists for the ${name} driver (known: ${registeredProviders().join(', ')})`,
    );
  }
  return loader();
}

/** A provider this SDK version does not implement yet: every call says so. */
export function unavailableProvider(name: string, reason: string): ClusterProvider {
  const fail = async (): Promise<never> => {
    throw new OcneError(
      'OCNE_PROVIDER_UNAVAILABLE',
      `the ${name} provider is not available in this version of the SDK: ${reason}`,
    );
  };
  return { name, start: fail, postStart: fail, join: fail, delete: fail };
}
