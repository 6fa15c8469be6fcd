/**
 * The oci provider as the `Cluster` facade drives it: it renders the cluster's Cluster API
 * resources (`ocne cluster template`) through `@ocne/capi/templates`, and starts and deletes
 * clusters through the orchestration of `start/` over its ports (the management cluster, the
 * boot images, the OCI credentials and lookups), each of which `createOciProvider` takes.
 */

import { join } from 'node:path';
import { type OciLookup, objectsToYaml, ociTemplate } from '@ocne/capi/templates';
import {
  architectureFromShape,
  type ResolvedClusterConfig,
  type ResolvedConfig,
  readConfigFiles,
} from '@ocne/config';
import type { ClusterProvider } from '@ocne/core';
import { NODE_FILE_KEYS } from '@ocne/ignition';
import type { OciCloudOptions } from './cloud/session.js';
import type {
  CredentialsPort,
  EphemeralClusterPort,
  ImagesPort,
  ManagementClusterPort,
  OciStartPorts,
} from './start/ports.js';
import type { OciStartDependencies, OciStartTimeouts } from './start/start.js';

/** Options of {@link createOciProvider}. */
export interface OciProviderOptions {
  /**
   * Oracle Cloud lookups (a compartment path such as `parent/child`, the newest OCK image of the
   * compartment). Without it the configuration must name the compartment and image OCIDs.
   */
  lookup?: OciLookup;
  /**
   * How to reach Oracle Cloud when no `lookup` is given (config file, region, endpoint, an
   * authentication provider). The profile is the cluster's `providers.oci.profile`.
   */
  cloud?: OciCloudOptions;
  /**
   * Finds or makes the boot images of the compartment (create, upload, import).
   * @defaultValue without a `lookup`: {@link cloudImages} through `cloud` (the newest OCK image of
   * the compartment, else one made from `bootVolumeContainerImage`, uploaded and imported); with a
   * `lookup`: only what it finds
   */
  images?: ImagesPort;
  /**
   * The management cluster. @defaultValue `providers.oci.kubeconfig`, else `TEST_KUBECONFIG`, else
   * `KUBECONFIG` of the cluster's environment, else an ephemeral cluster through `ephemeral`
   */
  managementCluster?: ManagementClusterPort;
  /**
   * Starts (or reuses) and deletes the ephemeral management cluster.
   * @defaultValue {@link libvirtEphemeralCluster}: `@ocne/provider-libvirt`'s, loaded when needed
   */
  ephemeral?: EphemeralClusterPort;
  /** Keep the ephemeral cluster after a self-managed start. @defaultValue `ephemeralCluster.preserve` */
  keepEphemeralCluster?: boolean;
  /**
   * The API-signing credentials of the profile.
   * @defaultValue the profile of `cloud.configFile`, else `$OCI_CONFIG_FILE`, else `<home>/.oci/config`
   */
  credentials?: CredentialsPort;
  /** The application catalog (CAPI providers, oci-ccm, core applications). @defaultValue `OCNE_CATALOG` */
  catalog?: { repoUrl: string };
  /** The helm binary. @defaultValue `OCNE_HELM`, else `helm` on `PATH` */
  helmPath?: string;
  /** How long the waits of start and delete may take. */
  timeouts?: OciStartTimeouts;
}

/**
 * True when the template cannot render offline: the compartment is a path, or a used
 * architecture has no image OCID. (Upstream always looks images up once it has a compartment;
 * here a configuration with every OCID needs no cloud access and loads no SDK.)
 */
export function needsCloudLookup(cluster: ResolvedClusterConfig): boolean {
  const { oci } = cluster.providers;
  if (oci.compartment === '') return false;
  if (!oci.compartment.startsWith('ocid1.compartment')) return true;
  return [oci.controlPlaneShape.shape, oci.workerShape.shape].some(
    (shape) => oci.images[architectureFromShape(shape)] === '',
  );
}

/**
 * The orchestration's dependencies from the provider's options. Loaded with the orchestration on
 * the first start or delete: a template loads neither it nor the Oracle Cloud clients.
 */
