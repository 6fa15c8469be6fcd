/**
 * @ocne/provider-oci: Oracle Cloud clusters through Cluster API. `provider` is what the `Cluster`
 * facade loads for `provider: oci`; {@link createOciProvider} takes the ports a start uses (the
 * management cluster, the boot images, the OCI lookups and credentials). It renders templates,
 * and starts and deletes clusters (`ociStart`, `ociDelete`).
 *
 * @packageDocumentation
 */

export type { EnsureOciImageDetailsOptions } from './cloud/ensure.js';
export { ensureOciImageDetails, OCI_ARM_SHAPES } from './cloud/ensure.js';
export type { OciServiceErrorDetails } from './cloud/errors.js';
export { OciServiceError } from './cloud/errors.js';
export type { OciImageArchitecture } from './cloud/image-archive.js';
export { imageMetadata } from './cloud/image-archive.js';
export type { OciCloudLookup } from './cloud/lookup.js';
export { createOciLookup } from './cloud/lookup.js';
export type { OciConfigLocation, OciConfigProfile, ReadOciProfileOptions } from './cloud/oci-config.js';
export { OCI_CONFIG_MAX_BYTES, ociConfigPath, parseOciConfig, readOciProfile } from './cloud/oci-config.js';
export type { OciAuthenticationProvider, OciCloudOptions, OciRetryOptions } from './cloud/session.js';
export type { UploadOciImageOptions, UploadOciImageResult } from './cloud/upload.js';
export { uploadOciImage } from './cloud/upload.js';
export type { OciProviderOptions } from './provider.js';
export { createOciProvider, provider } from './provider.js';
export * from './start/index.js';
