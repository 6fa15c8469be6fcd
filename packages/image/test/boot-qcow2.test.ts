// Layer 0 of a `dir:` layout (written by the real skopeo) streamed to disk/boot.qcow2.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOckOciImage, generateOckDisk } from '@ocne/test-images';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractBootQcow2 } from '../src/index.js';

const sha256 = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

describe('extractBootQcow2', () => {
  let work: string;
  let disk: string;
  let dir: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ocne-boot-qcow2-'));
    disk = await generateOckDisk();
    await buildOckOciImage({ disk, directory: join(work, 'oci') });
    dir = join(work, 'dir');
    await execa('skopeo', ['copy', '--quiet', `oci:${join(work, 'oci')}:1.33`, `dir:${dir}`]);
  }, 120_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('writes the disk byte for byte, with progress up to the layer size', async () => {
    const progress: [number, number][] = [];
    const destination = join(work, 'boot.qcow2');
    const result = await extractBootQcow2({
      directory: dir,
      destination,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(await sha256(destination)).toBe(await sha256(disk));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      layers: { digest: string; size: number }[];
    };
    expect(result.layerDigest).toBe(manifest.layers[0]?.digest);
    expect(progress.at(-1)).toEqual([manifest.layers[0]?.size, manifest.layers[0]?.size]);
  });

  it('refuses a corrupt layer and a layer without the disk', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      layers: { digest: string }[];
    };
    const blob = join(dir, manifest.layers[0]!.digest.slice(7));
    const original = await readFile(blob);
    try {
      const corrupt = Buffer.from(original);
      corrupt[corrupt.length - 12] = (corrupt[corrupt.length - 12] ?? 0) ^ 0xff; // inside the gzip trailer's CRC
      await writeFile(blob, corrupt);
      await expect(extractBootQcow2({ directory: dir, destination: join(work, 'x') })).rejects.toMatchObject({
        code: 'OCNE_IMAGE_BOOT_SOURCE_INVALID',
      });
    } finally {
      await writeFile(blob, original);
    }
    const other = join(work, 'other');
    await buildOckOciImage({ disk, directory: join(work, 'oci-other'), entryName: 'disk/other.qcow2' });
    await execa('skopeo', ['copy', '--quiet', `oci:${join(work, 'oci-other')}:1.33`, `dir:${other}`]);
    await expect(extractBootQcow2({ directory: other, destination: join(work, 'y') })).rejects.toMatchObject({
      code: 'OCNE_IMAGE_BOOT_SOURCE_INVALID',
      message: expect.stringMatching(/holds no disk\/boot\.qcow2$/),
    });
  });
});
