/**
 * `uploadOciImage`: an OCK boot image into Oracle Cloud, as `ocne image upload --type oci` does,
 * without holding it in memory. The archive (`image-archive.ts`) is cut into parts while it is
 * being made and the parts go to Object Storage as one multipart upload, several at a time; then
 * CreateImage imports the object and the work request is followed to its end.
 *
 * Memory stays bounded by (parallel parts + 1) × part size. A failed run keeps its multipart
 * upload: the next run of the same image to the same object finds it, compares each part it makes
 * with the stored part (size and MD5) and sends only what is missing or different.
 */
import { createHash, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  type EventSink,
  OcneError,
  type Operation,
  type OperationOptions,
  runStep,
  startOperation,
} from '@ocne/core';
import type { models as objectStorage } from 'oci-objectstorage';
import {
  type ImageFile,
  imageArchive,
  imageMetadata,
  inspectImage,
  type OciImageArchitecture,
} from './image-archive.js';
import { listAll, resolveCompartment } from './lookup.js';
import { pollUntilSettled } from './poll.js';
import { type OciCloudOptions, type OciSession, openOciSession } from './session.js';

/** Options of {@link uploadOciImage}. */
export interface UploadOciImageOptions extends OciCloudOptions, OperationOptions {
  /** The qcow2 image (`~/.ocne/images/boot.qcow2-<version>-<arch>.oci` from `ocne image create`). */
  readonly file: string;
  /** A compartment OCID or path (`parent/child`). */
  readonly compartment: string;
  /** The image's architecture (the `ocne/architecture` tag and the metadata's shapes). */
  readonly architecture: OciImageArchitecture;
  /** The bucket (default `ocne-images`); it must exist. */
  readonly bucket?: string;
  /** The image's display name (default `ock`). */
  readonly imageName?: string;
  /** The Kubernetes version tag (default `1.33`). */
  readonly kubernetesVersion?: string;
  /** Bytes per part (default 32 MiB; OCI allows 10 000 parts). */
  readonly partSize?: number;
  /** Parts sent at the same time (default 4). */
  readonly parallelUploads?: number;
  /**
   * Between two reads of the import's work request (default: 1 s, doubling up to upstream's 10 s,
   * so that a small import is seen to end soon).
   */
  readonly pollIntervalMs?: number;
  /** The longest wait for the import (default 60 minutes). */
  readonly importTimeoutMs?: number;
}

/** What {@link uploadOciImage} made. */
export interface UploadOciImageResult {
  /** The new image's OCID. */
  readonly imageId: string;
  readonly workRequestId: string;
  readonly compartmentId: string;
  readonly namespace: string;
  readonly bucket: string;
  /** `ocne_<file name>`, as upstream names it. */
  readonly objectName: string;
  /** The archive's size in bytes. */
  readonly objectSize: number;
  /** Parts in all, and those found already stored by an earlier run. */
  readonly parts: number;
  readonly resumedParts: number;
  /** True when Oracle Cloud has a single region (a Private Cloud Appliance). */
  readonly pca: boolean;
}

interface StoredPart {
  readonly size: number;
  readonly md5: string;
  readonly etag: string;
}

/** A bounded pool: at most `size` tasks run; `run` waits for a free slot. */
class Pool {
  readonly #size: number;
  readonly #running = new Set<Promise<void>>();
  #failure: unknown;
  #failed = false;

  constructor(size: number) {
    this.#size = size;
  }

  async run(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#size) await Promise.race(this.#running);
    this.#check();
    const promise: Promise<void> = task().then(
      () => {
        this.#running.delete(promise);
      },
      (error: unknown) => {
        this.#running.delete(promise);
        if (!this.#failed) {
          this.#failed = true;
          this.#failure = error;
        }
      },
    );
    this.#running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    this.#check();
  }

  #check(): void {
    if (this.#failed) throw this.#failure;
  }
}

