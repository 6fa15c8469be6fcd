/**
 * `ostree container unencapsulate` in TypeScript: an ostree-ext v1 ("chunked") container image,
 * read from a local layout, becomes an archive-mode OSTree repository holding its commit under a
 * ref. Streaming: every layer goes blob → digest check → decompression → diff_id check → tar
 * reader, and content objects go tar entry → checksum → raw deflate → file, so memory stays
 * bounded by the largest metadata object, whatever the image size. Every object's checksum is
 * verified before it is kept; a mismatch anywhere fails the whole import.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { type EventSink, OcneError } from '@ocne/core';
import { extract as tarExtract } from 'tar-stream';
import { type LocalBlob, type LocalImage, readBlob } from '../layout/archive-read.js';
import { hashing } from '../layout/archive-write.js';
import { archiveFileHeader, fileHeader, framed, S_IFLNK, S_IFREG } from './gvariant.js';

/** The labels of an ostree-ext v1 image. */
export const COMMIT_LABEL = 'ostree.commit';
export const FINAL_DIFFID_LABEL = 'ostree.final-diffid';

/** The `config` of an archive repository, as `ostree init --mode=archive` writes it. */
export const ARCHIVE_REPO_CONFIG = '[core]\nrepo_version=1\nmode=archive-z2\n';

/** Options of {@link unencapsulate}. */
export interface UnencapsulateOptions {
  readonly image: LocalImage;
  /** The repository directory to create; it must not exist yet. */
  readonly repo: string;
  /** The ref to write; upstream's `--write-ref ock`. */
  readonly ref?: string;
  readonly signal?: AbortSignal;
  readonly emit?: EventSink;
  /** Raw deflate level of `.filez` objects (libostree's default is 6). */
  readonly compressionLevel?: number;
}

/** What {@link unencapsulate} wrote. */
export interface UnencapsulateResult {
  readonly commit: string;
  readonly contentObjects: number;
  readonly metadataObjects: number;
  /** Compressed layer bytes read. */
  readonly bytes: number;
}

/** The ostree layers of an image, from its labels, as ostree-ext chooses them. */
export function ostreeLayers(image: LocalImage): {
  commit: string;
  layers: readonly LocalBlob[];
  diffIds: string[];
} {
  const labels = image.config.config?.Labels ?? {};
  const commit = labels[COMMIT_LABEL];
  if (!commit || !/^[0-9a-f]{64}$/.test(commit)) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_UNSUPPORTED',
      `the image has no ${COMMIT_LABEL} label: not an ostree image`,
    );
  }
  const finalDiffId = labels[FINAL_DIFFID_LABEL];
  if (!finalDiffId) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_UNSUPPORTED',
      `the image has no ${FINAL_DIFFID_LABEL} label: an ostree-ext v0 image, which is not supported (only v1, "chunked")`,
    );
  }
  const diffIds = image.config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== image.layers.length) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      `the config's diff_ids do not match the manifest's ${image.layers.length} layers`,
    );
  }
  const last = diffIds.indexOf(finalDiffId);
  if (last < 0) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_SOURCE_INVALID',
      `${FINAL_DIFFID_LABEL} ${finalDiffId} names no layer`,
    );
  }
  if (last < diffIds.length - 1) {
    throw new OcneError(
      'OCNE_IMAGE_OSTREE_DERIVED_LAYERS',
      `Image has ${diffIds.length - 1 - last} non-ostree layers: a derived image cannot be unencapsulated`,
    );
  }
  return { commit, layers: image.layers.slice(0, last + 1), diffIds: diffIds.slice(0, last + 1) };
}

function decompressor(mediaType: string): Transform {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return zlib.createGunzip();
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.tar.zstd')) return zlib.createZstdDecompress();
  if (mediaType.endsWith('.tar') || mediaType.endsWith('.diff.tar')) return new PassThrough();
  throw new OcneError('OCNE_IMAGE_OSTREE_SOURCE_INVALID', `unsupported layer media type ${mediaType}`);
}

const REPO = 'sysroot/ostree/repo/';
const OBJECT =
  /^objects\/([0-9a-f]{2})\/([0-9a-f]{62})\.(commit|commitmeta|dirtree|dirmeta|file|file-xattrs|file-xattrs-link)$/;
// Content objects up to this size are compressed from one buffer, larger ones streamed.
const SMALL_OBJECT = 256 * 1024;
const deflateRaw = promisify(zlib.deflateRaw);
// Metadata objects are read whole; OCK's largest dirtree is a few hundred KiB.
const MAX_METADATA = 64 * 1024 * 1024;

