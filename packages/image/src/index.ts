/**
 * @ocne/image: OCK boot images and OSTree server images, created without a cluster, pulled from
 * container registries into upstream's cache, and uploaded.
 *
 * `createImage({ type: 'oci' })` takes the OCK boot disk out of the pulled image, makes upstream's
 * edits with a local disk editor (loop devices as root, else libguestfs) and writes
 * `~/.ocne/images/boot.qcow2-<kubernetesVersion>-<arch>.oci`; `createImage({ type: 'ostree' })`
 * unpacks the ock-ostree image into an archive repository served by an nginx image.
 *
 * @example
 * ```ts
 * import { createImage } from '@ocne/image';
 * const op = createImage({ type: 'oci', arch: 'amd64', kubernetesVersion: '1.33' });
 * op.onEvent((e) => e.type === 'log' && console.log(e.message));
 * const { path } = await op;
 * ```
 *
 * @packageDocumentation
 */

export type { ExtractBootQcow2Options, ExtractBootQcow2Result } from './boot-qcow2.js';
export { BOOT_QCOW2_ENTRY, extractBootQcow2 } from './boot-qcow2.js';
export type {
  BootImageResult,
  BootImageType,
  CreateBootImageOptions,
  CreateImageOptions,
  ImageResult,
} from './create/create.js';
export { bootImageReference, createImage } from './create/create.js';
export type { DeploymentFile } from './create/dhclient-files.js';
export { OCI_DHCLIENT_FILES } from './create/dhclient-files.js';
export type { BootDiskEdit, BootDiskEditReport } from './create/edit-disk.js';
export { editBootDisk } from './create/edit-disk.js';
export type { BlsEditOptions, FstabEditOptions } from './create/edits.js';
export {
  deployPathFromBls,
  kernelArgumentsSeparator,
  rewriteBls,
  rewriteFstab,
} from './create/edits.js';
export type {
  DiskEditor,
  DiskEditorName,
  DiskOpenOptions,
  DiskPartition,
  DiskSession,
  EditorAvailability,
  FileSystemInfo,
  MountedFileSystem,
  PathInfo,
} from './disk/editor.js';
export { guestfsEditorAvailability, loopEditorAvailability, selectDiskEditor } from './disk/editor.js';
export type { GptPartition, GptTable, ReadBytes } from './disk/gpt.js';
export { readGpt } from './disk/gpt.js';
export type {
  HistoryEntry,
  ImageConfig,
  LocalBlob,
  LocalImage,
  LocalLocation,
} from './layout/archive-read.js';
export { openLocalImage, parseLocalLocation } from './layout/archive-read.js';
export type { CreateOstreeImageOptions, OstreeImageResult } from './ostree/create.js';
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
export type { ImageArchitecture, ImageType, PullImage, PullRequest } from './types.js';
export type { UploadedBlob, UploadOptions, UploadResult, UploadType } from './upload.js';
export { uploadImage } from './upload.js';
