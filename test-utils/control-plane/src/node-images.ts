// The two images the test node runs, built on this machine from Debian's packages as OCI archives
// that `ctr images import` takes: the pod sandbox ("pause": a static binary compiled here from a few
// lines of C) and the admin image (busybox-static with its applets linked, named as the SDK's admin
// pods name their image). No registry is involved: the node's containerd can pull nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where Debian's busybox-static installs its binary. */
export const BUSYBOX = '/bin/busybox';

// Sleeps until told to stop and reaps what it inherits, like the upstream pause container; it is
// PID 1 of a pod only when the pod does not share the host's PID namespace.
const PAUSE_SOURCE = `#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

/** An image to import: its OCI archive and the names containerd should know it by. */
export interface ImageArchive {
  readonly path: string;
  readonly names: readonly string[];
}

interface ImageSpec {
  /** A folder holding the image's root file system. */
  rootfs: string;
  names: readonly string[];
  entrypoint: readonly string[];
  env: readonly string[];
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A reproducible tar of `dir` (root-owned entries, fixed times, sorted). */
async function tarOf(dir: string, out: string): Promise<void> {
  await execFileAsync('tar', [
    '--create',
    `--file=${out}`,
    `--directory=${dir}`,
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '--sort=name',
    '--mtime=@0',
    '.',
  ]);
}

/** Writes an OCI image layout of one uncompressed layer to `work/layout`, and archives it as `out`. */
async function ociArchive(spec: ImageSpec, work: string, out: string): Promise<ImageArchive> {
  const layout = join(work, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layerPath = join(work, 'layer.tar');
  await tarOf(spec.rootfs, layerPath);
  const layer = await readFile(layerPath);
  const layerDigest = sha256(layer);
  await writeFile(join(blobs, layerDigest), layer);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: spec.env, Entrypoint: spec.entrypoint },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
  });
  await writeFile(join(blobs, sha256(config)), config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${sha256(config)}`,
      size: Buffer.byteLength(config),
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${layerDigest}`,
        size: layer.length,
      },
    ],
  });
  await writeFile(join(blobs, sha256(manifest)), manifest);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    // One entry per name: containerd's importer names an image by `io.containerd.image.name`.
    manifests: spec.names.map((name) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${sha256(manifest)}`,
      size: Buffer.byteLength(manifest),
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name },
    })),
  };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await tarOf(layout, out);
  return { path: out, names: spec.names };
}

/** Options of {@link buildNodeImages}. */
export interface NodeImageOptions {
  /** A scratch folder (removed afterwards except for the archives). */
  dir: string;
  /** The sandbox image's name, as containerd's `sandbox_image` names it. */
  pauseImage: string;
  /** The names of the admin image (the SDK's admin pod image, and the toolbox image). */
  adminImages: readonly string[];
  /** Folders put first on the admin image's `PATH` (folders on the host: `chroot /hostroot` finds commands there). */
  extraPath: readonly string[];
}

/** Builds the pause and admin images as OCI archives in `dir`. */
export async function buildNodeImages(options: NodeImageOptions): Promise<ImageArchive[]> {
  const { dir } = options;
  const pauseRoot = join(dir, 'pause', 'rootfs');
  await mkdir(pauseRoot, { recursive: true });
  await writeFile(join(dir, 'pause', 'pause.c'), PAUSE_SOURCE);
  await execFileAsync('gcc', [
    '-static',
    '-Os',
    '-s',
    '-o',
    join(pauseRoot, 'pause'),
    join(dir, 'pause', 'pause.c'),
  ]);

  const adminRoot = join(dir, 'admin', 'rootfs');
  await mkdir(join(adminRoot, 'bin'), { recursive: true });
  await mkdir(join(adminRoot, 'tmp'), { recursive: true });
  await chmod(join(adminRoot, 'tmp'), 0o1777);
  await writeFile(join(adminRoot, 'bin', 'busybox'), await readFile(BUSYBOX), { mode: 0o755 });
  // Every applet at the path busybox gives it (`chroot` at /usr/sbin/chroot, as upstream's
  // console calls it), as a link to the binary.
  const { stdout } = await execFileAsync(BUSYBOX, ['--list-full']);
  for (const applet of stdout.split('\n').filter((line) => line !== '' && line !== 'bin/busybox')) {
    const path = join(adminRoot, applet);
    await mkdir(dirname(path), { recursive: true });
    await symlink(relative(dirname(path), join(adminRoot, 'bin', 'busybox')), path).catch(
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      },
    );
  }
  const path = [
    ...options.extraPath,
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
  const archives = await Promise.all([
    ociArchive(
      { rootfs: pauseRoot, names: [options.pauseImage], entrypoint: ['/pause'], env: [] },
      join(dir, 'pause'),
      join(dir, 'pause.tar'),
    ),
    ociArchive(
      {
        rootfs: adminRoot,
        names: options.adminImages,
        entrypoint: ['/bin/sh'],
        env: [`PATH=${path.join(':')}`],
      },
      join(dir, 'admin'),
      join(dir, 'admin.tar'),
    ),
  ]);
  await Promise.all([
    rm(join(dir, 'pause'), { recursive: true }),
    rm(join(dir, 'admin'), { recursive: true }),
  ]);
  return archives;
}
