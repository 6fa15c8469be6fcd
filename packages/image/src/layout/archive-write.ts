/**
 * Writing images: an `oci-archive` (a tar of an OCI image layout: `oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`) streamed from blobs on disk or in memory, written to a temporary file
 * next to the destination and renamed over it, so a reader never sees half an archive.
 */
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OcneError } from '@ocne/core';
import { type Header, type Pack, pack as tarPack } from 'tar-stream';
import type { Descriptor } from '../registry/client.js';
import { type LocalBlob, readBlob } from './archive-read.js';

/** One blob of an archive: bytes in memory, a file, or a blob of a local image. */
export type ArchiveBlob =
  | { readonly digest: string; readonly bytes: Buffer }
  | { readonly digest: string; readonly path: string }
  | LocalBlob;

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a `sha256:` digest; anything else is refused (it becomes a file name). */
function digestHex(digest: string): string {
  const m = SHA256.exec(digest);
  if (!m?.[1]) throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `unsupported digest ${digest}`);
  return m[1];
}

/** What {@link writeOciArchive} writes. */
export interface OciArchiveContent {
  /** The manifest (its bytes are a blob; its descriptor goes into `index.json`). */
  readonly manifest: Buffer;
  readonly manifestMediaType: string;
  /** The `org.opencontainers.image.ref.name` of the manifest in `index.json`. */
  readonly refName: string;
  /** Every other blob: the config and the layers. */
  readonly blobs: readonly ArchiveBlob[];
}

/** The digest of bytes. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A pass-through stream that feeds a hash (and a byte counter) on the way. */
export function hashing(hash: Hash, onBytes?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
  });
}

/** Adds a directory, or a file held in memory, to a tar being packed. */
export function addTarEntry(
  tar: Pack,
  header: Partial<Header> & { name: string },
  bytes?: Buffer,
): Promise<void> {
  return new Promise<void>((ok, fail) => {
    const done = (e?: Error | null) => (e ? fail(e) : ok());
    if (bytes) tar.entry(header, bytes, done);
    else tar.entry(header, done);
  });
}

// Fixed times keep archives of the same image identical.
const MTIME = new Date(0);

/** Writes an oci-archive to `destination` atomically; returns the manifest's descriptor. */
export async function writeOciArchive(
  destination: string,
  content: OciArchiveContent,
  signal?: AbortSignal,
): Promise<Descriptor> {
  const manifestDescriptor: Descriptor = {
    mediaType: content.manifestMediaType,
    digest: sha256Digest(content.manifest),
    size: content.manifest.length,
    annotations: { 'org.opencontainers.image.ref.name': content.refName },
  };
  const index = Buffer.from(`${JSON.stringify({ schemaVersion: 2, manifests: [manifestDescriptor] })}\n`);
  await mkdir(dirname(destination), { recursive: true });
  const tmp = `${destination}.partial-${process.pid}-${randomUUID()}`;
  const tar = tarPack();
  const written = pipeline(tar, createWriteStream(tmp), signal ? { signal } : {});
  written.catch(() => {});
  const addBytes = (name: string, bytes: Buffer) =>
    addTarEntry(tar, { name, size: bytes.length, mode: 0o644, mtime: MTIME }, bytes);
  try {
    await addBytes('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    for (const dir of ['blobs/', 'blobs/sha256/']) {
      await addTarEntry(tar, { name: dir, type: 'directory', mode: 0o755, mtime: MTIME });
    }
    const seen = new Set<string>();
    for (const blob of [{ digest: manifestDescriptor.digest, bytes: content.manifest }, ...content.blobs]) {
      if (seen.has(blob.digest)) continue;
      seen.add(blob.digest);
      signal?.throwIfAborted();
      const name = `blobs/sha256/${digestHex(blob.digest)}`;
      if ('bytes' in blob) {
        await addBytes(name, blob.bytes);
      } else {
        const [size, source, where] =
          'path' in blob
            ? [(await stat(blob.path)).size, createReadStream(blob.path), blob.path]
            : [blob.storedSize, readBlob(blob), `blob ${blob.digest}`];
        const entry = tar.entry({ name, size, mode: 0o644, mtime: MTIME });
        // Blobs from a cache are copied as they are: check them on the way, so a damaged cache
        // cannot produce an archive whose blobs do not match their names.
        const hash = createHash('sha256');
        await pipeline(source, hashing(hash), entry);
        if (`sha256:${hash.digest('hex')}` !== blob.digest) {
          throw new OcneError(
            'OCNE_IMAGE_OSTREE_DIGEST',
            `${where} does not match its digest ${blob.digest}`,
          );
        }
      }
    }
    await addBytes('index.json', index);
    tar.finalize();
    await written;
    await rename(tmp, destination);
  } catch (error) {
    tar.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
  return manifestDescriptor;
}