/** The parts of an earlier, unfinished upload of the same object (newest upload), if any. */
async function findEarlierUpload(
  session: OciSession,
  target: { namespaceName: string; bucketName: string; objectName: string },
  signal: AbortSignal,
): Promise<{ uploadId: string; parts: Map<number, StoredPart> } | undefined> {
  const { objectStorage: client } = session.clients;
  const uploads = await listAll<objectStorage.MultipartUpload>(
    session,
    'ListMultipartUploads',
    (page) => client.listMultipartUploads({ ...target, ...(page ? { page } : {}) }),
    signal,
  );
  const earlier = uploads
    .filter((u) => u.object === target.objectName)
    .sort((a, b) => new Date(b.timeCreated).getTime() - new Date(a.timeCreated).getTime())[0];
  if (earlier === undefined) return undefined;
  const parts = await listAll<objectStorage.MultipartUploadPartSummary>(
    session,
    'ListMultipartUploadParts',
    (page) =>
      client.listMultipartUploadParts({ ...target, uploadId: earlier.uploadId, ...(page ? { page } : {}) }),
    signal,
  );
  return {
    uploadId: earlier.uploadId,
    parts: new Map(parts.map((p) => [p.partNumber, { size: p.size, md5: p.md5, etag: p.etag }])),
  };
}

/**
 * Cuts a byte stream into parts of `size` bytes (the last one shorter). The bytes of the first
 * part are also written to `firstPart` as they arrive (it ends with that part).
 */
async function* cut(
  stream: AsyncIterable<Buffer>,
  size: number,
  firstPart?: PassThrough,
): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(size);
  let filled = 0;
  let first = firstPart;
  for await (const chunk of stream) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(size - filled, chunk.length - offset);
      chunk.copy(part, filled, offset, offset + take);
      // A view is enough: this region of the part is never written again.
      first?.write(part.subarray(filled, filled + take));
      filled += take;
      offset += take;
      if (filled === size) {
        first?.end();
        first = undefined;
        yield part;
        part = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}

