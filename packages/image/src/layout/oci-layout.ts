/**
 * Images on disk: reading the two local layouts an image arrives in (a containers `dir:` layout,
 * as `skopeo copy … dir:` and our registry pull leave it, blobs named by hex digest; an OCI image
 * layout, `blobs/sha256/<hex>` under `index.json`), and the manifest and config types both share.
 * Writing a new image is `archive-write.ts`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcneError } from '@ocne/core';

/** An OCI / Docker v2 descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An image manifest (OCI or Docker schema 2: the same fields). */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** One `history` entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config fields the SDK reads or writes; others pass through untouched. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    Cmd?: string[];
    Entrypoint?: string[];
    Env?: string[];
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
    [key: string]: unknown;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** An image read from a local layout. */
export interface LocalImage {
  readonly manifest: ImageManifest;
  readonly manifestBytes: Buffer;
  readonly config: ImageConfig;
  /** The path of a blob of this image. */
  blobPath(digest: string): string;
}

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a `sha256:` digest; anything else is refused (it becomes a file name). */
export function digestHex(digest: string): string {
  const m = SHA256.exec(digest);
  if (!m?.[1]) throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `unsupported digest ${digest}`);
  return m[1];
}

const LISTS = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

async function readJson<T>(path: string, what: string): Promise<{ value: T; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `cannot read the ${what} ${path}`, {
      cause: error,
    });
  }
  try {
    return { value: JSON.parse(bytes.toString('utf8')) as T, bytes };
  } catch (error) {
    throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `the ${what} ${path} is not JSON`, {
      cause: error,
    });
  }
}

async function finish(
  manifestBytes: Buffer,
  manifest: ImageManifest,
  blobPath: (d: string) => string,
  where: string,
) {
  if (manifest.mediaType && LISTS.has(manifest.mediaType)) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      `${where} holds a manifest list, not an image for one architecture`,
    );
  }
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `${where} has no image manifest`);
  }
  const { value: config, bytes } = await readJson<ImageConfig>(
    blobPath(manifest.config.digest),
    'image config',
  );
  if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== manifest.config.digest) {
    throw new OcneError('OCNE_IMAGE_OSTREE_DIGEST', `${where}: the image config does not match its digest`);
  }
  if (!Array.isArray(config.rootfs?.diff_ids) || config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      `${where}: the config's diff_ids do not match the manifest's ${manifest.layers.length} layers`,
    );
  }
  return { manifest, manifestBytes, config, blobPath } satisfies LocalImage;
}

/** Opens a containers `dir:` layout (`manifest.json`, blobs named by hex digest). */
export async function openDirImage(directory: string): Promise<LocalImage> {
  const { value, bytes } = await readJson<ImageManifest>(join(directory, 'manifest.json'), 'manifest');
  return finish(bytes, value, (d) => join(directory, digestHex(d)), directory);
}

/** Opens an OCI image layout; `tag` picks the manifest by `org.opencontainers.image.ref.name`. */
export async function openOciLayoutImage(directory: string, tag?: string): Promise<LocalImage> {
  const blobPath = (d: string) => join(directory, 'blobs', 'sha256', digestHex(d));
  const { value: index } = await readJson<{ manifests?: Descriptor[] }>(
    join(directory, 'index.json'),
    'index',
  );
  const manifests = index.manifests ?? [];
  const chosen =
    tag === undefined
      ? manifests.length === 1
        ? manifests[0]
        : undefined
      : manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!chosen) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      tag === undefined
        ? `${directory} holds ${manifests.length} images; name one`
        : `${directory} has no image ${tag}`,
    );
  }
  const { value, bytes } = await readJson<ImageManifest>(blobPath(chosen.digest), 'manifest');
  return finish(bytes, value, blobPath, directory);
}

/**
 * Opens a local image named with a transport: `oci:<dir>[:<tag>]` or `dir:<dir>`.
 * Returns undefined for anything else (a registry reference).
 */
export async function openLocalImage(reference: string): Promise<LocalImage | undefined> {
  if (reference.startsWith('dir:')) return openDirImage(reference.slice(4));
  if (reference.startsWith('oci:')) {
    const rest = reference.slice(4);
    const colon = rest.lastIndexOf(':');
    return colon > 0
      ? openOciLayoutImage(rest.slice(0, colon), rest.slice(colon + 1))
      : openOciLayoutImage(rest);
  }
  return undefined;
}
