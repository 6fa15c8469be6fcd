/**
 * The templates part of @ocne/capi on its own (`@ocne/capi/templates`): rendering and reading
 * Cluster API resources needs no Kubernetes client, so importing this entry does not load one.
 *
 * @packageDocumentation
 */

export { OCI_SUBNETS, ociNetworkSpec } from './network.js';
export type { ObjectMeta, OwnerReference } from './objects.js';
export { CLUSTER_NAME_LABEL } from './objects.js';
export type {
  ClusterResources,
  ClusterResourcesSource,
  KubeObject,
  ResourcesLocation,
} from './resources.js';
export {
  CapiResourcesError,
  checkClusterResources,
  ociClusterResources,
  parseKubeObjects,
} from './resources.js';
export type {
  OciAdditionalConfigOptions,
  OciImageQuery,
  OciLookup,
  OciTemplate,
  OciTemplateObjects,
  OciTemplateOptions,
} from './template.js';
export {
  ADDITIONAL_CONFIG_MAX_LENGTH,
  INSTANCE_ID_PLACEHOLDER,
  OCK_IMAGE_NAME,
  objectsToYaml,
  ociAdditionalConfig,
  ociTemplate,
  VOLUME_PLUGIN_DIR,
} from './template.js';