async function startDependencies(options: OciProviderOptions): Promise<OciStartDependencies> {
  const [{ defaultManagementCluster }, { libvirtEphemeralCluster }, { fileCredentials }, { cloudImages }] =
    await Promise.all([
      import('./start/management.js'),
      import('./start/ephemeral.js'),
      import('./start/credentials.js'),
      import('./start/images.js'),
    ]);
  const ports: OciStartPorts = {
    managementCluster:
      options.managementCluster ??
      defaultManagementCluster({
        ephemeral:
          options.ephemeral ??
          libvirtEphemeralCluster({
            ...(options.catalog ? { catalog: options.catalog } : {}),
            ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
          }),
        ...(options.keepEphemeralCluster !== undefined
          ? { keepEphemeral: options.keepEphemeralCluster }
          : {}),
      }),
    credentials:
      options.credentials ??
      fileCredentials(
        options.cloud?.configFile !== undefined ? { configFile: options.cloud.configFile } : {},
      ),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  // Without lookups of its own, the provider reaches Oracle Cloud itself (the profile, endpoint
  // and home come from the cluster when a start runs).
  const images = options.images ?? (options.lookup ? undefined : cloudImages({ cloud: options.cloud ?? {} }));
  if (images) ports.images = images;
  return {
    ports,
    ...(options.lookup ? {} : { cloud: options.cloud ?? {} }),
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  };
}

/** An oci provider with explicit options: `Cluster.open({ provider: createOciProvider({ lookup }) })`. */
export function createOciProvider(options: OciProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  // One set of ports per provider, as when they were made with it: the ephemeral cluster and the
  // images keep their state across a start and its postStart.
  let deps: Promise<OciStartDependencies> | undefined;
  const orchestration = async () => {
    const [start, { ociDelete }] = await Promise.all([
      import('./start/start.js'),
      import('./start/delete.js'),
    ]);
    deps ??= startDependencies(options);
    return { ...start, ociDelete, deps: await deps };
  };
  return {
    name: 'oci',
    capabilities: { operations: ['start', 'delete', 'template'], userBootsNodes: false },
    async start(context) {
      const { cancellable, ociStart, deps } = await orchestration();
      return cancellable(context.signal, () => ociStart(context, deps));
    },
    async postStart(context, { kubeconfigPath }) {
      const { cancellable, ociStart, deps } = await orchestration();
      // Upstream's driver runs its whole start again for a cluster it knows: every step finds its work done.
      await cancellable(context.signal, () => ociStart(context, deps, { kubeconfigPath }));
    },
    async delete(context) {
      const { cancellable, ociDelete, deps } = await orchestration();
      const kubeconfigPath = join(context.home, '.kube', `kubeconfig.${context.config.cluster.name}`);
      await cancellable(context.signal, () => ociDelete(context, { ...deps, kubeconfigPath }));
    },
    async template({ config, emit, signal, env }) {
      // Not clusterDefinition: the template is what a user writes into that file, which may not exist yet.
      const files = await readConfigFiles(config.cluster, {
        keys: NODE_FILE_KEYS,
        provenance: config.provenance,
        signal,
      });
      const cloud =
        options.lookup === undefined && needsCloudLookup(config.cluster)
          ? (await import('./cloud/lookup.js')).createOciLookup({ env, ...options.cloud })
          : undefined;
      const lookup = options.lookup ?? cloud;
      try {
        const template = await ociTemplate(config.cluster, {
          files,
          ...(lookup ? { lookup } : {}),
          events: emit,
          signal,
        });
        return objectsToYaml(template.objects);
      } finally {
        cloud?.close();
      }
    },
  };
}

/**
 * The oci provider as the facade loads it: Oracle Cloud is reached through the OCI config file
 * (`$OCI_CONFIG_FILE`, else `~/.oci/config`) and the cluster's environment (`OCNE_OCI_ENDPOINT`).
 */
export const provider: ClusterProvider<ResolvedConfig> = createOciProvider();
