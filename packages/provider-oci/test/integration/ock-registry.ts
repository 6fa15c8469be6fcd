// The OCK image of a start that makes its boot images: the generated OCK-like disk carried by an
// OCI image per architecture (`@ocne/test-images`), joined under one index as Oracle publishes
// `olcne/ock`, and pushed with the real skopeo to the real registry on 127.0.0.1.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOckOciImage, generateOckDisk } from '@ocne/test-images';
import type { TestRegistry } from '@ocne/test-registry';

const exec = promisify(execFile);
const INDEX = 'application/vnd.oci.image.index.v1+json';

/** Pushes a two-architecture OCK image as `<registry>/<repository>:<tag>`. */
export async function pushOckImage(
  registry: TestRegistry,
  work: string,
  repository: string,
  tag: string,
): Promise<void> {
  const disk = await generateOckDisk();
  const layout = join(work, 'ock-multi');
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const manifests: object[] = [];
  for (const arch of ['amd64', 'arm64'] as const) {
    const single = join(work, `ock-${arch}`);
    await buildOckOciImage({ disk, directory: single, arch, tag });
    for (const blob of await readdir(join(single, 'blobs', 'sha256'))) {
      await copyFile(join(single, 'blobs', 'sha256', blob), join(layout, 'blobs', 'sha256', blob));
    }
    const index = JSON.parse(await readFile(join(single, 'index.json'), 'utf8')) as {
      manifests: Array<{ mediaType: string; digest: string; size: number }>;
    };
    const { mediaType, digest, size } = index.manifests[0]!;
    manifests.push({ mediaType, digest, size, platform: { architecture: arch, os: 'linux' } });
  }
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }));
  const digest = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs', 'sha256', digest), bytes);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: INDEX,
          digest: `sha256:${digest}`,
          size: bytes.length,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  await exec('skopeo', [
    'copy',
    '--quiet',
    '--all',
    '--dest-cert-dir',
    registry.certDir,
    `oci:${layout}:${tag}`,
    `docker://${registry.host}/${repository}:${tag}`,
  ]);
}
