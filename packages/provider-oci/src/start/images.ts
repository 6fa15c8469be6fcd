/**
 * The default {@link ImagesPort} of `cluster start` (upstream's `ensureImages`): for each
 * architecture the shapes use, the newest OCK image of the compartment; when there is none, the
 * boot image is made with `@ocne/image`'s `createImage` (type `oci`, its OCK image pulled from the
 * configured `bootVolumeContainerImage`), uploaded and imported with {@link uploadOciImage}, then
 * given its capability schema and shapes with {@link ensureOciImageDetails}. Missing
 * architectures are made at the same time (upstream makes them one after the other). A start that
 * resumes one that was stopped waits for an image still importing instead of making another, and
 * gives found images the capability schema and shapes they may lack (both steps are idempotent).
 */
import { copyFile, link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OCK_IMAGE_NAME } from '@ocne/capi/templates';
import type { Architecture } from '@ocne/config';
import { type EventInput, type EventSink, OcneError, type OcneEvent, runStep } from '@ocne/core';
import type { CreateBootImageOptions, PullRequest } from '@ocne/image';
import { ensureOciImageDetails } from '../cloud/ensure.js';
import { findLatestImage } from '../cloud/lookup.js';
import { pollUntilSettled } from '../cloud/poll.js';
import { type OciCloudOptions, type OciSession, openOciSession } from '../cloud/session.js';
import { IMPORT_TIMEOUT_MS, uploadOciImage } from '../cloud/upload.js';
import type { EnsureImagesRequest, ImagesPort } from './ports.js';
import { allOrNothing } from './together.js';

/** Options of {@link cloudImages}. */
export interface CloudImagesOptions {
  /** How to reach Oracle Cloud (the profile is the cluster's `providers.oci.profile`). */
  cloud?: OciCloudOptions;
  /** How the boot image is made (the disk editor, kernel arguments). */
  create?: Pick<CreateBootImageOptions, 'editor' | 'kernelArguments' | 'ignitionProvider'>;
  /** Bytes per uploaded part. @defaultValue `uploadOciImage`'s */
  partSize?: number;
  /** Parts sent at once, per architecture. @defaultValue `uploadOciImage`'s */
  parallelUploads?: number;
  /** Between two reads of an import's work request. @defaultValue `uploadOciImage`'s */
  pollIntervalMs?: number;
}

/** Hands an operation's events on to the start's sink (its own `done` event stays with it). */
const relay =
  (emit: EventSink) =>
  (event: OcneEvent): void => {
    if (event.type === 'done') return;
    const { seq: _seq, timestamp: _timestamp, ...input } = event;
    emit(input as EventInput);
  };

/**
 * A `pull` for `createImage` that lets two architectures be made at once. The image cache keeps
 * one folder per reference (upstream's layout), holding the manifest of the architecture pulled
 * last; so pulls take turns, and each architecture extracts from a folder of its own, linked to
 * the cache's blobs under the turn.
 */
function turnTakingPull(
  home: string,
  env: Readonly<Record<string, string | undefined>>,
): { pull: (request: PullRequest) => Promise<{ directory: string }>; cleanup(): Promise<void> } {
  let turn: Promise<unknown> = Promise.resolve();
  const folders: string[] = [];
  const pull = async (request: PullRequest): Promise<{ directory: string }> => {
    const mine = turn.then(async () => {
      const { pullImage } = await import('@ocne/image');
      const pulled = await pullImage({ ...request, home, env });
      const tmp = join(home, '.ocne', 'tmp');
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      const folder = await mkdtemp(join(tmp, `pull-${request.arch}-`));
      folders.push(folder);
      await writeFile(join(folder, 'manifest.json'), await readFile(join(pulled.directory, 'manifest.json')));
      for (const layer of pulled.layers) {
        const name = layer.path.slice(pulled.directory.length + 1);
        // A hard link costs no space (the cache and the temporary folder are both in .ocne); a
        // copy when .ocne/tmp is a mount of its own.
        await link(layer.path, join(folder, name)).catch(async (error: unknown) => {
          if ((error as { code?: unknown }).code !== 'EXDEV') throw error;
          await copyFile(layer.path, join(folder, name));
        });
      }
      return { directory: folder };
    });
    turn = mine.catch(() => undefined);
    return mine;
  };
  return {
    pull,
    cleanup: async () => {
      await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
    },
  };
}

/** The states of an image a start can use: available, or on its way there. */
const USABLE_STATES: readonly string[] = ['AVAILABLE', 'IMPORTING', 'PROVISIONING'];

