/**
 * The tiny boot image that stands in for OCK's `disk/boot.qcow2` in the libvirt tests (see
 * `scripts/tiny-image.sh`), built once per input and kept in the test cache; and the same disk as
 * an OCI image laid out as OCK's (layer 0 is a gzip tar whose one entry is `disk/boot.qcow2`), so
 * the image tests and the registry can serve it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'tiny-image.sh');

/** Where built images are kept: `$OCNE_TEST_CACHE/libvirt`, else ~/.cache/ocne-test/libvirt. */
const cacheDir = (): string =>
  join(process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache', 'ocne-test'), 'libvirt');

/** The newest Debian cloud kernel installed (`linux-image-cloud-amd64`). */
async function cloudKernel(): Promise<string> {
  const releases = (await readdir('/boot'))
    .filter((f) => /^vmlinuz-.*-cloud-amd64$/.test(f))
    .map((f) => f.slice('vmlinuz-'.length))
    .sort();
  const release = releases.at(-1);
  if (release === undefined) {
    throw new Error(
      'no /boot/vmlinuz-*-cloud-amd64: install linux-image-cloud-amd64 (scripts/system-packages.sh)',
    );
  }
  return release;
}

/** The built disk. */
export interface TinyBootImage {
  /** The qcow2 file (do not change it: it is shared by every run with the same inputs). */
  path: string;
  /** The hash of the inputs it was built from (the script, the kernel, busybox). */
  inputHash: string;
}

/**
 * Returns the tiny boot disk, building it (about a second) when no disk built from the same script,
 * kernel and busybox is cached.
 */
export async function tinyBootImage(): Promise<TinyBootImage> {
  const release = await cloudKernel();
  const hash = createHash('sha256');
  hash.update(await readFile(SCRIPT));
  for (const input of [`/boot/vmlinuz-${release}`, '/bin/busybox']) {
    const s = await stat(input);
    hash.update(`${input}:${s.size}:${s.mtimeMs}\n`);
  }
  const inputHash = hash.digest('hex').slice(0, 16);
  const path = join(cacheDir(), `tiny-${inputHash}`, 'boot.qcow2');
  try {
    await stat(path);
    return { path, inputHash };
  } catch {
    // not built yet
  }
  await mkdir(dirname(path), { recursive: true });
  await execa('bash', [SCRIPT, release, path]);
  return { path, inputHash };
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A tar header of one regular file (ustar). */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) =>
    header.write(value, offset, length, 'ascii');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** What {@link tinyOciLayout} made. */
export interface TinyOciLayout {
  /** The OCI layout folder (`oci:<dir>:<tag>`). */
  dir: string;
  tag: string;
  /** The digest of the image manifest. */
  manifestDigest: string;
}

/**
 * Writes the tiny disk as an OCI image in an OCI layout folder (cached next to the disk): layer 0
 * is a gzip tar holding exactly `disk/boot.qcow2`, as the OCK image's first layer does.
 *
 * @param tag - the image tag (OCK tags are Kubernetes versions). @defaultValue `1.33`
 */
export async function tinyOciLayout(tag = '1.33'): Promise<TinyOciLayout> {
  const image = await tinyBootImage();
  const dir = join(dirname(image.path), 'oci');
  const indexPath = join(dir, 'index.json');
  try {
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const found = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (found) return { dir, tag, manifestDigest: found.digest };
  } catch {
    // not written yet
  }
  const disk = await readFile(image.path);
  const tar = Buffer.concat([
    tarHeader('disk/boot.qcow2', disk.length),
    disk,
    Buffer.alloc((512 - (disk.length % 512)) % 512),
    Buffer.alloc(1024),
  ]);
  const layer = gzipSync(tar, { level: 1 });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256(config)}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: `sha256:${sha256(layer)}`,
          size: layer.length,
        },
      ],
    }),
  );
  const temp = `${dir}.partial`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(join(temp, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, manifest])
    await writeFile(join(temp, 'blobs', 'sha256', sha256(blob)), blob);
  const manifestDigest = `sha256:${sha256(manifest)}`;
  await writeFile(join(temp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(temp, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  await rm(dir, { recursive: true, force: true });
  await rename(temp, dir);
  return { dir, tag, manifestDigest };
}

/** What {@link pushTinyOciImage} needs of a registry (`TestRegistry` of `@ocne/test-registry` has it). */
export interface TinyImageRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** A folder holding the registry's CA certificate, as skopeo's `--dest-cert-dir` reads it. */
  certDir: string;
  username: string;
  password: string;
}

/**
 * Pushes the tiny image to `<host>/olcne/ock:<tag>` with skopeo, as OCK is published, so a
 * provider whose `bootVolumeContainerImage` names `<host>/olcne/ock` pulls it.
 *
 * @returns the image without its tag (`<host>/olcne/ock`), for `bootVolumeContainerImage`
 */
export async function pushTinyOciImage(registry: TinyImageRegistry, tag: string): Promise<string> {
  const layout = await tinyOciLayout(tag);
  const image = `${registry.host}/olcne/ock`;
  await execa('skopeo', [
    'copy',
    '--quiet',
    '--dest-cert-dir',
    registry.certDir,
    '--dest-creds',
    `${registry.username}:${registry.password}`,
    `oci:${layout.dir}:${layout.tag}`,
    `docker://${image}:${tag}`,
  ]);
  return image;
}
