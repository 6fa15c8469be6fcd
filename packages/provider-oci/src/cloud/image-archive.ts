/**
 * Upstream's upload format for OCI images, produced as a stream: a gzipped tar with the qcow2 as
 * `output.QCOW2`, then `image_metadata.json` (the launch options and compatible shapes OCI reads
 * when it imports the image). Upstream builds the whole archive in memory; here it is made on the
 * fly from the image file, byte for byte the same on every run (sizes, modes and times come from
 * the file, gzip writes no time), so a resumed upload can tell which parts it already stored.
 *
 * Differences from upstream, on purpose: the image entry is always `output.QCOW2` (upstream names
 * it `image_metadata.json` too when the file does not end in `.oci`, making an archive OCI
 * cannot import), and the metadata is not left next to the image as `<image>.json`.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { OcneError } from '@ocne/core';

/** An image architecture. */
export type OciImageArchitecture = 'amd64' | 'arm64';

// The shapes upstream declares compatible in image_metadata.json.
const AMD64_SHAPES_OCI: readonly string[] = [
  'VM.DenseIO1.16',
  'VM.DenseIO1.4',
  'VM.DenseIO1.8',
  'VM.DenseIO2.16',
  'VM.DenseIO2.24',
  'VM.DenseIO2.8',
  'VM.GPU2.1',
  'VM.GPU3.1',
  'VM.GPU3.2',
  'VM.GPU3.4',
  'VM.Standard.B1.1',
  'VM.Standard.B1.16',
  'VM.Standard.B1.2',
  'VM.Standard.B1.4',
  'VM.Standard.B1.8',
  'VM.Standard.E2.1',
  'VM.Standard.E2.1.Micro',
  'VM.Standard.E2.2',
  'VM.Standard.E2.4',
  'VM.Standard.E2.8',
  'VM.Standard.E3.Flex',
  'VM.Standard.E4.Flex',
  'VM.Standard.E5.Flex',
  'VM.Standard.E5T.Flex',
  'VM.Standard.E5T.NPS4.Flex',
  'VM.Standard.E6.Flex',
  'VM.Standard1.1',
  'VM.Standard1.16',
  'VM.Standard1.2',
  'VM.Standard1.2XL',
  'VM.Standard1.4XL',
  'VM.Standard2.1',
  'VM.Standard2.16',
  'VM.Standard2.2',
  'VM.Standard2.24',
  'VM.Standard2.4',
  'VM.Standard2.8',
  'VM.Standard2.Flex.Micro',
  'VM.Standard3.Flex',
  'VM.Standard4.Flex',
  'e1-2c.64.512',
  'e2-2c.128.2048',
  'e2-2c.64.2048.gpu',
  'e4-2c.128.2048',
  'e4-2c.128.2048.2t',
  'e4-2c.128.2048.jbod',
  'e4-2c.128.2048.nvme',
  'x5-2.36.256',
  'x5-2.36.512.nvme-12.8',
  'x5-2.36.512.nvme-28.8',
  'x6-2.44.512',
  'x7-2c.28.256.gpu',
  'x7-2c.36.192.hpc',
  'x7-2c.52.768',
  'x7-2c.52.768.gpu',
  'x7-2l.52.768.nvme',
];
const ARM64_SHAPES_OCI: readonly string[] = ['VM.Standard.A1.Flex', 'VM.Standard.A2.Flex', 'a1-2c.160.1024'];
const AMD64_SHAPES_PCA: readonly string[] = ['VM.PCAStandard.E5.Flex'];

/** The content of `image_metadata.json`, as upstream writes it for OCI or a Private Cloud Appliance. */
export function imageMetadata(architecture: OciImageArchitecture, pca: boolean): string {
  const shapes = pca
    ? architecture === 'amd64'
      ? AMD64_SHAPES_PCA
      : null
    : architecture === 'amd64'
      ? AMD64_SHAPES_OCI
      : ARM64_SHAPES_OCI;
  const paravirtualized = 'PARAVIRTUALIZED';
  const metadata = {
    version: 2,
    externalLaunchOptions: {
      firmware: 'UEFI_64',
      networkType: pca ? paravirtualized : 'VFIO',
      bootVolumeType: pca ? paravirtualized : 'ISCSI',
      remoteDataVolumeType: paravirtualized,
      localDataVolumeType: pca ? paravirtualized : 'VFIO',
      launchOptionsSource: pca ? 'CUSTOM' : 'NATIVE',
      pvAttachmentVersion: pca ? 0 : 1,
      pvEncryptionInTransitEnabled: false,
      consistentVolumeNamingEnabled: false,
    },
    // A JSON string inside the JSON, keys sorted (as Go marshals a map).
    imageCapabilityData: pca
      ? ''
      : JSON.stringify({
          capabilities: {
            'Compute.Firmware': {
              defaultValue: 'UEFI_64',
              descriptorType: 'enumstring',
              values: ['UEFI_64'],
            },
            'Compute.LaunchMode': {
              defaultValue: paravirtualized,
              descriptorType: 'enumstring',
              values: [paravirtualized],
            },
          },
        }),
    imageCapsFormatVersion: pca ? '' : '34dd2cea-aff2-4f45-b8f6-1cb5290bfab2',
    operatingSystem: 'Oracle Linux',
    operatingSystemVersion: '8',
    additionalMetadata: {
      sourcePublicImageId: null,
      shapeCompatibilities:
        shapes?.map((internalShapeName) => ({
          internalShapeName,
          ocpuConstraints: null,
          memoryConstraints: null,
        })) ?? null,
    },
  };
  return JSON.stringify(metadata, null, 2);
}

