/**
 * The boot disk from upstream's image cache, until `@ocne/image` provides it: `~/.ocne/images/<image
 * reference with "/" as "_">` in containers/image `dir:` layout (`manifest.json`, blobs named by
 * their bare hex digest). As upstream, the disk is the `disk/boot.qcow2` entry of layer 0 (gunzipped
 * when its media type says gzip), streamed into a file next to the cache; nothing is downloaded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { OcneError } from '@ocne/core';

/** The cache folder of an image reference (`docker://container-registry.oracle.com/olcne/ock:1.33`). */
export function imageCacheDir(home: string, reference: string): string {
  return join(home, '.ocne', 'images', reference.replaceAll('/', '_'));
}

const ENTRY = 'disk/boot.qcow2';

/** Streams the bytes of one tar entry into `out`; rejects when the archive has no such entry. */
async function extractEntry(tar: Readable, name: string, out: string, signal?: AbortSignal): Promise<void> {
  let buffer = Buffer.alloc(0);
  let remaining = -1; // bytes of the wanted entry still to write; -1 while looking
  let skip = 0;
  const file = createWriteStream(out, { mode: 0o600 });
  let found = false;
  try {
    for await (const chunk of tar) {
      signal?.throwIfAborted();
      buffer = Buffer.concat([buffer, chunk as Buffer]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffer.length);
          buffer = buffer.subarray(n);
          skip -= n;
          if (skip > 0) break;
        }
        if (remaining > 0) {
          const n = Math.min(remaining, buffer.length);
          if (!file.write(buffer.subarray(0, n)))
            await new Promise<void>((r) => file.once('drain', () => r()));
          buffer = buffer.subarray(n);
          remaining -= n;
          if (remaining > 0) break;
          found = true;
          break;
        }
        if (found || buffer.length < 512) break;
        const header = buffer.subarray(0, 512);
        buffer = buffer.subarray(512);
        if (header.every((b) => b === 0)) continue;
        const entry = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
        const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
        const size = Number.parseInt(
          header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0',
          8,
        );
        const padded = Math.ceil(size / 512) * 512;
        if ((prefix ? `${prefix}/${entry}` : entry) === name && header[156] !== 0x35) {
          remaining = size;
          skip = 0;
          if (size === 0) found = true;
        } else {
          skip = padded;
        }
      }
      if (found) break;
    }
  } finally {
    await new Promise<void>((resolve, reject) =>
      file.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  if (!found) throw new Error(`layer 0 has no ${name}`);
}

/**
 * The boot disk of a cached image, extracted once (`<cache>/disk/boot.qcow2`); undefined when the
 * image is not cached.
 */
export async function cachedBootDisk(
  home: string,
  reference: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const dir = imageCacheDir(home, reference);
  const out = join(dir, 'disk', 'boot.qcow2');
  try {
    await stat(out);
    return out;
  } catch {
    // not extracted yet
  }
  let manifest: { layers?: { digest?: string; mediaType?: string }[] };
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const layer = manifest.layers?.[0];
  const hex = layer?.digest?.replace(/^sha256:/, '');
  if (!hex) {
    throw new OcneError(
      'OCNE_LIBVIRT_BOOT_IMAGE_MISSING',
      `the cached image ${reference} in ${dir} has no layers`,
    );
  }
  await mkdir(join(dir, 'disk'), { recursive: true });
  const partial = `${out}.partial`;
  try {
    const source = createReadStream(join(dir, hex));
    const tar: Readable = layer?.mediaType?.endsWith('gzip') ? source.pipe(createGunzip()) : source;
    await extractEntry(tar, ENTRY, partial, signal);
    await rename(partial, out);
    return out;
  } catch (error) {
    await rm(partial, { force: true });
    throw new OcneError(
      'OCNE_LIBVIRT_BOOT_IMAGE_MISSING',
      `cannot take ${ENTRY} from layer 0 of the cached image ${reference}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
