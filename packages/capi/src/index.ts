/**
 * @ocne/capi: Cluster API for OCNE.
 *
 * - Typed Cluster API and CAPOCI objects, generated from their CRDs.
 * - Everything of the pure `@ocne/capi/templates` entry: the OCI cluster template
 *   ({@link ociTemplate}) and the resources of `clusterDefinition`.
 * - What needs a management cluster: the CAPI providers upstream's `oci` driver installs
 *   ({@link capiProviderCharts}, {@link installCapiProviders}), the workload cluster's kubeconfig and
 *   oci-ccm settings, and {@link moveCluster} (`clusterctl move`).
 *
 * Import `@ocne/capi/templates` to render without loading a Kubernetes client.
 *
 * @packageDocumentation
 */

// Cluster API object types, generated from the CRD schemas by scripts/generate-types.ts, and the
// hand-written object metadata they use.
export type * from './generated/types.js';
export { API_VERSIONS } from './generated/types.js';
// Move: clusterctl move for one Cluster, from one management cluster to another.
export type {
  CapiMoveErrorOptions,
  CapiMoveState,
  MoveClusterOptions,
  MoveObject,
  MoveObjectRef,
  MoveOwner,
  MoveResult,
} from './move/index.js';
export { CAPI_MOVE_STEP, CapiMoveError, moveCluster } from './move/index.js';
export type {
  CapiCatalog,
  CapiProviderChartsOptions,
  CapiProviderPlan,
  CapiProxy,
  InstallCapiProvidersOptions,
  OciCredentials,
} from './providers.js';
export {
  CONTROLLERS_UNAVAILABLE_MESSAGE,
  capiProviderCharts,
  EMPTY_PASSPHRASE_PLACEHOLDER,
  installCapiProviders,
} from './providers.js';
export * from './templates.js';
// Workload cluster: the kubeconfig CAPI writes, and the oci-ccm settings and Secrets.
export type {
  OciCcmConfigured,
  OciCcmSecret,
  OciCcmSecretsOptions,
  OciCcmSettings,
  OciClusterNetworkFields,
  ReadOciCcmSettingsOptions,
  WaitForWorkloadKubeconfigOptions,
  WriteWorkloadKubeconfigOptions,
} from './workload.js';
export {
  KUBECONFIG_TIMEOUT_MS,
  ociCcmSecrets,
  ociCcmSettings,
  readOciCcmSettings,
  WAITING_FOR_KUBECONFIG,
  waitForWorkloadKubeconfig,
  workloadKubeconfigPath,
  writeWorkloadKubeconfig,
} from './workload.js';
