/**
 * `image create --type ostree` without a cluster or a container runtime: take the ock-ostree
 * image for an architecture from a local `dir:` layout (pulled, or already in the cache),
 * unencapsulate it into an archive repository, add that as a layer to a base image that serves
 * files with nginx, and save the result as upstream names it,
 * `~/.ocne/images/ock-<kubernetesVersion>-<arch>-ostree.tar`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KUBERNETES_VERSION } from '@ocne/config';
import {
  type EventSink,
  OcneError,
  type Operation,
  type OperationOptions,
  runStep,
  startOperation,
} from '@ocne/core';
import { type LocalImage, openLocalImage, parseLocalLocation } from '../layout/archive-read.js';
import { pullImage } from '../pull.js';
import type { ImageArchitecture, PullImage } from '../types.js';
import { DEFAULT_OSTREE_REGISTRY, parseOstreeReference } from './reference.js';
import { writeServerImage } from './server-image.js';
import { unencapsulate } from './unencapsulate.js';

/**
 * The default base of the server image: any image whose nginx serves `/usr/share/nginx/html`
 * works. Upstream builds `oraclelinux:8-slim` + nginx with podman, which we do not require.
 */
export const DEFAULT_OSTREE_SERVER_BASE_IMAGE = 'docker.io/library/nginx:stable';

/** Options of {@link createOstreeImage}. */
export interface CreateOstreeImageOptions extends OperationOptions {
  /** Only `ostree` (for `createImage`, which dispatches on it). */
  type?: 'ostree';
  /**
   * The Kubernetes version: the default `osTag` and part of the output name.
   * @defaultValue the SDK's default Kubernetes version
   */
  kubernetesVersion?: string;
  /** The architecture of the ostree image taken from a multi-architecture image. @defaultValue `amd64` */
  arch?: ImageArchitecture;
  /** The ostree image without its tag; default upstream's `ostree-unverified-registry:container-registry.oracle.com/olcne/ock-ostree`. */
  osRegistry?: string;
  /** Default: `kubernetesVersion`. */
  osTag?: string;
  /**
   * The nginx image to add the repository to (`ostreeServerBaseImage`): a registry reference
   * (pulled or cached like the ostree image), or a local `oci:<dir>[:<tag>]`, `oci-archive:<file>` or `dir:<dir>`.
   */
  baseImage?: string;
  /** The directory holding `.ocne`; default the user's home. */
  home?: string;
  /** Environment for the registry auth files (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`) of the default pull. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** How images are fetched. @defaultValue {@link pullImage} into `~/.ocne/images` */
  pull?: PullImage;
}

/** What {@link createOstreeImage} made. */
export interface OstreeImageResult {
  /** The oci-archive written. */
  readonly path: string;
  /** Always `ostree` (tells it apart from a {@link BootImageResult} in an {@link ImageResult}). */
  readonly type: 'ostree';
  /** The architecture of the image served. */
  readonly arch: ImageArchitecture;
  /** The Kubernetes version in the archive's name (and the default `osTag`). */
  readonly kubernetesVersion: string;
  /** The OSTree commit the image serves under the ref `ock`. */
  readonly commit: string;
  /** The digest of the archive's manifest. */
  readonly manifestDigest: string;
  /** Content objects (files, symlinks) unpacked, each checksum-verified. */
  readonly contentObjects: number;
  /** Metadata objects (commit, dirtree, dirmeta) unpacked, each checksum-verified. */
  readonly metadataObjects: number;
}

/** The oci-archive upstream writes for `--type ostree`. */
export function ostreeImagePath(home: string, kubernetesVersion: string, arch: ImageArchitecture): string {
  return join(home, '.ocne', 'images', `ock-${kubernetesVersion}-${arch}-ostree.tar`);
}

/** Where an image comes from, and for which architecture. */
interface ResolveContext {
  home: string;
  arch: ImageArchitecture;
  pull: PullImage;
  signal: AbortSignal;
  emit: EventSink;
}

async function resolveImage(reference: string, context: ResolveContext): Promise<LocalImage> {
  const image = await findImage(reference, context);
  // An image for another architecture would make a server image that cannot run there.
  const arch = image.config.architecture;
  if (arch !== undefined && arch !== context.arch) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      `the image ${reference} is for ${arch}, not for ${context.arch}`,
    );
  }
  return image;
}

async function findImage(reference: string, context: ResolveContext): Promise<LocalImage> {
  // A local layout (`oci:`, `oci-archive:`, `dir:`) is read where it lies; anything else is pulled.
  if (parseLocalLocation(reference)) return openLocalImage(reference, context.arch);
  const { directory } = await context.pull({
    reference,
    arch: context.arch,
    signal: context.signal,
    emit: context.emit,
  });
  return openLocalImage(`dir:${directory}`, context.arch);
}

/**
 * Creates the OSTree server image. Returns at once; await the operation for the result, or follow
 * its events (steps, byte progress of the unpacking, object counts).
 */
export function createOstreeImage(options: CreateOstreeImageOptions): Operation<OstreeImageResult> {
  return startOperation(async ({ signal, emit }) => {
    const arch = options.arch ?? 'amd64';
    if (arch !== 'amd64' && arch !== 'arm64') {
      throw new OcneError('OCNE_USAGE', 'Architecture must be one of: amd64, arm64');
    }
    const kubernetesVersion = options.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
    if (!kubernetesVersion) throw new OcneError('OCNE_USAGE', 'a Kubernetes version is required');
    const source = parseOstreeReference(
      options.osRegistry ?? DEFAULT_OSTREE_REGISTRY,
      options.osTag ?? kubernetesVersion,
    );
    const home = options.home ?? homedir();
    // Images come through the caller's `pull`, else from their registry into upstream's cache.
    const env = options.env;
    const pull: PullImage =
      options.pull ?? ((request) => pullImage({ ...request, home, ...(env ? { env } : {}) }));
    const context = { home, arch, pull, signal, emit };
    emit({ type: 'log', level: 'info', message: 'Creating Image' });
    const image = await runStep(emit, `Getting ostree image ${source.pullReference} for ${arch}`, () =>
      resolveImage(source.pullReference, context),
    );
    const baseReference = options.baseImage ?? DEFAULT_OSTREE_SERVER_BASE_IMAGE;
    const base = await runStep(emit, `Getting base image ${baseReference}`, () =>
      resolveImage(baseReference, context),
    );
    const tmpRoot = join(home, '.ocne', 'tmp');
    await mkdir(tmpRoot, { recursive: true });
    const work = await mkdtemp(join(tmpRoot, 'create-images-'));
    try {
      const repo = join(work, 'ostree');
      const imported = await runStep(emit, 'Unpacking ostree image', () =>
        unencapsulate({ image, repo, signal, emit }),
      );
      emit({
        type: 'log',
        level: 'info',
        message: `Unpacked commit ${imported.commit}: ${imported.contentObjects} content and ${imported.metadataObjects} metadata objects`,
      });
      const destination = ostreeImagePath(home, kubernetesVersion, arch);
      const server = await runStep(emit, 'Generating container image', () =>
        writeServerImage({ base, repo, destination, workDir: work, commit: imported.commit, signal, emit }),
      );
      emit({ type: 'log', level: 'info', message: `Saved image to ${destination}` });
      return {
        path: server.path,
        type: 'ostree',
        arch,
        kubernetesVersion,
        commit: imported.commit,
        manifestDigest: server.manifestDigest,
        contentObjects: imported.contentObjects,
        metadataObjects: imported.metadataObjects,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, options);
}
