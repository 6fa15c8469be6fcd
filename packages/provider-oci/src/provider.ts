/**
 * The oci provider as the `Cluster` facade drives it. So far it renders the cluster's Cluster API
 * resources (`ocne cluster template`) through `@ocne/capi/templates`, resolving a compartment path
 * and missing image OCIDs in Oracle Cloud (`./cloud/`); starting, joining and deleting clusters
 * arrive later, and until then the provider does not list them among its operations (the facade
 * says so with `OCNE_PROVIDER_UNAVAILABLE`).
 */
import { type OciLookup, objectsToYaml, ociTemplate } from '@ocne/capi/templates';
import {
  architectureFromShape,
  type ResolvedClusterConfig,
  type ResolvedConfig,
  readConfigFiles,
} from '@ocne/config';
import type { ClusterProvider } from '@ocne/core';
import { NODE_FILE_KEYS } from '@ocne/ignition';
import { createOciLookup } from './cloud/lookup.js';
import type { OciCloudOptions } from './cloud/session.js';

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

/** An oci provider with explicit options: `Cluster.open({ provider: createOciProvider({ lookup }) })`. */
export function createOciProvider(options: OciProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  return {
    name: 'oci',
    capabilities: { operations: ['template'], userBootsNodes: false },
    async template({ config, emit, signal, env }) {
      // Not clusterDefinition: the template is what a user writes into that file, which may not exist yet.
      const files = await readConfigFiles(config.cluster, {
        keys: NODE_FILE_KEYS,
        provenance: config.provenance,
        signal,
      });
      const cloud =
        options.lookup === undefined && needsCloudLookup(config.cluster)
          ? createOciLookup({ env, ...options.cloud })
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
