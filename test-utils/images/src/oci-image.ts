/**
 * The OCI image that carries an OCK boot disk, as `container-registry.oracle.com/olcne/ock` does:
 * layer 0 is a gzipped tar holding `disk/boot.qcow2`. Written as an OCI image layout folder
 * (`oci:<dir>` for skopeo), so tests can `skopeo copy` it into the `dir:` layout the image cache uses.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Options of {@link buildOckOciImage}. */
export interface OckOciImageOptions {
  /** The qcow2 to carry (e.g. from `generateOckDisk`). */
  disk: string;
  /** The OCI layout folder to create. */
  directory: string;
  /** @defaultValue `amd64` */
  arch?: 'amd64' | 'arm64';
  /** The tag in the layout's index. @defaultValue `1.33` */
  tag?: string;
  /** Name of the disk inside the layer. @defaultValue `disk/boot.qcow2` */
  entryName?: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `directory` as an OCI image layout and returns the layer's digest. */
export async function buildOckOciImage(options: OckOciImageOptions): Promise<{ layerDigest: string }> {
  const { directory, arch = 'amd64', tag = '1.33', entryName = 'disk/boot.qcow2' } = options;
  const blobs = join(directory, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const staging = await mkdtemp(join(directory, '.staging-'));
  try {
    const entry = join(staging, 'tree', entryName);
    await mkdir(join(entry, '..'), { recursive: true });
    await link(options.disk, entry);
    const layer = join(staging, 'layer.tar.gz');
    const tarred = join(staging, 'layer.tar');
    // Not --sparse: OCK's layer has a plain file entry (and tar-stream reads no GNU sparse entries).
    await execa('tar', ['-C', join(staging, 'tree'), '-cf', tarred, entryName.split('/')[0]!]);
    const diffId = await sha256File(tarred);
    await execa('gzip', ['-1', '-n', tarred]);
    await rename(`${tarred}.gz`, layer);
    const layerDigest = await sha256File(layer);
    const layerSize = (await stat(layer)).size;
    await rename(layer, join(blobs, layerDigest));

    const writeBlob = async (json: unknown): Promise<{ digest: string; size: number }> => {
      const bytes = Buffer.from(JSON.stringify(json));
      const digest = createHash('sha256').update(bytes).digest('hex');
      await writeFile(join(blobs, digest), bytes);
      return { digest: `sha256:${digest}`, size: bytes.length };
    };
    const config = await writeBlob({
      architecture: arch,
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    });
    const manifest = await writeBlob({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: `sha256:${layerDigest}`,
          size: layerSize,
        },
      ],
    });
    await writeFile(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(directory, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    return { layerDigest: `sha256:${layerDigest}` };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
