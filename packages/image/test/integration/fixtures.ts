// Test images, generated at test time: an OCI layout holding one OCK-like image per architecture
// (one gzip layer with `disk/boot.qcow2` of random bytes, so nothing compresses it away) and an
// index over them, made with the real tar and gzip; `skopeo copy` puts them in a registry.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestRegistry } from '@ocne/test-registry';

const exec = promisify(execFile);

/** Runs a program (no shell) and returns its output; rejects on a non-zero exit. */
export async function run(
  command: string,
  args: readonly string[],
): Promise<{ stdout: string; stderr: string }> {
  return exec(command, [...args], { maxBuffer: 64 * 1024 * 1024 });
}

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** One image of the layout. */
export interface FixtureImage {
  arch: string;
  manifestDigest: string;
  layerDigest: string;
  layerSize: number;
  configDigest: string;
}

/**
 * An OCI layout with images per architecture; `oci:<dir>:<arch>` names each, `oci:<dir>:multi` an
 * index of all, `oci:<dir>:first-only` an index of the first.
 */
export interface FixtureLayout {
  dir: string;
  images: Record<string, FixtureImage>;
  indexDigest: string;
}

async function putBlob(dir: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return digest;
}

/** Writes an OCI layout under `dir` with a `layerBytes`-sized random disk per architecture. */
export async function makeLayout(
  dir: string,
  arches: readonly string[],
  layerBytes: number,
): Promise<FixtureLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const images: Record<string, FixtureImage> = {};
  const refs: object[] = [];
  for (const arch of arches) {
    const work = join(dir, `work-${arch}`);
    await mkdir(join(work, 'disk'), { recursive: true });
    await writeFile(join(work, 'disk', 'boot.qcow2'), randomBytes(layerBytes));
    await run('tar', ['-C', work, '-cf', join(work, 'layer.tar'), 'disk/boot.qcow2']);
    const diffId = digestOf(await readFile(join(work, 'layer.tar')));
    await run('gzip', ['-1', '-n', join(work, 'layer.tar')]);
    const layer = await readFile(join(work, 'layer.tar.gz'));
    const layerDigest = await putBlob(dir, layer);
    const config = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    );
    const configDigest = await putBlob(dir, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: layerDigest,
            size: layer.length,
          },
        ],
      }),
    );
    const manifestDigest = await putBlob(dir, manifest);
    images[arch] = { arch, manifestDigest, layerDigest, layerSize: layer.length, configDigest };
    refs.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: manifestDigest,
      size: manifest.length,
      platform: { architecture: arch, os: 'linux' },
    });
    await rename(work, `${work}.done`);
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: refs,
    }),
  );
  const indexDigest = await putBlob(dir, index);
  // An index with the first architecture only, to ask it for one it lacks.
  const single = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [refs[0]],
    }),
  );
  const singleDigest = await putBlob(dir, single);
  const top = {
    schemaVersion: 2,
    manifests: [
      ...refs.map((r, i) => ({ ...r, annotations: { 'org.opencontainers.image.ref.name': arches[i] } })),
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: indexDigest,
        size: index.length,
        annotations: { 'org.opencontainers.image.ref.name': 'multi' },
      },
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: singleDigest,
        size: single.length,
        annotations: { 'org.opencontainers.image.ref.name': 'first-only' },
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(top));
  return { dir, images, indexDigest };
}

/** skopeo's flags for a registry destination or source. */
export const skopeoTls = (registry: TestRegistry, side: 'src' | 'dest' | ''): string[] => [
  `--${side ? `${side}-` : ''}cert-dir`,
  registry.certDir,
  `--${side ? `${side}-` : ''}creds`,
  `${registry.username}:${registry.password}`,
];

/** Pushes `oci:<layout>:<name>` to `docker://<host>/<path>` with skopeo (all images of an index). */
export async function skopeoPush(
  registry: TestRegistry,
  layout: string,
  name: string,
  path: string,
): Promise<void> {
  await run('skopeo', [
    'copy',
    '--all',
    ...skopeoTls(registry, 'dest'),
    `oci:${layout}:${name}`,
    `docker://${registry.host}/${path}`,
  ]);
}
