/**
 * The oci provider as the `Cluster` facade drives it. So far it renders the cluster's Cluster API
 * resources (`ocne cluster template`) through `@ocne/capi/templates`; starting, joining and
 * deleting clusters in Oracle Cloud arrive with the cloud layer, and until then the provider does
 * not list them among its operations (the facade says so with `OCNE_PROVIDER_UNAVAILABLE`).
 */
import { type OciLookup, objectsToYaml, ociTemplate } from '@ocne/capi/templates';
import { type ResolvedConfig, readConfigFiles } from '@ocne/config';
import type { ClusterProvider } from '@ocne/core';
import { NODE_FILE_KEYS } from '@ocne/ignition';

/** Options of {@link createOciProvider}. */
export interface OciProviderOptions {
  /**
   * Oracle Cloud lookups (a compartment path such as `parent/child`, the newest OCK image of the
   * compartment). Without it the configuration must name the compartment and image OCIDs.
   */
  lookup?: OciLookup;
}

/** An oci provider with explicit options: `Cluster.open({ provider: createOciProvider({ lookup }) })`. */
export function createOciProvider(options: OciProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  return {
    name: 'oci',
    capabilities: { operations: ['template'], userBootsNodes: false },
    async template({ config, emit, signal }) {
      // Not clusterDefinition: the template is what a user writes into that file, which may not exist yet.
      const files = await readConfigFiles(config.cluster, {
        keys: NODE_FILE_KEYS,
        provenance: config.provenance,
        signal,
      });
      const template = await ociTemplate(config.cluster, {
        files,
        ...(options.lookup ? { lookup: options.lookup } : {}),
        events: emit,
        signal,
      });
      return objectsToYaml(template.objects);
    },
  };
}

/** The oci provider without cloud lookups (OCIDs come from the configuration). */
export const provider: ClusterProvider<ResolvedConfig> = createOciProvider();
