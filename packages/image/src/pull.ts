/**
 * `pullImage`: an image from a registry into upstream's cache, `~/.ocne/images/<image with / →
 * _>` (upstream names the folder after the image as the configuration writes it, transport
 * included: `docker:__container-registry.oracle.com_olcne_ock:1.33`), in containers' `dir:`
 * layout as `skopeo copy … dir:` writes it: `version`, `manifest.json` (the image manifest of the
 * chosen architecture) and every blob in a file named by its hex digest.
 *
 * A blob already in the folder is kept when its digest matches; `manifest.json` is written last,
 * so a folder with it and with every blob verified is complete. An interrupted pull continues:
 * blobs that were finished stay, and the one that was not resumes with a `Range` request.
 * Upstream re-pulls only when a layer file is missing and never checks a digest.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventSink, isOcneError, OcneError, writeFileAtomic } from '@ocne/core';
import type { RegistryCredentials } from './registry/auth.js';
import { downloadBlob, fileDigest, throwIfCancelled } from './registry/blob-file.js';
import {
  type Descriptor,
  type ImageManifest,
  openRegistry,
  type RegistryTlsOptions,
  sha256,
} from './registry/client.js';
import { formatRegistryReference, parseRegistryReference } from './registry/reference.js';

/** The `version` file of containers' `dir:` transport. */
export const DIR_TRANSPORT_VERSION = 'Directory Transport Version: 1.1\n';

/** Options of {@link pullImage}. */
export interface PullImageOptions {
  /** `docker://registry/repository:tag` (or `@sha256:…`); `docker://` may be left out. */
  reference: string;
  /** `amd64` or `arm64` (also `x86_64`, `aarch64`): the entry chosen from a multi-architecture image. */
  arch: string;
  /** The folder holding `.ocne/`. @defaultValue the user's home (`HOME`) */
  home?: string;
  /** Environment for the auth files (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`). @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Credentials instead of the auth files'. */
  auth?: RegistryCredentials;
  tls?: RegistryTlsOptions;
  signal?: AbortSignal;
  /** Receives `progress` events (bytes of the blobs downloaded) and `log` events. */
  emit?: EventSink;
}

/** One layer of a pulled image. */
export interface PulledLayer {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** The layer's file in the cache folder. */
  readonly path: string;
}

/** What {@link pullImage} returns. */
export interface PullResult {
  /** The cache folder (a containers `dir:` layout). */
  readonly directory: string;
  readonly manifest: ImageManifest;
  readonly manifestDigest: string;
  /** The image configuration (JSON). */
  readonly config: Record<string, unknown>;
  readonly layers: readonly PulledLayer[];
  /** Bytes fetched from the registry by this call (0 when the cache was complete). */
  readonly fetchedBytes: number;
}

const ARCHES: Record<string, string> = { amd64: 'amd64', x86_64: 'amd64', arm64: 'arm64', aarch64: 'arm64' };

/** The cache folder of an image, as upstream names it. */
export function imageCacheDirectory(home: string, reference: string): string {
  const name = reference.startsWith('docker://') ? reference : `docker://${reference}`;
  return join(home, '.ocne', 'images', name.replaceAll('/', '_'));
}

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
// An image config is JSON of a few KiB; it is read whole, so a larger one is refused before download.
const CONFIG_LIMIT = 16 * 1024 * 1024;

/**
 * The image manifest, with every descriptor checked: a digest becomes a file name in the cache, so
 * anything but `sha256:<hex>` could name a file outside it; sizes must be byte counts.
 */
function readManifest(bytes: Buffer, where: string): ImageManifest {
  let json: ImageManifest;
  try {
    json = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  } catch (error) {
    throw new OcneError('OCNE_IMAGE_UNSUPPORTED', `${where}: the manifest is not JSON`, { cause: error });
  }
  if (typeof json?.config?.digest !== 'string' || !Array.isArray(json.layers)) {
    throw new OcneError('OCNE_IMAGE_UNSUPPORTED', `${where} is not an image manifest (no config and layers)`);
  }
  for (const d of [json.config, ...json.layers]) {
    if (
      typeof d !== 'object' ||
      d === null ||
      typeof d.digest !== 'string' ||
      !SHA256_DIGEST.test(d.digest) ||
      !Number.isSafeInteger(d.size) ||
      d.size < 0
    ) {
      throw new OcneError(
        'OCNE_IMAGE_UNSUPPORTED',
        `${where}: a descriptor has digest ${JSON.stringify(String(d?.digest)).slice(0, 80)} and size ${String(d?.size).slice(0, 20)}; expected sha256:<64 hex digits> and a byte count`,
      );
    }
  }
  if (json.config.size > CONFIG_LIMIT) {
    throw new OcneError(
      'OCNE_IMAGE_UNSUPPORTED',
      `${where}: the image config is ${json.config.size} bytes, more than a config can be`,
    );
  }
  return json;
}