/** Waits until an image an earlier start began importing is AVAILABLE (or fails, typed). */
async function waitAvailable(
  session: OciSession,
  imageId: string,
  options: CloudImagesOptions,
  request: EnsureImagesRequest,
): Promise<void> {
  const step = `Waiting for the import of image ${imageId}`;
  const importing = (image: { lifecycleState?: string }) =>
    USABLE_STATES.includes(image.lifecycleState ?? '') && image.lifecycleState !== 'AVAILABLE';
  const image = await runStep(request.emit, step, () =>
    pollUntilSettled(
      async () =>
        (
          await session.call('GetImage', () => session.clients.compute.getImage({ imageId }), {
            signal: request.signal,
          })
        ).image,
      (image) => !importing(image),
      {
        signal: request.signal,
        intervalMs: options.pollIntervalMs,
        timeoutMs: IMPORT_TIMEOUT_MS,
        timedOut: (image) =>
          new OcneError(
            'OCNE_OCI_TIMEOUT',
            `image ${imageId}, whose import an earlier start began, is still ${image.lifecycleState} after ${IMPORT_TIMEOUT_MS / 60_000} minutes; it may still finish: look at it in the console, then start again`,
          ),
      },
    ),
  );
  if (image.lifecycleState !== 'AVAILABLE') {
    throw new OcneError(
      'OCNE_OCI_IMPORT_FAILED',
      `image ${imageId}, whose import an earlier start began, is ${image.lifecycleState}: delete it, then start again to import the image anew`,
    );
  }
}

/** One architecture's image made, uploaded, imported and fixed up; returns its OCID. */
async function makeImage(
  request: EnsureImagesRequest,
  architecture: Architecture,
  cloud: OciCloudOptions,
  options: CloudImagesOptions,
  pull: (request: PullRequest) => Promise<{ directory: string }>,
  signal: AbortSignal,
): Promise<string> {
  const onEvent = relay(request.emit);
  const { createImage } = await import('@ocne/image');
  const created = await createImage({
    ...options.create,
    type: 'oci',
    arch: architecture,
    kubernetesVersion: request.kubernetesVersion,
    bootVolumeContainerImage: request.bootVolumeContainerImage,
    home: request.home,
    pull,
    signal,
    onEvent,
  }).promise();
  const uploaded = await uploadOciImage({
    ...cloud,
    file: created.path,
    compartment: request.compartmentId,
    architecture,
    bucket: request.bucket,
    imageName: OCK_IMAGE_NAME,
    kubernetesVersion: request.kubernetesVersion,
    ...(options.partSize !== undefined ? { partSize: options.partSize } : {}),
    ...(options.parallelUploads !== undefined ? { parallelUploads: options.parallelUploads } : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    signal,
    onEvent,
  }).promise();
  request.emit({ type: 'log', level: 'info', message: `Image OCID is ${uploaded.imageId}` });
  await ensureOciImageDetails({
    ...cloud,
    imageId: uploaded.imageId,
    compartmentId: uploaded.compartmentId,
    architecture,
    signal,
    onEvent,
  }).promise();
  return uploaded.imageId;
}

/**
 * The images port that finds the OCK images in the compartment and makes the missing ones (see
 * the module comment). Nothing is loaded or read until a start asks for images.
 */
export function cloudImages(options: CloudImagesOptions = {}): ImagesPort {
  return {
    async ensureImages(request) {
      const cloud: OciCloudOptions = {
        env: request.env,
        home: request.home,
        ...options.cloud,
        profile: request.profile,
      };
      const session = await openOciSession(cloud);
      const found: Partial<Record<Architecture, string>> = {};
      try {
        for (const architecture of request.architectures) {
          // An image still importing is one an earlier start (aborted, or failed after CreateImage)
          // began: it is waited for, not made twice.
          const image = await findLatestImage(
            session,
            {
              name: OCK_IMAGE_NAME,
              kubernetesVersion: request.kubernetesVersion,
              architecture,
              compartmentId: request.compartmentId,
            },
            request.signal,
            USABLE_STATES,
          );
          if (image?.id === undefined) continue;
          if (image.lifecycleState !== 'AVAILABLE') await waitAvailable(session, image.id, options, request);
          // Harmless when done already, and what a start stopped between import and fix-ups lacks.
          await ensureOciImageDetails({
            ...cloud,
            imageId: image.id,
            compartmentId: request.compartmentId,
            architecture,
            signal: request.signal,
            onEvent: relay(request.emit),
          }).promise();
          found[architecture] = image.id;
        }
      } finally {
        session.close();
      }
      const missing = request.architectures.filter((a) => found[a] === undefined);
      if (missing.length === 0) return found;
      const { pull, cleanup } = turnTakingPull(request.home, request.env);
      try {
        const made = await allOrNothing(missing, request.signal, (architecture, signal) =>
          makeImage(request, architecture, cloud, options, pull, signal),
        );
        for (const [index, architecture] of missing.entries()) found[architecture] = made[index]!;
      } finally {
        await cleanup();
      }
      return found;
    },
  };
}
