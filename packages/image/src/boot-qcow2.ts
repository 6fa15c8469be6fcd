/**
 * The OCK boot disk out of a pulled image: the image is a containers `dir:` layout (what
 * `skopeo copy … dir:` writes and upstream's cache holds: `manifest.json`, blobs named by their
 * hex digest); layer 0 is streamed through gunzip and a tar reader to its `disk/boot.qcow2`
 * entry, which is written to a file. Nothing is held in memory, and the layer's digest is
 * checked on the way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { OcneError } from '@ocne/core';
import { extract } from 'tar-stream';

/** Where upstream's tar reader stops in layer 0. */
export const BOOT_QCOW2_ENTRY = 'disk/boot.qcow2';

/** Options of {@link extractBootQcow2}. */
export interface ExtractBootQcow2Options {
  /** The `dir:` layout of the OCK image. */
  directory: string;
  /** The file to write the disk to (created or replaced). */
  destination: string;
  signal?: AbortSignal | undefined;
  /** Called as layer 0 is read: bytes read so far and the layer's size. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** What was extracted. */
export interface ExtractBootQcow2Result {
  readonly layerDigest: string;
  /** The size of the written disk file. */
  readonly bytes: number;
}

const invalid = (message: string, cause?: unknown): OcneError =>
  new OcneError('OCNE_IMAGE_BOOT_SOURCE_INVALID', message, cause === undefined ? {} : { cause });

interface Descriptor {
  digest: string;
  size?: number;
  mediaType?: string;
}

/** Layer 0's descriptor from the layout's `manifest.json` (Docker schema 2 or OCI). */
export async function firstLayer(directory: string): Promise<Descriptor> {
  let manifest: { layers?: Descriptor[]; manifests?: unknown };
  try {
    manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8')) as typeof manifest;
  } catch (error) {
    throw invalid(`${directory} holds no readable manifest.json`, error);
  }
  if (manifest.manifests !== undefined) {
    throw invalid(`${directory}/manifest.json is a manifest list; pull one architecture`);
  }
  const layer = manifest.layers?.[0];
  if (!layer || typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) {
    throw invalid(`${directory}/manifest.json names no sha256 layer`);
  }
  return layer;
}

/** Passes bytes through, hashing and counting them. */
class LayerTap extends Transform {
  readonly hash = createHash('sha256');
  done = 0;
  private readonly total: number;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;

  constructor(total: number, onProgress: ((done: number, total: number) => void) | undefined) {
    super();
    this.total = total;
    this.onProgress = onProgress;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.done += chunk.length;
    this.onProgress?.(this.done, this.total);
    callback(null, chunk);
  }
}

/**
 * Writes layer 0's `disk/boot.qcow2` to `destination`.
 *
 * @throws `OcneError` `OCNE_IMAGE_BOOT_SOURCE_INVALID` when the manifest or layer is missing, the
 *   layer's digest does not match, or the layer has no `disk/boot.qcow2`.
 */
export async function extractBootQcow2(options: ExtractBootQcow2Options): Promise<ExtractBootQcow2Result> {
  const { directory, destination, signal } = options;
  const layer = await firstLayer(directory);
  const blob = join(directory, layer.digest.slice('sha256:'.length));
  let total: number;
  try {
    total = (await stat(blob)).size;
  } catch (error) {
    throw invalid(`layer 0 (${layer.digest}) is missing from ${directory}`, error);
  }
  // Peek at the magic: OCK's layer is gzip; an uncompressed layer is a plain tar.
  const head = Buffer.alloc(2);
  const handle = await open(blob, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;

  const tap = new LayerTap(total, options.onProgress);
  const tar = extract();
  let found = false;
  let bytes = 0;
  tar.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (found || name !== BOOT_QCOW2_ENTRY || header.type !== 'file') {
      stream.on('end', next).resume();
      return;
    }
    found = true;
    const out = createWriteStream(destination, { mode: 0o600 });
    pipeline(stream, out, { signal: signal ?? new AbortController().signal })
      .then(() => {
        bytes = out.bytesWritten;
        next();
      })
      .catch(next);
  });
  try {
    await pipeline(
      createReadStream(blob),
      tap,
      gzipped ? createGunzip() : new PassThrough(),
      tar,
      signal ? { signal } : {},
    );
  } catch (error) {
    signal?.throwIfAborted();
    throw invalid(
      `layer 0 of ${directory} could not be read: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
  const digest = `sha256:${tap.hash.digest('hex')}`;
  if (digest !== layer.digest) {
    throw invalid(`layer 0 of ${directory} is corrupt: its digest is ${digest}, not ${layer.digest}`);
  }
  if (!found) throw invalid(`layer 0 of ${directory} holds no ${BOOT_QCOW2_ENTRY}`);
  return { layerDigest: layer.digest, bytes };
}
