/**
 * @ocne/image: boot images and OSTree server images, created and uploaded without a cluster.
 *
 * @packageDocumentation
 */
export type {
  CreateOstreeImageOptions,
  ImageArch,
  OstreeImageResult,
  PullImage,
} from './ostree/create.js';
export {
  createOstreeImage,
  DEFAULT_OSTREE_SERVER_BASE_IMAGE,
  imageCacheDirectory,
  ostreeImagePath,
} from './ostree/create.js';
export type { OstreeReference } from './ostree/reference.js';
export { DEFAULT_OSTREE_REGISTRY, parseOstreeReference } from './ostree/reference.js';