/** The blob's file name in a `dir:` layout: the hex digest (digests are checked by readManifest). */
const blobFile = (digest: string): string => digest.slice('sha256:'.length);

/** Whether every blob of `manifest` is in `dir` with its digest. */
async function complete(dir: string, manifest: ImageManifest, signal?: AbortSignal): Promise<boolean> {
  for (const d of [manifest.config, ...manifest.layers]) {
    const found = await fileDigest(join(dir, blobFile(d.digest)), signal);
    if (found?.digest !== d.digest || found.size !== d.size) return false;
  }
  return true;
}

/**
 * Pulls an image for one architecture into the cache, or reuses the cached copy when it is
 * complete and the registry's manifest is the same. When the registry cannot be reached, a
 * complete cached copy is used with a warning.
 */
export async function pullImage(options: PullImageOptions): Promise<PullResult> {
  const { signal, emit } = options;
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME;
  if (!home) throw new OcneError('OCNE_USAGE', 'pullImage: no home folder (pass `home` or set HOME)');
  const arch = ARCHES[options.arch];
  if (!arch)
    throw new OcneError('OCNE_USAGE', `unsupported architecture "${options.arch}" (expected amd64 or arm64)`);
  const ref = parseRegistryReference(options.reference);
  const name = formatRegistryReference(ref);
  const dir = imageCacheDirectory(home, options.reference);
  const client = await openRegistry(ref.registry, {
    env,
    home,
    ...(options.auth ? { credentials: options.auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  try {
    let manifestBytes: Buffer;
    let manifestDigest: string;
    try {
      const fetched = await client.getImageManifest(
        ref.repository,
        ref.digest ?? ref.tag ?? 'latest',
        arch,
        signal,
      );
      manifestBytes = fetched.bytes;
      manifestDigest = fetched.digest;
    } catch (error) {
      throwIfCancelled(signal);
      if (!(isOcneError(error) && error.code === 'OCNE_REGISTRY_UNREACHABLE')) throw error;
      const cached = await readFile(join(dir, 'manifest.json')).catch(() => undefined);
      if (!cached || !(await complete(dir, readManifest(cached, dir), signal))) throw error;
      emit?.({
        type: 'warning',
        code: 'OCNE_REGISTRY_UNREACHABLE',
        message: `${error.message}; using the cached copy in ${dir}`,
      });
      manifestBytes = cached;
      manifestDigest = sha256(cached);
    }
    const manifest = readManifest(manifestBytes, name);
    const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new OcneError('OCNE_IMAGE_CACHE_FAILED', `cannot create ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }

    const cachedManifest = await readFile(join(dir, 'manifest.json')).catch(() => undefined);
    const reuse = cachedManifest?.equals(manifestBytes) === true && (await complete(dir, manifest, signal));
    let fetchedBytes = 0;
    if (!reuse) {
      emit?.({ type: 'log', level: 'info', message: `Downloading image ${options.reference}` });
      // Blobs already there with the right digest are kept (a resumed pull, or a shared config).
      const missing: Descriptor[] = [];
      for (const d of blobs) {
        const found = await fileDigest(join(dir, blobFile(d.digest)), signal);
        if (found?.digest !== d.digest) missing.push(d);
      }
      const total = missing.reduce((sum, d) => sum + d.size, 0);
      const step = `Downloading image ${name}`;
      let before = 0;
      let reported = -1;
      const report = (bytes: number, force = false) => {
        // At most one event per MiB: a multi-GB layer must not flood the event log.
        if (!force && bytes - reported < 1024 * 1024) return;
        reported = bytes;
        emit?.({ type: 'progress', step, transferredBytes: bytes, totalBytes: total });
      };
      report(0, true);
      for (const d of missing) {
        fetchedBytes += await downloadBlob({
          client,
          repository: ref.repository,
          digest: d.digest,
          size: d.size,
          path: join(dir, blobFile(d.digest)),
          onBytes: (bytes) => report(before + bytes),
          signal,
        });
        before += d.size;
      }
      report(total, true);
      try {
        await writeFile(join(dir, 'version'), DIR_TRANSPORT_VERSION);
        await writeFileAtomic(join(dir, 'manifest.json'), manifestBytes, { mode: 0o644 });
      } catch (error) {
        throw new OcneError('OCNE_IMAGE_CACHE_FAILED', `cannot write ${dir}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    const configBytes = await readFile(join(dir, blobFile(manifest.config.digest)));
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new OcneError('OCNE_IMAGE_UNSUPPORTED', `${name}: the image config is not JSON`, {
        cause: error,
      });
    }
    return {
      directory: dir,
      manifest,
      manifestDigest,
      config,
      layers: manifest.layers.map((l) => ({
        digest: l.digest,
        size: l.size,
        mediaType: l.mediaType,
        path: join(dir, blobFile(l.digest)),
      })),
      fetchedBytes,
    };
  } finally {
    await client.close();
  }
}
