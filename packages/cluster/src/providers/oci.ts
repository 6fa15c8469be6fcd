/**
 * The facade's adapter for the oci provider. So far only its template (`ocne cluster template`),
 * from `@ocne/capi`; starting, joining and deleting clusters arrive with the OCI provider. The
 * template reads no files: the adapter reads those it uses first.
 */
import { objectsToYaml, ociTemplate } from '@ocne/capi/templates';
import { readConfigFiles } from '@ocne/config';
import { NODE_FILE_KEYS } from '@ocne/ignition';
import { type ClusterProvider, unavailableProvider } from '../provider.js';

/** The oci provider. */
export const ociProvider: ClusterProvider = {
  ...unavailableProvider('oci', 'starting, joining and deleting clusters arrive with the OCI provider'),
  async template({ config, emit, signal }, options) {
    // Not clusterDefinition: the template is what a user writes into that file, which may not exist yet.
    const files = await readConfigFiles(config.cluster, { keys: NODE_FILE_KEYS, signal });
    const template = await ociTemplate(config.cluster, {
      files,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      events: emit,
      signal,
    });
    return objectsToYaml(template.objects);
  },
};
