/**
 * Local images, read where they lie: an `oci-archive:` tar (what `image create --type ostree`
 * writes), an `oci:` image layout folder, or a containers `dir:` folder (what `pullImage` leaves
 * in the cache). The one reader for uploads and for the images `createImage` starts from. Nothing
 * is unpacked: a tar is indexed once (its headers only; blobs are stored whole in a tar, so each is
 * a byte range of the file) and every blob is then read as a stream of its range, so a multi-GB
 * layer never sits in memory or in a temp file. Blob digests are the reader's caller's to check
 * (each reads a blob once, hashing on the way); the small config is checked here.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OcneError } from '@ocne/core';
import { type BlobSource, type Descriptor, isIndex, MEDIA_TYPES, sha256 } from '../registry/client.js';

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

/** A blob of a local image. `size` is the manifest's; `storedSize` what lies on disk. */
export interface LocalBlob extends BlobSource {
  readonly mediaType: string;
  /** The bytes stored; differs from `size` only when the blob is damaged. */
  readonly storedSize: number;
}

/** A local image: its manifest, its config and the blobs it names. */
export interface LocalImage {
  /** The location as given, such as `oci-archive:/path/x.tar`. */
  readonly location: string;
  readonly manifest: { readonly bytes: Buffer; readonly mediaType: string; readonly digest: string };
  /** The image config (its digest checked). */
  readonly config: ImageConfig;
  /** The layers, in order. */
  readonly layers: readonly LocalBlob[];
  /** Config first, then the layers in order. */
  readonly blobs: readonly LocalBlob[];
}

/** Every stored byte of a blob (an empty stream for an empty blob). */
export function readBlob(blob: LocalBlob): Readable {
  return blob.storedSize === 0 ? Readable.from([]) : blob.open(0, blob.storedSize - 1);
}

/** A transport and what follows it. */
export interface LocalLocation {
  readonly transport: 'oci-archive' | 'oci' | 'dir';
  readonly path: string;
  /** The `org.opencontainers.image.ref.name` after the path (`oci:dir:name:tag` names `name:tag`), if any. */
  readonly name: string | undefined;
}

const invalid = (location: string, why: string, cause?: unknown) =>
  new OcneError('OCNE_IMAGE_SOURCE_INVALID', `${location}: ${why}`, cause === undefined ? {} : { cause });

/** Splits `oci-archive:<path>[:<name>]`, `oci:<path>[:<name>]` or `dir:<path>`; undefined for other transports. */
export function parseLocalLocation(location: string): LocalLocation | undefined {
  const m = /^(oci-archive|oci|dir):(.+)$/s.exec(location);
  if (!m) return undefined;
  const transport = m[1] as LocalLocation['transport'];
  let path = m[2]!;
  let name: string | undefined;
  // containers' syntax (SplitPathAndImage): the first `:` ends the path; the rest is the name.
  const colon = path.indexOf(':');
  if (transport !== 'dir' && colon > 0) {
    name = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  return { transport, path, name: name === '' ? undefined : name };
}

/** Where a file's bytes are: a whole file, or a range of the tar. */
interface Entry {
  readonly file: string;
  readonly offset: number;
  readonly size: number;
}

const ZERO_BLOCK = Buffer.alloc(512);
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

function tarString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function tarNumber(block: Buffer, start: number, length: number): number {
  // Base-256 (GNU) for sizes of 8 GiB and more; octal otherwise.
  if ((block[start]! & 0x80) !== 0) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  return Number.parseInt(tarString(block, start, length).trim() || '0', 8);
}

/** Reads PAX records (`<len> key=value\n`). */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

/** The regular files of a tar, by name (`./` stripped), as byte ranges of it. */
async function indexTar(path: string, location: string): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw invalid(location, `cannot open ${path}: ${(error as Error).message}`, error);
  }
  try {
    const { size: fileSize } = await handle.stat();
    const block = Buffer.alloc(512);
    let offset = 0;
    let longName: string | undefined;
    let pax: Record<string, string> = {};
    for (;;) {
      if (offset + 512 > fileSize) throw invalid(location, 'the tar ends in the middle of a header');
      await handle.read(block, 0, 512, offset);
      if (block.equals(ZERO_BLOCK)) break;
      const magic = tarString(block, 257, 6);
      if (magic !== 'ustar' && magic !== 'ustar ')
        throw invalid(location, `not a tar archive (at byte ${offset})`);
      const type = String.fromCharCode(block[156] || 0x30);
      const prefix = tarString(block, 345, 155);
      let name = tarString(block, 0, 100);
      if (prefix !== '' && magic === 'ustar') name = `${prefix}/${name}`;
      let size = tarNumber(block, 124, 12);
      if (pax.size !== undefined) size = Number(pax.size);
      const data = offset + 512;
      if (data + size > fileSize) throw invalid(location, `the tar is cut short in ${name}`);
      if (type === 'x' || type === 'L') {
        const body = Buffer.alloc(size);
        await handle.read(body, 0, size, data);
        if (type === 'x') pax = paxRecords(body);
        else longName = tarString(body, 0, size);
      } else {
        if (type === '0' || type === '7') {
          const full = pax.path ?? longName ?? name;
          entries.set(full.replace(/^(\.\/)+/, ''), { file: path, offset: data, size });
        }
        pax = {};
        longName = undefined;
      }
      offset = data + Math.ceil(size / 512) * 512;
    }
  } finally {
    await handle.close();
  }
  return entries;
}

