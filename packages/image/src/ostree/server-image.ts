/**
 * The OSTree server image: the archive repository becomes one more layer
 * (`usr/share/nginx/html/ostree/…`) on a base image that already serves its docroot with nginx,
 * with upstream's `CMD ["nginx","-g","daemon off;"]` and `EXPOSE 80 443`, written as an
 * oci-archive. This replaces upstream's `podman build` + `podman save`: no container runtime.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type EventSink, OcneError } from '@ocne/core';
import { pack as tarPack } from 'tar-stream';
import type { ImageConfig, LocalImage } from '../layout/archive-read.js';
import {
  type ArchiveBlob,
  addTarEntry,
  hashing,
  sha256Digest,
  writeOciArchive,
} from '../layout/archive-write.js';
import type { Descriptor, ImageManifest } from '../registry/client.js';

/** Where nginx's docroot keeps the repository, as upstream's image has it. */
export const OSTREE_DOCROOT_PATH = 'usr/share/nginx/html/ostree';
/** Upstream's `CMD` for the server image. */
export const SERVER_CMD: readonly string[] = ['nginx', '-g', 'daemon off;'];
// Files up to this size go into the layer from one buffer, larger ones streamed.
const SMALL_FILE = 256 * 1024;

/** The name the archive's `index.json` gives the image (upstream tags it `ock-ostree:latest`). */
export const SERVER_REF_NAME = 'ock-ostree:latest';

const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
// Docker schema 2 media types of the same bytes, for a base image pulled as Docker v2.
const TO_OCI: Record<string, string> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': `${OCI_LAYER}+gzip`,
  'application/vnd.docker.image.rootfs.diff.tar': OCI_LAYER,
};

/** Options of {@link writeServerImage}. */
export interface ServerImageOptions {
  readonly base: LocalImage;
  /** The archive repository to serve. */
  readonly repo: string;
  /** The oci-archive to write (atomically). */
  readonly destination: string;
  /** A scratch directory for the new layer. */
  readonly workDir: string;
  /** For the history entry. */
  readonly commit: string;
  readonly signal?: AbortSignal;
  readonly emit?: EventSink;
  /** The image's creation time; now by default. */
  readonly created?: Date;
}

/** What {@link writeServerImage} wrote. */
export interface ServerImage {
  readonly path: string;
  readonly manifestDigest: string;
  readonly layerDigest: string;
}

async function* walk(
  dir: string,
  prefix: string,
): AsyncGenerator<{ path: string; name: string; dir: boolean }> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const s = await lstat(path);
    if (s.isDirectory()) {
      yield { path, name: `${prefix}${name}/`, dir: true };
      yield* walk(path, `${prefix}${name}/`);
    } else if (s.isFile()) {
      yield { path, name: `${prefix}${name}`, dir: false };
    } else {
      throw new OcneError(
        'OCNE_IMAGE_OSTREE_MALFORMED',
        `the repository holds ${path}, neither a file nor a directory`,
      );
    }
  }
}

/**
 * Writes the repository as an uncompressed tar layer, everything owned by root and readable by
 * nginx's worker; returns its digest (= diff_id). Uncompressed, as `podman save` writes it: the
 * objects are zlib streams already, so gzip would cost time for almost no size.
 */
async function writeRepoLayer(
  repo: string,
  file: string,
  signal: AbortSignal | undefined,
  emit: EventSink | undefined,
): Promise<{ digest: string; size: number }> {
  const tar = tarPack();
  const hash = createHash('sha256');
  let size = 0;
  const written = pipeline(
    tar,
    hashing(hash, (n) => {
      size += n;
    }),
    createWriteStream(file),
    signal ? { signal } : {},
  );
  written.catch(() => {});
  const mtime = new Date(0);
  const dir = (name: string) =>
    addTarEntry(tar, { name, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime });
  let files = 0;
  try {
    const parts = OSTREE_DOCROOT_PATH.split('/');
    for (let i = 1; i <= parts.length; i++) await dir(`${parts.slice(0, i).join('/')}/`);
    for await (const item of walk(repo, `${OSTREE_DOCROOT_PATH}/`)) {
      signal?.throwIfAborted();
      if (item.dir) {
        await dir(item.name);
        continue;
      }
      const { size: fileSize } = await lstat(item.path);
      const header = { name: item.name, size: fileSize, mode: 0o644, uid: 0, gid: 0, mtime };
      if (fileSize <= SMALL_FILE) {
        // Most objects are small: one read, no stream pipeline per file.
        await addTarEntry(tar, header, await readFile(item.path));
      } else {
        await pipeline(createReadStream(item.path), tar.entry(header));
      }
      if (++files % 1000 === 0)
        emit?.({ type: 'log', level: 'debug', message: `server layer: ${files} files` });
    }
    tar.finalize();
    await written;
  } catch (error) {
    tar.destroy();
    throw error;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Builds the server image from `base` and the repository and writes it as an oci-archive. */
export async function writeServerImage(options: ServerImageOptions): Promise<ServerImage> {
  const { base, signal, emit } = options;
  const layerFile = join(options.workDir, 'ostree-layer.tar');
  const layer = await writeRepoLayer(options.repo, layerFile, signal, emit);
  const created = (options.created ?? new Date()).toISOString();

  const baseConfig = base.config;
  const config: ImageConfig = {
    ...baseConfig,
    created,
    config: {
      ...baseConfig.config,
      Cmd: [...SERVER_CMD],
      ExposedPorts: { ...baseConfig.config?.ExposedPorts, '80/tcp': {}, '443/tcp': {} },
    },
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.digest] },
    history: [
      ...(baseConfig.history ?? []),
      {
        created,
        created_by: 'ocne image create --type ostree',
        comment: `OSTree archive repository of commit ${options.commit} at /${OSTREE_DOCROOT_PATH}`,
      },
      { created, created_by: 'CMD ["nginx","-g","daemon off;"] EXPOSE 80 443', empty_layer: true },
    ],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const layers: Descriptor[] = base.layers.map((l) => ({
    mediaType: TO_OCI[l.mediaType] ?? l.mediaType,
    digest: l.digest,
    size: l.size,
  }));
  layers.push({ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    },
    layers,
  };
  const blobs: ArchiveBlob[] = [
    { digest: manifest.config.digest, bytes: configBytes },
    ...base.layers,
    { digest: layer.digest, path: layerFile },
  ];
  const descriptor = await writeOciArchive(
    options.destination,
    {
      manifest: Buffer.from(JSON.stringify(manifest)),
      manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      refName: SERVER_REF_NAME,
      blobs,
    },
    signal,
  );
  return {
    path: options.destination,
    manifestDigest: descriptor.digest,
    layerDigest: layer.digest,
  };
}
