/**
 * @ocne/capi: Cluster API for OCNE. So far: the CAPI providers (cert-manager, core CAPI, the OCI
 * provider capoci, the kubeadm bootstrap and control-plane providers) that upstream's `oci`
 * driver installs into a management cluster, as a pure plan ({@link capiProviderCharts}) and as
 * an install that waits for the controllers ({@link installCapiProviders}).
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
