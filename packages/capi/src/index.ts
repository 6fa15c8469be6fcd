/**
 * @ocne/capi: Cluster API for OCNE. So far: the CAPI providers (cert-manager, core CAPI, the OCI
 * provider capoci, the kubeadm bootstrap and control-plane providers) that upstream's `oci`
 * driver installs into a management cluster, as a pure plan ({@link capiProviderCharts}) and as
 * an install that waits for the controllers ({@link installCapiProviders}).
 *
 * @packageDocumentation
 */

export type {
  CapiCatalog,
  CapiProviderChartsOptions,
  CapiProviderPlan,
  CapiProxy,
  InstallCapiProvidersOptions,
  OciCredentials,
} from './providers.js';
export {
  CapiProvidersErrorCode,
  CONTROLLERS_UNAVAILABLE_MESSAGE,
  capiProviderCharts,
  EMPTY_PASSPHRASE_PLACEHOLDER,
  installCapiProviders,
} from './providers.js';
