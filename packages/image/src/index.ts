/**
 * @ocne/image: boot images and OSTree server images, created without a cluster, pulled from
 * container registries into upstream's cache, and uploaded.
 *
 * @packageDocumentation
 */

export type { LocalImage, LocalLocation } from './layout/archive-read.js';
export { openLocalImage, parseLocalLocation } from './layout/archive-read.js';
export type {
  CreateOstreeImageOptions,
  ImageArch,
  OstreeImageResult,
  PullImage,
} from './ostree/create.js';
export {
  createOstreeImage,
  DEFAULT_OSTREE_SERVER_BASE_IMAGE,
  ostreeImagePath,
} from './ostree/create.js';
export type { OstreeReference } from './ostree/reference.js';
export { DEFAULT_OSTREE_REGISTRY, parseOstreeReference } from './ostree/reference.js';
export type { PulledLayer, PullImageOptions, PullResult } from './pull.js';
export { DIR_TRANSPORT_VERSION, imageCacheDirectory, pullImage } from './pull.js';
export type { CredentialLookup, RegistryCredentials } from './registry/auth.js';
export type {
  BlobSource,
  Descriptor,
  FetchedManifest,
  ImageManifest,
  RegistryClient,
  RegistryClientOptions,
  RegistryRequest,
  RegistryTlsOptions,
} from './registry/client.js';
export { MEDIA_TYPES, openRegistry } from './registry/client.js';
export type { RegistryReference } from './registry/reference.js';
export { formatRegistryReference, parseRegistryReference } from './registry/reference.js';
export type { UploadedBlob, UploadOptions, UploadResult, UploadType } from './upload.js';
export { uploadImage } from './upload.js';
