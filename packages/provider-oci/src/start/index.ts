/**
 * Starting and deleting oci clusters: the orchestration over the ports of `ports.ts`, and the
 * default ports this package has (the management cluster a user names, the OCI configuration file).
 */
export type { FileCredentialsOptions } from './credentials.js';
export { fileCredentials } from './credentials.js';
export { ociDelete } from './delete.js';
export type {
  EphemeralClusterApi,
  EphemeralClusterRequest,
  EphemeralLibvirtOptions,
  LibvirtEphemeralClusterOptions,
} from './ephemeral.js';
export { libvirtEphemeralCluster } from './ephemeral.js';
export type {
  FailureWatch,
  InfrastructureRef,
  ReportingObject,
  ReportingStatus,
  WatchFailuresOptions,
} from './failures.js';
export { errorConditions, terminalFailure, watchControllerFailures } from './failures.js';
export type { CloudImagesOptions } from './images.js';
export { cloudImages } from './images.js';
export type { DefaultManagementClusterOptions } from './management.js';
export { defaultManagementCluster, namedManagementCluster } from './management.js';
export type * from './ports.js';
export type { OciStartDependencies, OciStartTimeouts } from './start.js';
export { OCI_START_TEXT, ociStart, startStatePath } from './start.js';
