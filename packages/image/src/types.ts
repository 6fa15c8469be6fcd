/**
 * The small types every image path shares: the image types and architectures upstream knows, and
 * the `pull` hook through which `createImage` gets the images it starts from. One definition each,
 * so the boot-image and OSTree paths cannot drift apart.
 */
import type { EventSink } from '@ocne/core';

/** The image types upstream creates (`ocne image create --type`). */
export type ImageType = 'oci' | 'olvm' | 'ostree';

/** The architectures upstream builds for. */
export type ImageArchitecture = 'amd64' | 'arm64';

/** What a `pull` hook gets: the reference to pull (with or without its transport) for one architecture. */
export interface PullRequest {
  reference: string;
  arch: ImageArchitecture;
  signal: AbortSignal;
  emit: EventSink;
}

/**
 * Puts an image for an architecture into a containers `dir:` layout and says where
 * ({@link pullImage} does this into upstream's cache).
 */
export type PullImage = (request: PullRequest) => Promise<{ directory: string }>;