const BLOCK = 512;
const USTAR_MAX = 8 ** 11 - 1;

function field(buffer: Buffer, offset: number, length: number, value: string): void {
  buffer.write(value, offset, length, 'utf8');
}

function octal(buffer: Buffer, offset: number, length: number, value: number): void {
  field(buffer, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** One USTAR header block (typeflag `0`, or `x` for a PAX header). */
function header(name: string, size: number, mode: number, mtime: number, type: '0' | 'x'): Buffer {
  const block = Buffer.alloc(BLOCK);
  field(block, 0, 100, name);
  octal(block, 100, 8, mode & 0o7777);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, Math.min(size, USTAR_MAX));
  octal(block, 136, 12, Math.floor(mtime));
  block.fill(0x20, 148, 156); // the checksum counts itself as spaces
  field(block, 156, 1, type);
  field(block, 257, 6, 'ustar\0');
  field(block, 263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** The header blocks of a regular file: PAX `size` first when USTAR's 8 GiB limit is passed. */
function fileHeader(name: string, size: number, mode: number, mtime: number): Buffer {
  if (size <= USTAR_MAX) return header(name, size, mode, mtime, '0');
  let record = ` size=${size}\n`;
  let length = record.length;
  while (`${length}${record}`.length !== length) length = `${length}${record}`.length;
  record = `${length}${record}`;
  const data = Buffer.alloc(Math.ceil(record.length / BLOCK) * BLOCK);
  data.write(record);
  return Buffer.concat([
    header(`PaxHeaders/${name}`.slice(0, 99), record.length, 0o644, mtime, 'x'),
    data,
    header(name, size, mode, mtime, '0'),
  ]);
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The image file's facts the archive depends on. */
export interface ImageFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeSeconds: number;
}

/** Checks that `path` is a readable qcow2 file and returns its facts. */
export async function inspectImage(path: string): Promise<ImageFile> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    const handle = await open(path, 'r');
    try {
      const magic = Buffer.alloc(4);
      await handle.read(magic, 0, 4, 0);
      if (magic.toString('latin1') !== 'QFI\xfb') throw new Error('not a qcow2 image (no QFI magic)');
    } finally {
      await handle.close();
    }
    return { path, size: info.size, mode: info.mode, mtimeSeconds: Math.floor(info.mtimeMs / 1000) };
  } catch (error) {
    throw new OcneError(
      'OCNE_OCI_IMAGE_FILE_INVALID',
      `cannot upload ${path}: ${(error as Error).message}. Give the .oci qcow2 image that 'ocne image create --type oci' writes`,
      { cause: error },
    );
  }
}

/** Options of {@link imageArchive}. */
export interface ImageArchiveOptions {
  /** Called with the image bytes read so far (for progress). */
  readonly onRead?: (bytes: number) => void;
  /** gzip level (default 6, Go's default). */
  readonly level?: number;
}

/** The `.tar.gz` stream of an image and its metadata. */
export function imageArchive(
  image: ImageFile,
  metadata: string,
  options: ImageArchiveOptions = {},
): Readable {
  const json = Buffer.from(metadata);
  const gzip = createGzip({ level: options.level ?? 6 });
  async function* tar(): AsyncGenerator<Buffer> {
    yield fileHeader('output.QCOW2', image.size, image.mode, image.mtimeSeconds);
    let read = 0;
    for await (const chunk of createReadStream(image.path, {
      highWaterMark: 1 << 20,
    }) as AsyncIterable<Buffer>) {
      read += chunk.length;
      if (read > image.size) throw new Error(`${image.path} grew while it was being uploaded`);
      options.onRead?.(read);
      yield chunk;
    }
    if (read !== image.size) throw new Error(`${image.path} changed size while it was being uploaded`);
    yield padding(image.size);
    yield fileHeader('image_metadata.json', json.length, 0o644, image.mtimeSeconds);
    yield json;
    yield padding(json.length);
    yield Buffer.alloc(2 * BLOCK);
  }
  // pipeline destroys the gzip stream with the error of a failed read, so the reader sees it.
  pipeline(Readable.from(tar()), gzip, () => {});
  return gzip;
}
