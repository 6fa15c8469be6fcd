/**
 * The ephemeral (bootstrap) cluster that upstream's OCI provider and `image create` use when no
 * management cluster is given: a one-node libvirt cluster, made on demand, reused while it exists,
 * deleted when asked. Its configuration is the target cluster's, with upstream's overrides
 * (`pkg/commands/cluster/start/ephemeral.go`).
 */
import type { ResolvedClusterConfig, ResolvedConfig } from '@ocne/config';
import type { EventSink } from '@ocne/core';
import { deleteLibvirtCluster, startLibvirtCluster } from './cluster.js';
import { createLibvirtProvider, type LibvirtProviderOptions } from './provider.js';

/** The Kubernetes version upstream gives every ephemeral cluster (a constant there). */
export const EPHEMERAL_KUBERNETES_VERSION = '1.33';

/**
 * The ephemeral cluster's configuration from the target's: named `ephemeralCluster.name`, one
 * control-plane node sized `ephemeralCluster.node`, no workers, headless, no catalogs, flannel,
 * Kubernetes 1.33, on libvirt; the rest (URI, network, proxy, boot image, OS tag) as the target's.
 */
export function ephemeralConfig(config: ResolvedConfig): ResolvedConfig {
  const target = config.cluster;
  const eph = config.defaults.ephemeralCluster;
  const cluster: ResolvedClusterConfig = {
    ...target,
    name: eph.name,
    provider: 'libvirt',
    controlPlaneNodes: 1,
    workerNodes: 0,
    headless: true,
    catalog: false,
    communityCatalog: false,
    cni: 'flannel',
    kubernetesVersion: EPHEMERAL_KUBERNETES_VERSION,
    virtualIp: '',
    loadBalancer: '',
    apiEndpoint: { ...target.apiEndpoint, address: '', internalLB: false },
    providers: {
      ...target.providers,
      libvirt: { ...target.providers.libvirt, controlPlaneNode: { ...eph.node } },
    },
  };
  return { ...config, cluster };
}

/** Options of {@link ensureEphemeralCluster}. */
export interface EphemeralClusterOptions {
  /** The target cluster's resolved configuration. */
  config: ResolvedConfig;
  home: string;
  env?: Readonly<Record<string, string | undefined>>;
  emit?: EventSink;
  signal?: AbortSignal;
  /** A management cluster's kubeconfig: when given, it is used and nothing is made. */
  kubeconfig?: string;
  /** The provider's options (boot image source, catalog, hypervisor…). */
  provider?: LibvirtProviderOptions;
}

/** What {@link ensureEphemeralCluster} gives. */
export interface EphemeralCluster {
  /**
   * The kubeconfig to reach it with: `provider.kubernetes.kubeconfigPath` when the options give one
   * (the API server its waits and installs used), else the cluster's `.local` kubeconfig.
   */
  kubeconfigPath: string;
  /** True when it was made now; false when it existed (or a kubeconfig was given). */
  created: boolean;
  /** The cluster's name, empty when a kubeconfig was given. */
  name: string;
}

/**
 * The management cluster: the given kubeconfig, else `TEST_KUBECONFIG`, else `KUBECONFIG` (as
 * upstream's `EnsureCluster`), else the ephemeral libvirt cluster, made if it does not exist and
 * reused (and started, if it is off) if it does.
 */
export async function ensureEphemeralCluster(options: EphemeralClusterOptions): Promise<EphemeralCluster> {
  const env = options.env ?? process.env;
  const given = options.kubeconfig || env.TEST_KUBECONFIG || env.KUBECONFIG;
  if (given) return { kubeconfigPath: given, created: false, name: '' };
  const config = ephemeralConfig(options.config);
  const emit = options.emit ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const context = { config, home: options.home, env, emit, signal };
  const started = await startLibvirtCluster(context, options.provider ?? {});
  const provider = createLibvirtProvider(options.provider ?? {});
  // Waits for the node and installs the applications, for a new cluster and a reused one alike.
  await provider.postStart?.(context, { kubeconfigPath: started.kubeconfigPaths.local });
  // The caller gets the API server the waits and installs used: the options' kubeconfig when they
  // name one (its Kubernetes side runs elsewhere), else the cluster's own through its tunnel.
  const kubernetes = options.provider?.kubernetes;
  return {
    kubeconfigPath: (kubernetes ? kubernetes.kubeconfigPath : undefined) ?? started.kubeconfigPaths.local,
    created: started.created,
    name: config.cluster.name,
  };
}

/** Deletes the ephemeral cluster (unless `preserve`, which upstream's merge always drops). */
export async function deleteEphemeralCluster(
  options: Omit<EphemeralClusterOptions, 'kubeconfig'>,
): Promise<string[]> {
  const config = ephemeralConfig(options.config);
  if (config.defaults.ephemeralCluster.preserve) return [];
  return deleteLibvirtCluster(
    {
      config: config.cluster,
      home: options.home,
      emit: options.emit ?? (() => {}),
      signal: options.signal ?? new AbortController().signal,
    },
    options.provider ?? {},
  );
}
