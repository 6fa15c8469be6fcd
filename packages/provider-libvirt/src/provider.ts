/**
 * The libvirt provider as the `Cluster` facade drives it: `provider` (options from the environment)
 * and {@link createLibvirtProvider} for explicit ones. `start` creates the first node, waits for
 * the API server through the tunnel, joins the other nodes (on a libvirt network) and installs the
 * core applications; a start of a cluster that exists waits and installs again (`postStart`);
 * `join` adds nodes to a running cluster on a libvirt network (upstream's says `Join not
 * implemented for libvirt provider`); `delete` removes every domain, NVRAM and volume of the cluster.
 */
import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '@ocne/config';
import { type ClusterProvider, OcneError, type ProviderContext } from '@ocne/core';
import { deleteLibvirtCluster, joinLibvirtNodes, type LibvirtOptions, startFirstNode } from './cluster.js';
import { clusterAddress } from './ips.js';

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

/** Waits until the API server lists a node (through `@ocne/kubernetes`). */
async function waitForCluster(
  options: LibvirtProviderOptions,
  context: ProviderContext<ResolvedConfig>,
  kubeconfigPath: string,
): Promise<void> {
  if (options.kubernetes === false) return;
  // Loaded on first use: the Kubernetes client is heavy, and the facade loads this package for any libvirt call.
  const { waitForNodes } = await import('./kube.js');
  await waitForNodes({
    kubeconfigPath: options.kubernetes?.kubeconfigPath ?? kubeconfigPath,
    emit: context.emit,
    signal: context.signal,
    ...(options.kubernetes?.timeoutMs !== undefined ? { timeoutMs: options.kubernetes.timeoutMs } : {}),
  });
}

/** Installs the core applications, as a first start ends and a second start does. */
async function installApplications(
  options: LibvirtProviderOptions,
  context: ProviderContext<ResolvedConfig>,
  kubeconfigPath: string,
  network: { apiAddress: string; bridge: boolean },
): Promise<void> {
  if (options.kubernetes === false) return;
  const catalog = catalogOf(options, context);
  const { installLibvirtApplications } = await import('./kube.js');
  const helmPath = options.helmPath ?? (context.env.OCNE_HELM || undefined);
  await installLibvirtApplications({
    config: context.config.cluster,
    kubeconfigPath: options.kubernetes?.kubeconfigPath ?? kubeconfigPath,
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
    capabilities: { operations: ['start', 'join', 'delete'], userBootsNodes: false },
    async start(context) {
      const cluster = context.config.cluster;
      const extra = { controlPlaneNodes: cluster.controlPlaneNodes - 1, workerNodes: cluster.workerNodes };
      // Checked before any VM is made: without a catalog the start could not finish.
      if (options.kubernetes !== false) catalogOf(options, context);
      const { result, certificateKey } = await startFirstNode(context, options, {
        joinLater: options.kubernetes !== false,
      });
      await waitForCluster(options, context, result.kubeconfigPaths.local);
      // As upstream: the other nodes only when the first was made now (a second start reuses what exists).
      if (result.created && extra.controlPlaneNodes + extra.workerNodes > 0) {
        // The token is made where the wait found the API server.
        const override = options.kubernetes ? options.kubernetes.kubeconfigPath : undefined;
        await joinLibvirtNodes(context, options, {
          ...extra,
          kubeconfig: override === undefined ? result.kubeconfig : await readFile(override, 'utf8'),
          ...(certificateKey !== undefined ? { certificateKey } : {}),
        });
      }
      // On a node segment the cluster network is enp1s0, as on a libvirt network.
      await installApplications(options, context, result.kubeconfigPaths.local, {
        apiAddress: result.apiAddress,
        bridge: result.bridge || result.segment !== undefined,
      });
      return { kubeconfig: result.kubeconfig };
    },
    async postStart(context, { kubeconfigPath }) {
      const cluster = context.config.cluster;
      // The API address is the one recorded at start (a virtual IP may have been allocated then).
      const record = await clusterAddress(context.home, cluster.name);
      const apiAddress = record?.ip ?? (cluster.apiEndpoint.address || '127.0.0.1');
      await waitForCluster(options, context, kubeconfigPath);
      // The facade's kubeconfig is the `.local` one: the cluster is reached through its tunnel.
      await installApplications(options, context, kubeconfigPath, {
        apiAddress,
        bridge: apiAddress !== '127.0.0.1',
      });
    },
    async join(context, request) {
      // Without a start's certificate key, control-plane joins are refused by joinLibvirtNodes.
      const { token } = await joinLibvirtNodes(context, options, {
        controlPlaneNodes: request.controlPlaneNodes,
        workerNodes: request.workerNodes,
        kubeconfig: request.kubeconfig,
      });
      return { token, commands: [] };
    },
    async delete(context) {
      await deleteLibvirtCluster({ ...context, config: context.config.cluster }, options);
    },
  };
}

/** The libvirt provider, with its options from the cluster's environment (`OCNE_CATALOG`, `OCNE_HELM`). */
export const provider: ClusterProvider<ResolvedConfig> = createLibvirtProvider();
