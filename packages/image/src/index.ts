/**
 * @ocne/image: boot images and OSTree server images: pulling them from container registries into
 * upstream's cache, and uploading them.
 *
 * @packageDocumentation
 */

export type { LocalImage, LocalLocation } from './layout/archive-read.js';
export { openLocalImage, parseLocalLocation } from './layout/archive-read.js';
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
