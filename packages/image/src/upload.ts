/**
 * `uploadImage`: `ocne image upload`. For `type: 'ostree'` (and any local image) it copies an
 * image from an `oci-archive:` file (upstream's `--file`), an `oci:` layout or a `dir:` folder to
 * upstream's `--destination`: a registry (`docker://host/repo:tag`), or a local `oci-archive:` or
 * `dir:` copy. Blobs the registry already has are skipped (HEAD), the others are pushed in chunks,
 * then the manifest. Events: `progress` with the bytes done (skipped blobs count as done) and the
 * total. `type: 'oci'` (Object Storage and a compute image) and `'olvm'` dispatch to uploaders this
 * package does not have yet and fail with `OCNE_IMAGE_UPLOAD_UNAVAILABLE`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type EventSink,
  OcneError,
  type Operation,
  type OperationOptions,
  startOperation,
  writeFileAtomic,
} from '@ocne/core';
import {
  checkBlobSizes,
  type LocalImage,
  openLocalImage,
  parseLocalLocation,
} from './layout/archive-read.js';
import { DIR_TRANSPORT_VERSION } from './pull.js';
import type { RegistryCredentials } from './registry/auth.js';
import { throwIfCancelled } from './registry/blob-file.js';
import { openRegistry, type RegistryTlsOptions } from './registry/client.js';
import { formatRegistryReference, parseRegistryReference } from './registry/reference.js';

/** Upstream's `--type` values. */
export type UploadType = 'oci' | 'ostree' | 'olvm';

/** Options of {@link uploadImage}. */
export interface UploadOptions extends OperationOptions {
  /** What kind of upload; only `ostree` (a container image to a registry or a local copy) is here. */
  type: UploadType;
  /**
   * The image to upload: a file path (read as `oci-archive:<path>`, as upstream's `--file`), or a
   * location with its transport: `oci-archive:<file>[:name]`, `oci:<folder>[:name]`, `dir:<folder>`.
   */
  source: string;
  /** `docker://host/repo[:tag]`, `oci-archive:<file>[:name]` or `dir:<folder>`. */
  destination: string;
  /** Picks the image for this architecture when the source is a multi-architecture index. @defaultValue `amd64` */
  arch?: string;
  /** Home of `~/.docker/config.json` and `~/.config/containers/auth.json`. @defaultValue `HOME` */
  home?: string;
  /** Environment for the auth files. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Credentials for the destination registry instead of the auth files'. */
  auth?: RegistryCredentials;
  tls?: RegistryTlsOptions;
  /** Bytes per PATCH of a blob upload. @defaultValue 64 MiB */
  chunkSize?: number;
}

/** One blob of an upload. */
export interface UploadedBlob {
  readonly digest: string;
  readonly size: number;
  /** True when the destination had it already. */
  readonly skipped: boolean;
}

/** What {@link uploadImage} returns. */
export interface UploadResult {
  /** The destination as given. */
  readonly destination: string;
  /** Digest of the manifest written. */
  readonly manifestDigest: string;
  readonly blobs: readonly UploadedBlob[];
  /** Bytes of blobs sent (skipped ones not counted). */
  readonly uploadedBytes: number;
}

/** Reports bytes with at most one event per MiB (and always the last). */
function progress(emit: EventSink, step: string, total: number): (bytes: number) => void {
  let last = -1;
  return (bytes) => {
    if (bytes !== total && bytes - last < 1024 * 1024) return;
    last = bytes;
    emit({ type: 'progress', step, transferredBytes: bytes, totalBytes: total });
  };
}