async function readEntry(entry: Entry, location: string, what: string): Promise<Buffer> {
  if (entry.size > 4 * 1024 * 1024) throw invalid(location, `${what} is too large (${entry.size} bytes)`);
  const handle = await open(entry.file, 'r');
  try {
    const bytes = Buffer.alloc(entry.size);
    await handle.read(bytes, 0, entry.size, entry.offset);
    return bytes;
  } finally {
    await handle.close();
  }
}

function parseJson(bytes: Buffer, location: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw invalid(location, `${what} is not JSON`, error);
  }
}

/**
 * Opens a local image for reading; `arch` picks from an index (the entry for it). Stored sizes
 * are not compared with the manifest here (`checkBlobSizes` in the upload): a reader that hashes every
 * byte finds a damaged blob anyway, and says which layer.
 */
export async function openLocalImage(location: string, arch: string): Promise<LocalImage> {
  const where = parseLocalLocation(location);
  if (!where) throw invalid(location, 'expected oci-archive:<file>, oci:<folder> or dir:<folder>');
  let files: (name: string) => Promise<Entry | undefined>;
  if (where.transport === 'oci-archive') {
    const index = await indexTar(where.path, location);
    files = async (name) => index.get(name);
  } else {
    const info = await stat(where.path).catch(() => undefined);
    if (!info?.isDirectory()) throw invalid(location, `${where.path} is not a folder`);
    files = async (name) => {
      const file = join(where.path, name);
      const s = await stat(file).catch(() => undefined);
      return s?.isFile() ? { file, offset: 0, size: s.size } : undefined;
    };
  }
  const read = async (name: string, what: string): Promise<Buffer> => {
    const entry = await files(name);
    if (!entry) throw invalid(location, `${what} (${name}) is missing`);
    return readEntry(entry, location, what);
  };
  const blobName = (digest: unknown) => {
    // The digest becomes a file name: anything but sha256 hex could name a file outside the image.
    if (typeof digest !== 'string' || !SHA256_DIGEST.test(digest))
      throw invalid(location, `unsupported digest ${JSON.stringify(digest)?.slice(0, 80)}`);
    const hex = digest.slice('sha256:'.length);
    return where.transport === 'dir' ? hex : `blobs/sha256/${hex}`;
  };

  let manifestBytes: Buffer;
  if (where.transport === 'dir') {
    manifestBytes = await read('manifest.json', 'the manifest');
  } else {
    const index = parseJson(await read('index.json', 'index.json'), location, 'index.json');
    let entries = (index.manifests ?? []) as Descriptor[];
    if (where.name !== undefined) {
      entries = entries.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === where.name);
      if (entries.length === 0) throw invalid(location, `no image named "${where.name}" in index.json`);
    }
    if (entries.length !== 1) {
      throw invalid(location, `index.json has ${entries.length} images; name one (${location}:<name>)`);
    }
    let entry = entries[0]!;
    // A nested index (a multi-architecture image): the entry for the architecture.
    for (let depth = 0; isIndex(entry.mediaType); depth++) {
      const nested = parseJson(await read(blobName(entry.digest), 'an index'), location, 'an index');
      const found = ((nested.manifests ?? []) as Descriptor[]).find((m) => m.platform?.architecture === arch);
      if (!found || depth > 3)
        throw new OcneError(
          'OCNE_IMAGE_PLATFORM_MISSING',
          `${location} has no image for the ${arch} architecture`,
        );
      entry = found;
    }
    manifestBytes = await read(blobName(entry.digest), 'the manifest');
  }
  const manifest = parseJson(manifestBytes, location, 'the manifest');
  const mediaType =
    typeof manifest.mediaType === 'string'
      ? manifest.mediaType
      : (manifest.config as Descriptor | undefined)?.mediaType ===
          'application/vnd.docker.container.image.v1+json'
        ? MEDIA_TYPES.dockerManifest
        : MEDIA_TYPES.ociManifest;
  if (mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new OcneError(
      'OCNE_IMAGE_UNSUPPORTED',
      `${location}: manifest media type "${mediaType}" is not an image manifest`,
    );
  }
  const config = manifest.config as Descriptor | undefined;
  const layers = manifest.layers as Descriptor[] | undefined;
  if (!config || !Array.isArray(layers)) throw invalid(location, 'the manifest has no config or layers');
  const blobs: LocalBlob[] = [];
  let configEntry: Entry | undefined;
  for (const d of [config, ...layers]) {
    const entry = await files(blobName(d.digest));
    if (!entry) throw invalid(location, `blob ${d.digest} is missing`);
    configEntry ??= entry;
    blobs.push({
      digest: d.digest,
      size: d.size,
      storedSize: entry.size,
      mediaType: d.mediaType,
      open: (start: number, end: number) =>
        createReadStream(entry.file, { start: entry.offset + start, end: entry.offset + end }),
    });
  }
  const configBytes = await readEntry(configEntry!, location, 'the config');
  if (sha256(configBytes) !== config.digest) {
    throw new OcneError(
      'OCNE_IMAGE_DIGEST_MISMATCH',
      `${location}: the image config does not match its digest`,
    );
  }
  const imageConfig = parseJson(configBytes, location, 'the config') as ImageConfig;
  return {
    location,
    manifest: { bytes: manifestBytes, mediaType, digest: sha256(manifestBytes) },
    config: imageConfig,
    layers: blobs.slice(1),
    blobs,
  };
}

/** Refuses an image whose stored blobs differ in size from what its manifest says (before sending any). */
export function checkBlobSizes(image: LocalImage): void {
  for (const blob of image.blobs) {
    if (blob.storedSize !== blob.size) {
      throw new OcneError(
        'OCNE_IMAGE_DIGEST_MISMATCH',
        `${image.location}: blob ${blob.digest} has ${blob.storedSize} bytes, the manifest says ${blob.size}`,
      );
    }
  }
}
