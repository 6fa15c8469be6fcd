/**
 * The libvirt provider as the `Cluster` facade drives it: `provider` (options from the environment)
 * and {@link createLibvirtProvider} for explicit ones. `start` creates the VMs, waits for the API
 * server through the tunnel and installs the core applications; a start of a cluster that exists
 * waits and installs again (`postStart`); `delete` removes every domain, NVRAM and volume of the
 * cluster. It has no `join` (upstream's says `Join not implemented for libvirt provider`).
 */
import type { ResolvedConfig } from '@ocne/config';
import { type ClusterProvider, OcneError, type ProviderContext } from '@ocne/core';
import { deleteLibvirtCluster, type LibvirtOptions, startLibvirtCluster } from './cluster.js';

/** Options of {@link createLibvirtProvider}. */
export interface LibvirtProviderOptions extends LibvirtOptions {
  /**
   * The Kubernetes side of a start: wait for the nodes and install the core applications. `false`
   * ends `start` once the domains are started (for callers that need only the machines).
   */
  kubernetes?:
    | false
    | {
        /** The kubeconfig to reach the API server with. @defaultValue the cluster's `.local` kubeconfig */
        kubeconfigPath?: string;
        /** How long to wait for the nodes. @defaultValue 900000 (15 minutes) */
        timeoutMs?: number;
      };
  /** The application catalog (as byo's). @defaultValue `OCNE_CATALOG` of the cluster's environment */
  catalog?: { repoUrl: string };
  /** The helm binary. @defaultValue `OCNE_HELM` of the cluster's environment, else `helm` on `PATH` */
  helmPath?: string;
}

function catalogOf(options: LibvirtProviderOptions, context: ProviderContext<ResolvedConfig>) {
  const catalog =
    options.catalog ?? (context.env.OCNE_CATALOG ? { repoUrl: context.env.OCNE_CATALOG } : undefined);
  if (catalog === undefined) {
    throw new OcneError(
      'OCNE_CATALOG_MISSING',
      'installing the core applications (CoreDNS, kube-proxy, flannel, the UI, the catalog) after the VMs boot needs the OCNE application catalog: give it with createLibvirtProvider({ catalog: { repoUrl } }) or the environment variable OCNE_CATALOG',
    );
  }
  return catalog;
}

/** Waits for the cluster and installs the applications, as a first start ends and a second start does. */
async function afterBoot(
  options: LibvirtProviderOptions,
  context: ProviderContext<ResolvedConfig>,
  kubeconfigPath: string,
  network: { apiAddress: string; bridge: boolean },
): Promise<void> {
  if (options.kubernetes === false) return;
  const catalog = catalogOf(options, context);
  // Loaded on first use: the Kubernetes client is heavy, and the facade loads this package for any libvirt call.
  const { installLibvirtApplications, waitForNodes } = await import('./kube.js');
  const helmPath = options.helmPath ?? (context.env.OCNE_HELM || undefined);
  const path = options.kubernetes?.kubeconfigPath ?? kubeconfigPath;
  await waitForNodes({
    kubeconfigPath: path,
    emit: context.emit,
    signal: context.signal,
    ...(options.kubernetes?.timeoutMs !== undefined ? { timeoutMs: options.kubernetes.timeoutMs } : {}),
  });
  await installLibvirtApplications({
    config: context.config.cluster,
    kubeconfigPath: path,
    ...network,
    catalog,
    emit: context.emit,
    signal: context.signal,
    ...(helmPath !== undefined ? { helmPath } : {}),
    ...(options.kubernetes?.timeoutMs !== undefined ? { waitTimeoutMs: options.kubernetes.timeoutMs } : {}),
  });
}

/** A libvirt provider with explicit options: `Cluster.open({ provider: createLibvirtProvider({ bootImage }) })`. */
export function createLibvirtProvider(options: LibvirtProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  return {
    name: 'libvirt',
    // No join: upstream's says `Join not implemented for libvirt provider`; the facade refuses it.
    capabilities: { operations: ['start', 'delete'], userBootsNodes: false },
    async start(context) {
      // Checked before any VM is made: without a catalog the start could not finish.
      if (options.kubernetes !== false) catalogOf(options, context);
      const result = await startLibvirtCluster(context, options);
      await afterBoot(options, context, result.kubeconfigPaths.local, result);
      return { kubeconfig: result.kubeconfig };
    },
    async postStart(context, { kubeconfigPath }) {
      const cluster = context.config.cluster;
      // The facade's kubeconfig is the `.local` one: the cluster is reached through its tunnel.
      await afterBoot(options, context, kubeconfigPath, {
        apiAddress: cluster.virtualIp || cluster.loadBalancer || '127.0.0.1',
        bridge: cluster.virtualIp !== '' || cluster.loadBalancer !== '',
      });
    },
    async delete(context) {
      await deleteLibvirtCluster({ ...context, config: context.config.cluster }, options);
    },
  };
}

/** The libvirt provider, with its options from the cluster's environment (`OCNE_CATALOG`, `OCNE_HELM`). */
export const provider: ClusterProvider<ResolvedConfig> = createLibvirtProvider();
