/**
 * The ports `cluster start` and `delete` of the oci provider drive: what the orchestration
 * (`start.ts`, `delete.ts`) needs from the world outside this package, each injectable through
 * `createOciProvider({...})`. The real implementations live elsewhere (the libvirt provider's
 * ephemeral cluster, the OCI cloud layer's image pipeline and lookups); tests hand in their own.
 */
import type { OciCredentials } from '@ocne/capi';
import type { OciLookup } from '@ocne/capi/templates';
import type { Architecture, ResolvedConfig } from '@ocne/config';
import type { EventSink } from '@ocne/core';

/** What every port call gets: the cluster's configuration and environment, events and the signal. */
export interface OciPortRequest {
  /** The resolved configuration of the workload cluster. */
  config: ResolvedConfig;
  /** The home folder (`.ocne/` and `.kube/` below it). */
  home: string;
  /** The environment the cluster was opened with. */
  env: Readonly<Record<string, string | undefined>>;
  emit: EventSink;
  signal: AbortSignal;
}

/** Where the management cluster's kubeconfig came from. */
export type ManagementClusterSource = 'config' | 'TEST_KUBECONFIG' | 'KUBECONFIG' | 'ephemeral';

/** The cluster the Cluster API controllers run in. */
export interface ManagementCluster {
  /** Path of its admin kubeconfig. */
  kubeconfigPath: string;
  source: ManagementClusterSource;
}

/** Finds (or makes) the management cluster. */
export interface ManagementClusterPort {
  ensure(request: OciPortRequest): Promise<ManagementCluster>;
  /** Removes a management cluster this port made (an ephemeral one); others are left alone. */
  release(request: OciPortRequest, cluster: ManagementCluster): Promise<void>;
}

/**
 * A local throw-away management cluster (upstream: a libvirt cluster named by
 * `ephemeralCluster.name`), implemented by the libvirt provider.
 */
export interface EphemeralClusterPort {
  /** Starts the ephemeral cluster, or reuses the running one; returns its kubeconfig path. */
  ensure(request: OciPortRequest): Promise<{ kubeconfigPath: string }>;
  /** Deletes it. */
  delete(request: OciPortRequest): Promise<void>;
}

/** What {@link ImagesPort.ensureImages} is asked for. */
export interface EnsureImagesRequest {
  /** The architectures the control-plane and worker shapes use (one or two, no repeats). */
  architectures: readonly Architecture[];
  /** The compartment OCID the images live in. */
  compartmentId: string;
  /** The Kubernetes version as configured (`1.33`): the `ocne/kubernetes` tag. */
  kubernetesVersion: string;
  /** The OCI configuration profile (`providers.oci.profile`). */
  profile: string;
  /** The bucket images are uploaded through (`providers.oci.imageBucket`). */
  bucket: string;
  /** Kubeconfig of the management cluster (upstream builds images in a pod there). */
  managementKubeconfigPath: string;
  /** The OCK image the boot disk comes from (`bootVolumeContainerImage`, with its tag). */
  bootVolumeContainerImage: string;
  /** The home folder (`.ocne/images` and `.oci/config` below it). */
  home: string;
  /** The environment the cluster was opened with. */
  env: Readonly<Record<string, string | undefined>>;
  emit: EventSink;
  signal: AbortSignal;
}

/**
 * The OCK boot images of the compartment: for each architecture, the newest image with the
 * version's tags, else one created, uploaded and imported (both architectures at once), followed
 * by the capability-schema and shape fix-ups. Returns the image OCID per architecture asked for.
 */
export interface ImagesPort {
  ensureImages(request: EnsureImagesRequest): Promise<Partial<Record<Architecture, string>>>;
}

/** The API-signing credentials of the configured OCI profile (upstream reads `~/.oci/config`). */
export interface CredentialsPort {
  read(request: OciPortRequest & { profile: string }): Promise<OciCredentials>;
}

/** Every port of the start and delete orchestration. */
export interface OciStartPorts {
  managementCluster: ManagementClusterPort;
  credentials: CredentialsPort;
  images?: ImagesPort;
  lookup?: OciLookup;
}
