/**
 * @ocne/image: OCK boot images without a cluster.
 *
 * `createImage({ type: 'oci' })` takes the OCK boot disk out of the pulled image, makes upstream's
 * edits with a local disk editor (loop devices as root, else libguestfs) and writes
 * `~/.ocne/images/boot.qcow2-<kubernetesVersion>-<arch>.oci`.
 *
 * @example
 * ```ts
 * import { createImage } from '@ocne/image';
 * const op = createImage({ type: 'oci', arch: 'amd64', kubernetesVersion: '1.33', pull });
 * op.onEvent((e) => e.type === 'log' && console.log(e.message));
 * const { path } = await op;
 * ```
 *
 * @packageDocumentation
 */
export type { ExtractBootQcow2Options, ExtractBootQcow2Result } from './boot-qcow2.js';
export { BOOT_QCOW2_ENTRY, extractBootQcow2 } from './boot-qcow2.js';
export type {
  CreateImageOptions,
  ImageArchitecture,
  ImageResult,
  ImageType,
  PullRequest,
} from './create/create.js';
export { bootImageReference, createImage, imageCacheDirectory } from './create/create.js';
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