function malformed(message: string): OcneError {
  return new OcneError('OCNE_IMAGE_OSTREE_MALFORMED', message);
}

async function readAll(entry: AsyncIterable<unknown>, size: number, name: string): Promise<Buffer> {
  if (size > MAX_METADATA) throw malformed(`${name} is ${size} bytes, more than a metadata object may be`);
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Imports the ostree layers of `image` into a new archive repository at `repo`. The repository is
 * complete (objects, ref, config) only when this resolves; on failure it may hold a part.
 */
export async function unencapsulate(options: UnencapsulateOptions): Promise<UnencapsulateResult> {
  const { image, repo, signal, emit } = options;
  const ref = options.ref ?? 'ock';
  const level = options.compressionLevel ?? 6;
  const { commit, layers, diffIds } = ostreeLayers(image);
  const totalBytes = layers.reduce((n, l) => n + l.size, 0);

  await mkdir(repo);
  for (const d of [
    'objects',
    'refs/heads',
    'refs/mirrors',
    'refs/remotes',
    'state',
    'tmp/cache',
    'extensions',
  ]) {
    await mkdir(join(repo, d), { recursive: true });
  }
  const made = new Set<string>();
  const objectPath = async (prefix: string, rest: string, ext: string): Promise<string> => {
    const dir = join(repo, 'objects', prefix);
    if (!made.has(prefix)) {
      await mkdir(dir, { recursive: true });
      made.add(prefix);
    }
    return join(dir, `${rest}.${ext}`);
  };

  const xattrsByChecksum = new Map<string, Buffer>();
  let contentObjects = 0;
  let metadataObjects = 0;
  let sawCommit = false;
  let bytesDone = 0;
  let lastReport = 0;
  const report = (n: number) => {
    bytesDone += n;
    if (bytesDone - lastReport >= 4 * 1024 * 1024 || bytesDone === totalBytes) {
      lastReport = bytesDone;
      emit?.({ type: 'progress', step: 'Unpacking ostree image', transferredBytes: bytesDone, totalBytes });
    }
  };
  let tmpCounter = 0;

  for (const [index, layer] of layers.entries()) {
    signal?.throwIfAborted();
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    const extract = tarExtract();
    const pump = pipeline(
      readBlob(layer),
      hashing(blobHash, report),
      decompressor(layer.mediaType),
      hashing(diffHash),
      extract,
      signal ? { signal } : {},
    );
    // If the loop below fails, the pipeline is torn down and its own error must not go unhandled.
    pump.catch(() => {});
    // The xattrs that the next `.file` entry takes: ostree-ext puts the link right before it.
    let pendingXattrs: { checksum: string; bytes: Buffer } | undefined;
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const path = h.name.replace(/^\.\//, '');
        if (!path.startsWith(REPO)) {
          entry.resume();
          continue;
        }
        const inRepo = path.slice(REPO.length);
        if (inRepo.startsWith('xattrs/')) {
          throw new OcneError('OCNE_IMAGE_OSTREE_UNSUPPORTED', 'the layer is in the ostree-ext v0 format');
        }
        const m = OBJECT.exec(inRepo);
        if (!m || h.type === 'directory') {
          // config, refs/, state/, tmp/, the object directories: the repository is ours to lay out.
          entry.resume();
          continue;
        }
        const [, prefix = '', rest = '', ext = ''] = m;
        const checksum = prefix + rest;
        if (ext === 'file-xattrs-link') {
          if (h.type === 'link') {
            const target = OBJECT.exec((h.linkname ?? '').replace(/^\.\//, '').slice(REPO.length));
            const bytes = target && xattrsByChecksum.get(target[1]! + target[2]!);
            if (!bytes || target[3] !== 'file-xattrs')
              throw malformed(`${path} links to unknown xattrs ${h.linkname}`);
            pendingXattrs = { checksum, bytes };
            entry.resume();
          } else {
            // Past the file system's link limit ostree-ext stores the xattrs bytes again.
            pendingXattrs = { checksum, bytes: await readAll(entry, h.size ?? 0, path) };
          }
          continue;
        }
        if (ext === 'file-xattrs') {
          const bytes = await readAll(entry, h.size ?? 0, path);
          if (createHash('sha256').update(bytes).digest('hex') !== checksum) {
            throw new OcneError(
              'OCNE_IMAGE_OSTREE_CHECKSUM',
              `xattrs object ${checksum} does not match its content`,
            );
          }
          xattrsByChecksum.set(checksum, bytes);
          continue;
        }
        if (ext === 'file') {
          if (pendingXattrs?.checksum !== checksum)
            throw malformed(`Missing xattrs reference for ${checksum}`);
          const xattrs = pendingXattrs.bytes;
          pendingXattrs = undefined;
          const fields =
            h.type === 'symlink'
              ? {
                  uid: h.uid ?? 0,
                  gid: h.gid ?? 0,
                  mode: S_IFLNK | 0o777,
                  symlinkTarget: h.linkname ?? '',
                  xattrs,
                }
              : h.type === 'file'
                ? {
                    uid: h.uid ?? 0,
                    gid: h.gid ?? 0,
                    mode: S_IFREG | ((h.mode ?? 0) & 0o7777),
                    symlinkTarget: '',
                    xattrs,
                  }
                : undefined;
          if (!fields) throw malformed(`content object ${checksum} is a tar ${h.type} entry`);
          const size = h.type === 'file' ? (h.size ?? 0) : 0;
          const hash = createHash('sha256').update(framed(fileHeader(fields)));
          const header = framed(archiveFileHeader({ ...fields, size: BigInt(size) }));
          const mismatch = () =>
            new OcneError(
              'OCNE_IMAGE_OSTREE_CHECKSUM',
              `content object ${checksum} in layer ${index} does not match its checksum: the image is corrupt or tampered with`,
            );
          if (size <= SMALL_OBJECT) {
            // Most of /usr is small files: whole-buffer compression avoids a stream pipeline per
            // file, and the checksum is verified before anything is written.
            const data = h.type === 'file' ? await readAll(entry, size, path) : Buffer.alloc(0);
            if (h.type !== 'file') entry.resume();
            if (hash.update(data).digest('hex') !== checksum) throw mismatch();
            const body = h.type === 'file' ? await deflateRaw(data, { level }) : Buffer.alloc(0);
            await writeFile(await objectPath(prefix, rest, 'filez'), Buffer.concat([header, body]));
          } else {
            const tmp = join(repo, 'tmp', `import-${tmpCounter++}`);
            const out = createWriteStream(tmp);
            out.write(header);
            await pipeline(entry, hashing(hash), zlib.createDeflateRaw({ level }), out);
            if (hash.digest('hex') !== checksum) {
              await rm(tmp, { force: true });
              throw mismatch();
            }
            await rename(tmp, await objectPath(prefix, rest, 'filez'));
          }
          contentObjects++;
          continue;
        }
        // Metadata: commit, commitmeta, dirtree, dirmeta.
        if (index !== 0) throw malformed(`metadata object ${checksum}.${ext} in chunk layer ${index}`);
        const bytes = await readAll(entry, h.size ?? 0, path);
        if (ext === 'commit') {
          if (sawCommit) throw malformed('more than one commit object');
          if (checksum !== commit) throw malformed(`commit ${checksum} is not the labelled ${commit}`);
          sawCommit = true;
        }
        // A detached metadata object is named by its commit, not by its own bytes.
        if (ext !== 'commitmeta' && createHash('sha256').update(bytes).digest('hex') !== checksum) {
          throw new OcneError(
            'OCNE_IMAGE_OSTREE_CHECKSUM',
            `${ext} object ${checksum} does not match its content`,
          );
        }
        await writeFile(await objectPath(prefix, rest, ext), bytes);
        metadataObjects++;
      }
      await pump;
    } catch (error) {
      extract.destroy();
      if (signal?.aborted) throw signal.reason;
      if (error instanceof OcneError) throw error;
      // zlib and tar errors: the blob is not what its digest promised (the digest is checked last).
      throw new OcneError(
        'OCNE_IMAGE_OSTREE_DIGEST',
        `layer ${index} (${layer.digest}) cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (`sha256:${blobHash.digest('hex')}` !== layer.digest) {
      throw new OcneError(
        'OCNE_IMAGE_OSTREE_DIGEST',
        `layer ${index} does not match its digest ${layer.digest}`,
      );
    }
    if (`sha256:${diffHash.digest('hex')}` !== diffIds[index]) {
      throw new OcneError(
        'OCNE_IMAGE_OSTREE_DIGEST',
        `layer ${index} does not match its diff_id ${diffIds[index]}`,
      );
    }
    emit?.({
      type: 'log',
      level: 'debug',
      message: `ostree layer ${index + 1}/${layers.length}: ${contentObjects} content and ${metadataObjects} metadata objects so far`,
    });
  }
  if (!sawCommit) throw malformed(`the commit object ${commit} is not in the image`);
  await writeFile(join(repo, 'refs', 'heads', ref), `${commit}\n`);
  await writeFile(join(repo, 'config'), ARCHIVE_REPO_CONFIG);
  return { commit, contentObjects, metadataObjects, bytes: bytesDone };
}
