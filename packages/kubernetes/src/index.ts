/**
 * @ocne/kubernetes: the SDK's one place of Kubernetes access. Connect from a kubeconfig,
 * server-side apply (CRDs and namespaces first), reads, deletes with propagation, watch-based
 * waits that resume after dropped connections, kubeadm bootstrap tokens and kubeadm-config.
 *
 * @packageDocumentation
 */

export type { AdminPodManifest, AdminPodOptions, AdminPodResult, ConsoleOptions } from './admin-pod.js';
export {
  ADMIN_POD_IMAGE,
  ADMIN_POD_NAMESPACE,
  adminPodManifest,
  consoleCommand,
  consoleOnNode,
  consolePodName,
  KubeCommandError,
  runOnNode,
  runOnNodeOrThrow,
  TOOLBOX_IMAGE,
} from './admin-pod.js';
export type {
  AppliedObject,
  ApplyOptions,
  ConnectOptions,
  DeleteOptions,
  ObjectRef,
  WaitOptions,
  WatchTarget,
} from './client.js';
export {
  applyOrder,
  connect,
  hasCondition,
  KubeClient,
  parseManifests,
  waitForDeployments,
} from './client.js';
export type { InstallCoreApplicationsOptions } from './core-apps.js';
export { installCoreApplications } from './core-apps.js';
export type { KubeStatus } from './errors.js';
export { hasReason, KubeError, wrapKubeError } from './errors.js';
export type { ExecOptions } from './exec.js';
export { execInPod } from './exec.js';
export type {
  CatalogRelease,
  ChartCatalog,
  ChartRef,
  HelmOptions,
  HelmRelease,
  InstallReleaseOptions,
  InstallResult,
  ListReleasesOptions,
  ReleaseSpec,
} from './helm.js';
export {
  catalogChart,
  helmVersion,
  installFromCatalog,
  installRelease,
  listReleases,
  uninstallRelease,
} from './helm.js';
export type { BootstrapTokenOptions, KubeadmClusterInfo } from './kubeadm.js';
export {
  BOOTSTRAP_TOKEN_DEFAULTS,
  createBootstrapToken,
  readKubeadmConfig,
  splitHostPort,
} from './kubeadm.js';
export type { KubeObjectMeta, KubeOwnerReference, KubernetesObject } from './objects.js';
export type { KubeRestCallOptions, KubeRestOptions } from './rest.js';
export { KubeRestClient } from './rest.js';
