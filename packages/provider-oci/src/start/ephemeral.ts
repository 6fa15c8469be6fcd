/**
 * The default {@link EphemeralClusterPort}: upstream's throw-away management cluster, a one-node
 * libvirt cluster made (or reused) by `@ocne/provider-libvirt`'s ephemeral API. That package is an
 * optional peer, loaded only when a start has no management cluster named, so an oci user who
 * names one never installs libvirt's bindings.
 */
import { importOptional } from '@ocne/core';
import type { EphemeralClusterPort, OciPortRequest } from './ports.js';

/** What the libvirt provider's ephemeral calls take (a subset of its options). */
export interface EphemeralClusterRequest {
  /** The target cluster's configuration (the ephemeral one is derived from it). */
  config: OciPortRequest['config'];
  home: string;
  env?: Readonly<Record<string, string | undefined>>;
  emit?: OciPortRequest['emit'];
  signal?: AbortSignal;
  /** The libvirt provider's options: where the ephemeral cluster's applications come from. */
  provider?: { catalog?: { repoUrl: string }; helmPath?: string };
}

/** The part of `@ocne/provider-libvirt` this port calls (its exported ephemeral API). */
export interface EphemeralClusterApi {
  /** Makes the ephemeral cluster for the target's configuration, or reuses the running one. */
  ensureEphemeralCluster(options: EphemeralClusterRequest): Promise<{ kubeconfigPath: string }>;
  /** Deletes the ephemeral cluster (unless the defaults preserve it). */
  deleteEphemeralCluster(options: EphemeralClusterRequest): Promise<unknown>;
}

/** Options of {@link libvirtEphemeralCluster}. */
export interface LibvirtEphemeralClusterOptions {
  /** The catalog the ephemeral cluster's applications come from. @defaultValue `OCNE_CATALOG` */
  catalog?: { repoUrl: string };
  /** The helm binary. @defaultValue `OCNE_HELM`, else `helm` on `PATH` */
  helmPath?: string;
  /** Loads the ephemeral API. @defaultValue `import('@ocne/provider-libvirt')` */
  load?: () => Promise<EphemeralClusterApi>;
}

/** The ephemeral cluster of `@ocne/provider-libvirt`, loaded on first use. */
export function libvirtEphemeralCluster(options: LibvirtEphemeralClusterOptions = {}): EphemeralClusterPort {
  const load =
    options.load ??
    (() =>
      importOptional(
        '@ocne/provider-libvirt',
        () => import('@ocne/provider-libvirt'),
        'An oci cluster without a management cluster (providers.oci.kubeconfig or KUBECONFIG)',
      ) as Promise<EphemeralClusterApi>);
  const provider = {
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
  };
  const args = (request: OciPortRequest): EphemeralClusterRequest => ({
    config: request.config,
    home: request.home,
    env: request.env,
    emit: request.emit,
    signal: request.signal,
    provider,
  });
  return {
    async ensure(request) {
      const { kubeconfigPath } = await (await load()).ensureEphemeralCluster(args(request));
      return { kubeconfigPath };
    },
    async delete(request) {
      await (await load()).deleteEphemeralCluster(args(request));
    },
  };
}
