/**
 * @ocne/test-images (private, test-only): generated stand-ins for OCK's images, built at test
 * time (never committed): an OCK-like boot disk and the OCI image that carries it.
 */

export type { InspectedDisk, InspectedFile, InspectedFileSystem } from './inspect.js';
export { inspectOckDisk } from './inspect.js';
export type { OckOciImageOptions } from './oci-image.js';
export { buildOckOciImage } from './oci-image.js';
export type { OckDiskOptions } from './ock-disk.js';
export { generateOckDisk, OCK_DISK, ockBlsEntry, ockFstab } from './ock-disk.js';
