/**
 * Blobs as files: hashing a file as a stream, and downloading a blob into a file by its digest,
 * resumable. A download writes `<file>.partial` and renames it only once size and digest match;
 * bytes already in the `.partial` file (from an earlier, interrupted run) are hashed again and the
 * rest is asked for with a `Range` request, and a connection that dies mid-blob is resumed the same
 * way within the call. Memory stays at one network chunk whatever the blob's size.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { isOcneError, OcneError } from '@ocne/core';
import type { RegistryClient } from './client.js';

/** Throws `OCNE_CANCELLED` when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new OcneError('OCNE_CANCELLED', `cancelled${signal.reason ? `: ${String(signal.reason)}` : ''}`, {
      cause: signal.reason,
    });
  }
}

/** Hashes the first `length` bytes of a file (all of it when undefined) into `hash`. */
async function hashInto(
  hash: Hash,
  path: string,
  length: number | undefined,
  signal?: AbortSignal,
): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(path, length === undefined ? {} : { end: length - 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    throwIfCancelled(signal);
    hash.update(chunk);
  }
}

/** `sha256:<hex>` of a file, or undefined when it does not exist. */
export async function fileDigest(
  path: string,
  signal?: AbortSignal,
): Promise<{ digest: string; size: number } | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const hash = createHash('sha256');
  await hashInto(hash, path, undefined, signal);
  return { digest: `sha256:${hash.digest('hex')}`, size: info.size };
}

/** What {@link downloadBlob} needs. */
export interface DownloadBlobOptions {
  client: RegistryClient;
  repository: string;
  digest: string;
  size: number;
  /** The final file; `<path>.partial` while the download runs. */
  path: string;
  /** Called with the bytes of this blob that are on disk so far (resumed bytes included). */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal | undefined;
  /** Connections that die mid-blob are resumed this many times. @defaultValue 5 */
  retries?: number;
}

/** Downloads one blob into `path`, verified by size and digest. Returns the bytes fetched from the network. */
export async function downloadBlob(options: DownloadBlobOptions): Promise<number> {
  const { client, repository, digest, size, path, onBytes, signal, retries = 5 } = options;
  const partial = `${path}.partial`;
  const hash = createHash('sha256');
  let offset = (await stat(partial).catch(() => undefined))?.size ?? 0;
  if (offset > size) {
    await rm(partial, { force: true });
    offset = 0;
  }
  if (offset > 0) await hashInto(hash, partial, offset, signal);
  onBytes?.(offset);
  let fetched = 0;
  let current = hash;
  for (let attempt = 0; offset < size; attempt++) {
    throwIfCancelled(signal);
    const response = await client.openBlob(repository, digest, offset, signal);
    const file = await open(partial, offset > 0 && response.status === 206 ? 'a' : 'w', 0o600);
    if (response.status !== 206 && offset > 0) {
      // The registry sent the whole blob: start over.
      offset = 0;
      current = createHash('sha256');
    }
    try {
      if (!response.body)
        throw new OcneError('OCNE_REGISTRY_ERROR', `${client.registry}: blob ${digest} has no body`);
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        if (offset + chunk.length > size) {
          throw new OcneError(
            'OCNE_IMAGE_DIGEST_MISMATCH',
            `${client.registry}: blob ${digest} is larger than its ${size} bytes`,
          );
        }
        current.update(chunk);
        await file.write(chunk);
        offset += chunk.length;
        fetched += chunk.length;
        onBytes?.(offset);
      }
    } catch (error) {
      throwIfCancelled(signal);
      if (isOcneError(error) || attempt >= retries) {
        if (isOcneError(error)) throw error;
        throw new OcneError(
          'OCNE_REGISTRY_UNREACHABLE',
          `${client.registry}: the download of blob ${digest} broke off at ${offset} of ${size} bytes ${attempt + 1} times: ${(error as Error).message}`,
          { cause: error },
        );
      }
      // The connection died mid-blob: ask for the rest.
      continue;
    } finally {
      await file.close();
    }
    if (offset < size) {
      if (attempt >= retries) {
        throw new OcneError(
          'OCNE_REGISTRY_ERROR',
          `${client.registry}: blob ${digest} ended at ${offset} of ${size} bytes`,
        );
      }
    }
  }
  const actual = `sha256:${current.digest('hex')}`;
  if (actual !== digest) {
    await rm(partial, { force: true });
    throw new OcneError(
      'OCNE_IMAGE_DIGEST_MISMATCH',
      `${client.registry}: blob ${digest} arrived with digest ${actual}; it was discarded`,
    );
  }
  await rename(partial, path);
  return fetched;
}
