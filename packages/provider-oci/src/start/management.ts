/**
 * The management cluster of an oci cluster, chosen in upstream's order (`start.EnsureCluster`):
 * `providers.oci.kubeconfig`, else `TEST_KUBECONFIG`, else `KUBECONFIG` (from the cluster's
 * environment), else an ephemeral cluster through the {@link EphemeralClusterPort}. The user's
 * `~/.kube/config` is never used: a management cluster runs controllers that create cloud
 * resources, so it is only ever one the user named.
 */
import { OcneError } from '@ocne/core';
import type {
  EphemeralClusterPort,
  ManagementCluster,
  ManagementClusterPort,
  OciPortRequest,
} from './ports.js';

/** Options of {@link defaultManagementCluster}. */
export interface DefaultManagementClusterOptions {
  /** Makes the ephemeral cluster when nothing names a management cluster (the libvirt provider's). */
  ephemeral?: EphemeralClusterPort;
  /**
   * Keep an ephemeral cluster after a self-managed start moved the cluster out of it.
   * @defaultValue `ephemeralCluster.preserve` of the defaults (false after upstream's merge)
   */
  keepEphemeral?: boolean;
}

/** The kubeconfig a user named, and where: the configuration first, then the environment. */
export function namedManagementCluster(
  request: Pick<OciPortRequest, 'config' | 'env'>,
): ManagementCluster | undefined {
  const configured =
    request.config.cluster.providers.oci.kubeconfig || request.config.defaults.providers.oci.kubeconfig;
  if (configured) return { kubeconfigPath: configured, source: 'config' };
  for (const name of ['TEST_KUBECONFIG', 'KUBECONFIG'] as const) {
    const value = request.env[name];
    // KUBECONFIG may list several files; like upstream, the first one is the management cluster.
    const first = value?.split(':').find((p) => p !== '');
    if (first) return { kubeconfigPath: first, source: name };
  }
  return undefined;
}

/** The management cluster port of {@link namedManagementCluster} and the ephemeral port. */
export function defaultManagementCluster(
  options: DefaultManagementClusterOptions = {},
): ManagementClusterPort {
  return {
    async ensure(request) {
      const named = namedManagementCluster(request);
      if (named) return named;
      if (options.ephemeral === undefined) {
        throw new OcneError(
          'OCNE_OCI_MANAGEMENT_CLUSTER_REQUIRED',
          'an oci cluster needs a management cluster to run the Cluster API controllers: set providers.oci.kubeconfig in the defaults file, or KUBECONFIG, or give createOciProvider({ ephemeral }) a way to start an ephemeral cluster',
        );
      }
      const { kubeconfigPath } = await options.ephemeral.ensure(request);
      return { kubeconfigPath, source: 'ephemeral' };
    },
    async release(request, cluster) {
      if (cluster.source !== 'ephemeral' || options.ephemeral === undefined) return;
      if (options.keepEphemeral ?? request.config.defaults.ephemeralCluster.preserve) return;
      await options.ephemeral.delete(request);
    },
  };
}
