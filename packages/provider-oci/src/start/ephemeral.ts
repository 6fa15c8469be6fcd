/**
 * The default {@link EphemeralClusterPort}: upstream's throw-away management cluster, a one-node
 * libvirt cluster made (or reused) by `@ocne/provider-libvirt`'s ephemeral API. That package is an
 * optional peer, loaded only when a start has no management cluster named, so an oci user who
 * names one never installs libvirt's bindings.
 */
import { importOptional } from '@ocne/core';
import type { RegistryCredentials, RegistryTlsOptions } from '@ocne/image';
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
  provider?: EphemeralLibvirtOptions;
}

/**
 * The libvirt provider options an ephemeral cluster is made with, typed here by their shape: the
 * libvirt provider is an optional peer, so this package names none of its types (a caller passes
 * `@ocne/provider-libvirt`'s `LibvirtProviderOptions`, which fit).
 */
export interface EphemeralLibvirtOptions {
  /** Where the boot image comes from: a function giving the path of a local qcow2. @defaultValue the OCK image */
  bootImage?: (request: {
    arch: 'amd64' | 'arm64';
    kubernetesVersion: string;
    bootVolumeContainerImage: string;
    signal: AbortSignal;
    emit: OciPortRequest['emit'];
  }) => Promise<string>;
  /** How the default boot image source reaches the registry (the libvirt provider's `registry`). */
  registry?: { tls?: RegistryTlsOptions; auth?: RegistryCredentials };
  /** The domain type. @defaultValue `kvm` when the daemon offers it, else `qemu` */
  hypervisor?: 'kvm' | 'qemu' | 'hvf';
  /** A folder where each domain's serial console is logged as `<domain>.log`. */
  serialLogDir?: string;
  /**
   * Where the waits for the node and the application installs go: `kubeconfigPath` names another
   * API server, which then is the management cluster. @defaultValue the ephemeral cluster's own
   */
  kubernetes?: false | { kubeconfigPath?: string; timeoutMs?: number };
  /** The catalog the ephemeral cluster's applications come from. */
  catalog?: { repoUrl: string };
  /** The helm binary. */
  helmPath?: string;
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
  /**
   * More libvirt provider options (boot image, registry, serial logs, where the Kubernetes side
   * runs…); `catalog` and `helmPath` above win over theirs.
   */
  provider?: EphemeralLibvirtOptions;
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
  const provider: EphemeralLibvirtOptions = {
    ...options.provider,
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