async function toRegistry(
  image: LocalImage,
  options: UploadOptions,
  emit: EventSink,
  signal: AbortSignal,
): Promise<UploadResult> {
  const ref = parseRegistryReference(options.destination);
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME;
  const client = await openRegistry(ref.registry, {
    env,
    ...(home ? { home } : {}),
    ...(options.auth ? { credentials: options.auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  try {
    const total = image.blobs.reduce((sum, b) => sum + b.size, 0);
    const step = `Uploading ${image.location} to ${formatRegistryReference(ref)}`;
    const report = progress(emit, step, total);
    report(0);
    let done = 0;
    let uploadedBytes = 0;
    const blobs: UploadedBlob[] = [];
    for (const blob of image.blobs) {
      throwIfCancelled(signal);
      const skipped = await client.hasBlob(ref.repository, blob.digest, signal);
      if (!skipped) {
        const base = done;
        await client.pushBlob(ref.repository, blob, {
          ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
          onBytes: (sent) => report(base + sent),
          signal,
        });
        uploadedBytes += blob.size;
      }
      done += blob.size;
      report(done);
      blobs.push({ digest: blob.digest, size: blob.size, skipped });
    }
    const manifestDigest = await client.putManifest(
      ref.repository,
      ref.digest ?? ref.tag ?? 'latest',
      image.manifest.mediaType,
      image.manifest.bytes,
      signal,
    );
    return { destination: options.destination, manifestDigest, blobs, uploadedBytes };
  } finally {
    await client.close();
  }
}

/** A ustar header for a regular file (names here are short: `blobs/sha256/<hex>`). */
function tarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write('        ', 148);
  block.write('0', 156);
  block.write('ustar\0', 257);
  block.write('00', 263);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

async function toLocal(
  image: LocalImage,
  options: UploadOptions,
  emit: EventSink,
  signal: AbortSignal,
): Promise<UploadResult> {
  const where = parseLocalLocation(options.destination);
  if (!where || where.transport === 'oci') {
    throw new OcneError(
      'OCNE_IMAGE_UNSUPPORTED',
      `destination "${options.destination}": expected docker://<registry>/<repository>[:tag], oci-archive:<file> or dir:<folder>`,
    );
  }
  const total = image.blobs.reduce((sum, b) => sum + b.size, 0);
  const report = progress(emit, `Copying ${image.location} to ${options.destination}`, total);
  report(0);
  let done = 0;
  const copy = async (
    blob: LocalImage['blobs'][number],
    write: (out: NodeJS.WritableStream) => Promise<void>,
  ) => {
    const base = done;
    const input = blob.size === 0 ? [] : blob.open(0, blob.size - 1);
    let sent = 0;
    const counted = async function* () {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        throwIfCancelled(signal);
        sent += chunk.length;
        report(base + sent);
        yield chunk;
      }
    };
    await write(counted() as unknown as NodeJS.WritableStream);
    done += blob.size;
    report(done);
  };
  const blobs = image.blobs.map((b) => ({ digest: b.digest, size: b.size, skipped: false }));
  try {
    if (where.transport === 'dir') {
      await mkdir(where.path, { recursive: true });
      for (const blob of image.blobs) {
        const file = join(where.path, blob.digest.replace(/^sha256:/, ''));
        await copy(blob, (source) => pipeline(source as never, createWriteStream(file), { signal }));
      }
      await writeFile(join(where.path, 'version'), DIR_TRANSPORT_VERSION);
      await writeFileAtomic(join(where.path, 'manifest.json'), image.manifest.bytes, { mode: 0o644 });
    } else {
      await mkdir(dirname(where.path), { recursive: true });
      const partial = `${where.path}.partial`;
      const out = await open(partial, 'w', 0o644);
      try {
        const add = async (name: string, size: number, body: () => Promise<void>) => {
          await out.write(tarHeader(name, size));
          await body();
          const pad = (512 - (size % 512)) % 512;
          if (pad > 0) await out.write(Buffer.alloc(pad));
        };
        await add('oci-layout', 30, async () => {
          await out.write('{"imageLayoutVersion":"1.0.0"}');
        });
        const index = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            manifests: [
              {
                mediaType: image.manifest.mediaType,
                digest: image.manifest.digest,
                size: image.manifest.bytes.length,
                ...(where.name ? { annotations: { 'org.opencontainers.image.ref.name': where.name } } : {}),
              },
            ],
          }),
        );
        await add('index.json', index.length, async () => {
          await out.write(index);
        });
        const manifestName = `blobs/${image.manifest.digest.replace(':', '/')}`;
        await add(manifestName, image.manifest.bytes.length, async () => {
          await out.write(image.manifest.bytes);
        });
        for (const blob of image.blobs) {
          await add(`blobs/${blob.digest.replace(':', '/')}`, blob.size, () =>
            copy(blob, async (source) => {
              for await (const chunk of source as unknown as AsyncIterable<Buffer>) await out.write(chunk);
            }),
          );
        }
        await out.write(Buffer.alloc(1024));
      } finally {
        await out.close();
      }
      await rename(partial, where.path).catch(async (error) => {
        await rm(partial, { force: true });
        throw error;
      });
    }
  } catch (error) {
    throwIfCancelled(signal);
    if (error instanceof OcneError) throw error;
    throw new OcneError(
      'OCNE_IMAGE_CACHE_FAILED',
      `cannot write ${options.destination}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return {
    destination: options.destination,
    manifestDigest: image.manifest.digest,
    blobs,
    uploadedBytes: total,
  };
}

async function uploadContainerImage(
  options: UploadOptions,
  emit: EventSink,
  signal: AbortSignal,
): Promise<UploadResult> {
  const source = parseLocalLocation(options.source) ? options.source : `oci-archive:${options.source}`;
  const image = await openLocalImage(source, options.arch ?? 'amd64');
  checkBlobSizes(image);
  if (options.destination.startsWith('docker://')) return toRegistry(image, options, emit, signal);
  return toLocal(image, options, emit, signal);
}

/**
 * The uploader of each type. `oci` (Object Storage + CreateImage) is `uploadOciImage` of
 * `@ocne/provider-oci`, which holds the OCI clients (this package stays free of them, and
 * provider-oci builds on this one); `olvm` has no uploader.
 */
const UPLOADERS: Record<
  UploadType,
  (options: UploadOptions, emit: EventSink, signal: AbortSignal) => Promise<UploadResult>
> = {
  ostree: uploadContainerImage,
  oci: async () => {
    throw new OcneError(
      'OCNE_IMAGE_UPLOAD_UNAVAILABLE',
      'uploads to Oracle Cloud (Object Storage and a compute image) are uploadOciImage of @ocne/provider-oci, which `ocne image upload --type oci` runs',
    );
  },
  olvm: async () => {
    throw new OcneError(
      'OCNE_IMAGE_UPLOAD_UNAVAILABLE',
      'image upload --type olvm is not available in this build',
    );
  },
};

/** Uploads an image (see the module comment); await the operation for the result. */
export function uploadImage(options: UploadOptions): Operation<UploadResult> {
  return startOperation(async ({ emit, signal }) => {
    const upload = UPLOADERS[options.type];
    if (!upload)
      throw new OcneError(
        'OCNE_USAGE',
        `unknown upload type "${String(options.type)}" (expected oci, ostree or olvm)`,
      );
    return upload(options, emit, signal);
  }, options);
}
