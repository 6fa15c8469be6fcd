/**
 * The facade's adapter for the oci provider. So far only its template (`ocne cluster template`),
 * from `@ocne/capi`; starting, joining and deleting clusters arrive with the OCI provider.
 */
import { objectsToYaml, ociTemplate } from '@ocne/capi/templates';
import { type ClusterProvider, unavailableProvider } from '../provider.js';

/** The oci provider. */
export const ociProvider: ClusterProvider = {
  ...unavailableProvider('oci', 'starting, joining and deleting clusters arrive with the OCI provider'),
  async template({ config, emit, signal }, options) {
    const template = await ociTemplate(config.cluster, {
      ...(options.lookup ? { lookup: options.lookup } : {}),
      events: emit,
      signal,
    });
    return objectsToYaml(template.objects);
  },
};