/** A promise and its resolvers. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

interface UploadContext {
  readonly session: OciSession;
  readonly target: { namespaceName: string; bucketName: string; objectName: string };
  readonly image: ImageFile;
  readonly metadata: string;
  readonly partSize: number;
  readonly parallel: number;
  readonly signal: AbortSignal;
  readonly emit: EventSink;
  readonly step: string;
}

/** Streams the archive to Object Storage as a multipart upload; returns its size and part counts. */
async function uploadArchive(
  context: UploadContext,
): Promise<{ size: number; parts: number; resumed: number }> {
  const { session, target, signal, emit, step, image } = context;
  const client = session.clients.objectStorage;
  const earlier = await findEarlierUpload(session, target, signal);
  const uploadId =
    earlier?.uploadId ??
    (
      await session.call(
        'CreateMultipartUpload',
        () =>
          client.createMultipartUpload({
            namespaceName: target.namespaceName,
            bucketName: target.bucketName,
            createMultipartUploadDetails: { object: target.objectName },
          }),
        { signal },
      )
    ).multipartUpload.uploadId;
  if (earlier)
    emit({
      type: 'log',
      level: 'info',
      message: `Resuming the upload of ${target.objectName} (${earlier.parts.size} part(s) stored)`,
    });
  let imageRead = 0;
  const archive = imageArchive(image, context.metadata, {
    onRead: (bytes) => {
      imageRead = bytes;
    },
  });
  const pool = new Pool(context.parallel);
  const etags = new Map<number, string>();
  const sendPart = (partNumber: number, body: Readable, length: number) =>
    client.uploadPart({
      ...target,
      uploadId,
      uploadPartNum: partNumber,
      contentLength: length,
      uploadPartBody: body,
    });
  let size = 0;
  let resumed = 0;
  let number = 0;
  // Progress in bytes of the image: a part counts once it and every part before it are stored.
  const readAtPart = new Map<number, number>();
  let contiguous = 0;
  const advance = () => {
    let moved = false;
    while (etags.has(contiguous + 1)) {
      contiguous += 1;
      moved = true;
    }
    if (moved)
      emit({
        type: 'progress',
        step,
        transferredBytes: readAtPart.get(contiguous) ?? 0,
        totalBytes: image.size,
      });
  };
  // A fresh upload sends its first part while the archive is still making it: otherwise nothing
  // moves until a whole part is compressed (seconds on a busy machine). Its length is taken to be
  // a whole part; an archive shorter than that abandons the stream and sends the part it made.
  const firstPart = earlier === undefined ? new PassThrough() : undefined;
  const firstMade = deferred<Buffer>();
  if (firstPart !== undefined) {
    let streamed = false;
    await pool.run(async () => {
      const response = await session.call(
        'UploadPart',
        async () => {
          if (!streamed) {
            streamed = true;
            try {
              return await sendPart(1, firstPart, context.partSize);
            } catch (error) {
              const made = await firstMade.promise;
              if (made.length === context.partSize) throw error; // a real failure: retried from the part
            }
          }
          const made = await firstMade.promise;
          return sendPart(1, Readable.from([made], { objectMode: false }), made.length);
        },
        { signal },
      );
      etags.set(1, response.eTag);
      advance();
    });
  }
  try {
    for await (const part of cut(archive as AsyncIterable<Buffer>, context.partSize, firstPart)) {
      signal.throwIfAborted();
      number += 1;
      const partNumber = number;
      size += part.length;
      readAtPart.set(partNumber, imageRead);
      if (partNumber === 1 && firstPart !== undefined) {
        // Short: the stream promised a whole part; end it broken so its request fails at once.
        if (part.length < context.partSize)
          firstPart.destroy(new Error('the archive ended within its first part'));
        firstMade.resolve(part);
        continue;
      }
      const md5 = createHash('md5').update(part).digest('base64');
      const stored = earlier?.parts.get(partNumber);
      if (stored !== undefined && stored.size === part.length && stored.md5 === md5) {
        resumed += 1;
        etags.set(partNumber, stored.etag);
        advance();
        continue;
      }
      await pool.run(async () => {
        const response = await session.call(
          'UploadPart',
          // A stream, made anew for each attempt: the SDK walks every index of a Buffer body
          // (Object.keys) before sending it, which costs seconds per part.
          () => sendPart(partNumber, Readable.from([part], { objectMode: false }), part.length),
          { signal },
        );
        etags.set(partNumber, response.eTag);
        advance();
      });
    }
    await pool.drain();
  } catch (error) {
    archive.destroy();
    firstPart?.destroy();
    firstMade.reject(error);
    await pool.drain().catch(() => {});
    if (error instanceof OcneError) {
      emit({
        type: 'log',
        level: 'warn',
        message: `The upload of ${target.objectName} stopped; the ${etags.size} part(s) stored are kept: run it again to resume`,
      });
      throw error;
    }
    if (signal.aborted) throw error;
    throw new OcneError(
      'OCNE_OCI_IMAGE_FILE_INVALID',
      `cannot read ${image.path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  await session.call(
    'CommitMultipartUpload',
    () =>
      client.commitMultipartUpload({
        ...target,
        uploadId,
        commitMultipartUploadDetails: {
          partsToCommit: [...etags.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([partNum, etag]) => ({ partNum, etag })),
        },
      }),
    { signal },
  );
  return { size, parts: number, resumed };
}

/** How long an import may take by default: an hour. */
export const IMPORT_TIMEOUT_MS: number = 60 * 60_000;

/** Polls an import's work request to its end, reporting its percentage. */
export async function waitForImport(
  session: OciSession,
  workRequestId: string,
  options: {
    signal: AbortSignal;
    emit: EventSink;
    step: string;
    pollIntervalMs: number | undefined;
    timeoutMs: number;
  },
): Promise<void> {
  const { signal, emit, step } = options;
  let last = -1;
  const percentOf = (workRequest: { percentComplete?: number }) =>
    Math.round(workRequest.percentComplete ?? 0);
  const workRequest = await pollUntilSettled(
    async () => {
      const { workRequest } = await session.call(
        'GetWorkRequest',
        () => session.clients.workRequests.getWorkRequest({ workRequestId }),
        { signal },
      );
      const percent = percentOf(workRequest);
      if (percent !== last) {
        emit({ type: 'progress', step, transferredBytes: percent, totalBytes: 100 });
        last = percent;
      }
      return workRequest;
    },
    (workRequest) => ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(workRequest.status),
    {
      signal,
      intervalMs: options.pollIntervalMs,
      timeoutMs: options.timeoutMs,
      timedOut: (workRequest) =>
        new OcneError(
          'OCNE_OCI_TIMEOUT',
          `the image import ${workRequestId} did not finish in ${Math.round(options.timeoutMs / 1000)} s (it is ${workRequest.status}, ${percentOf(workRequest)}%); it may still finish: look at the work request in the console`,
        ),
    },
  );
  if (workRequest.status === 'SUCCEEDED') return;
  const errors = await listAll(
    session,
    'ListWorkRequestErrors',
    (page) =>
      session.clients.workRequests.listWorkRequestErrors({ workRequestId, ...(page ? { page } : {}) }),
    signal,
  ).catch(() => []);
  const detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  throw new OcneError(
    'OCNE_OCI_IMPORT_FAILED',
    `the image import ${workRequestId} ended ${workRequest.status}${detail ? `: ${detail}` : ''}. ` +
      'Check that the object is an image archive made by ocne, then upload it again',
  );
}

/**
 * Uploads an OCK image to Object Storage and imports it as a custom image, as
 * `ocne image upload --type oci` does. Events: the upload's byte progress, the import's percentage, a log line with the
 * image OCID. The capability schema and arm64 shapes are a separate step,
 * {@link ensureOciImageDetails}, as upstream runs them only for `cluster start`.
 */
export function uploadOciImage(options: UploadOciImageOptions): Operation<UploadOciImageResult> {
  return startOperation(async ({ signal, emit }) => {
    const image = await inspectImage(options.file);
    const session = await openOciSession(options);
    try {
      const bucket = options.bucket ?? 'ocne-images';
      const compartmentId = await resolveCompartment(session, options.compartment, signal);
      const regions = await session.call('ListRegions', () => session.clients.identity.listRegions({}), {
        signal,
      });
      const pca = regions.items.length === 1;
      const { value: namespace } = await session.call(
        'GetNamespace',
        () => session.clients.objectStorage.getNamespace({}),
        { signal },
      );
      const objectName = `ocne_${basename(options.file)}`;
      const target = { namespaceName: namespace, bucketName: bucket, objectName };
      const uploadStep = `Uploading ${objectName} of size ${image.size} bytes to object storage`;
      const uploaded = await runStep(emit, uploadStep, () =>
        uploadArchive({
          session,
          target,
          image,
          metadata: imageMetadata(options.architecture, pca),
          partSize: options.partSize ?? 32 * 2 ** 20,
          parallel: Math.max(1, options.parallelUploads ?? 4),
          signal,
          emit,
          step: uploadStep,
        }),
      );
      const retryToken = randomUUID();
      const created = await session.call(
        'CreateImage',
        () =>
          session.clients.compute.createImage({
            opcRetryToken: retryToken,
            createImageDetails: {
              compartmentId,
              displayName: options.imageName ?? 'ock',
              freeformTags: {
                'ocne/architecture': options.architecture,
                'ocne/kubernetes': options.kubernetesVersion ?? '1.33',
              },
              // The TypeScript SDK does not add the discriminator itself.
              imageSourceDetails: {
                sourceType: 'objectStorageTuple',
                namespaceName: namespace,
                bucketName: bucket,
                objectName,
                operatingSystem: 'Oracle Linux',
                operatingSystemVersion: '8',
              } as never,
            },
          }),
        { signal },
      );
      const importStep = 'Importing compute image';
      await runStep(emit, importStep, () =>
        waitForImport(session, created.opcWorkRequestId, {
          signal,
          emit,
          step: importStep,
          pollIntervalMs: options.pollIntervalMs,
          timeoutMs: options.importTimeoutMs ?? IMPORT_TIMEOUT_MS,
        }),
      );
      emit({ type: 'log', level: 'info', message: `Image OCID is ${created.image.id}` });
      return {
        imageId: created.image.id,
        workRequestId: created.opcWorkRequestId,
        compartmentId,
        namespace,
        bucket,
        objectName,
        objectSize: uploaded.size,
        parts: uploaded.parts,
        resumedParts: uploaded.resumed,
        pca,
      };
    } finally {
      session.close();
    }
  }, options);
}
