/**
 * Object Storage of the OCI API server: buckets, objects and multipart uploads, with every byte
 * on disk (an upload is streamed through its MD5 into a file, never buffered), as OCI answers
 * PutObject, UploadPart and CommitMultipartUpload (ETags, `opc-content-md5`, `opc-multipart-md5`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './model.js';

/** A stored object. */
export interface StoredObject {
  readonly name: string;
  readonly file: string;
  readonly size: number;
  /** base64 MD5 (for a multipart object: `base64(md5(part md5s))-N`). */
  readonly md5: string;
  readonly etag: string;
  readonly timeModified: string;
}

/** A bucket. */
export interface Bucket {
  readonly name: string;
  readonly compartmentId: string;
  readonly namespace: string;
  readonly etag: string;
  readonly timeCreated: string;
  readonly objects: Map<string, StoredObject>;
}

/** A stored part of a multipart upload. */
export interface StoredPart {
  readonly partNumber: number;
  readonly file: string;
  readonly size: number;
  readonly md5: string;
  readonly etag: string;
}

/** A multipart upload in progress. */
export interface MultipartUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly object: string;
  readonly timeCreated: string;
  readonly parts: Map<number, StoredPart>;
}

/** Writes a byte stream to `file` through MD5; returns its size and base64 MD5. */
async function store(chunks: AsyncIterable<Buffer>, file: string): Promise<{ size: number; md5: Buffer }> {
  const hash = createHash('md5');
  let size = 0;
  const temp = `${file}.${randomUUID()}.partial`;
  try {
    await pipeline(async function* () {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }, createWriteStream(temp));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { size, md5: hash.digest() };
}

/** The Object Storage of one namespace. */
export class ObjectStore {
  readonly buckets: Map<string, Bucket> = new Map();
  readonly uploads: Map<string, MultipartUpload> = new Map();
  #seq = 0;

  readonly namespace: string;
  readonly dir: string;
  readonly now: () => string;

  constructor(namespace: string, dir: string, now: () => string) {
    this.namespace = namespace;
    this.dir = dir;
    this.now = now;
  }

  createBucket(name: string, compartmentId: string): Bucket {
    if (this.buckets.has(name))
      throw new ApiError(409, 'BucketAlreadyExists', `Bucket ${name} already exists`);
    const bucket: Bucket = {
      name,
      compartmentId,
      namespace: this.namespace,
      etag: randomUUID(),
      timeCreated: this.now(),
      objects: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  checkNamespace(namespace: string): void {
    if (namespace !== this.namespace) {
      throw new ApiError(
        404,
        'NamespaceNotFound',
        `You do not have authorization to perform this request, or the requested resource could not be found: namespace ${namespace}`,
      );
    }
  }

  bucket(namespace: string, name: string): Bucket {
    this.checkNamespace(namespace);
    const bucket = this.buckets.get(name);
    if (bucket === undefined) {
      throw new ApiError(
        404,
        'BucketNotFound',
        `Either the bucket named '${name}' does not exist in the namespace '${namespace}' or you are not authorized to access it`,
      );
    }
    return bucket;
  }

  object(namespace: string, bucketName: string, name: string): StoredObject {
    const object = this.bucket(namespace, bucketName).objects.get(name);
    if (object === undefined) {
      throw new ApiError(
        404,
        'ObjectNotFound',
        `The object '${name}' was not found in the bucket '${bucketName}'`,
      );
    }
    return object;
  }

  #file(kind: string): string {
    this.#seq += 1;
    return join(this.dir, `${kind}-${this.#seq}`);
  }

  /** Stores a body in a new file; a body shorter or longer than its Content-Length is a 400. */
  async #storeExactly(
    kind: 'object' | 'part',
    chunks: AsyncIterable<Buffer>,
    expectedLength: number,
  ): Promise<{ file: string; size: number; md5: Buffer }> {
    await mkdir(this.dir, { recursive: true });
    const file = this.#file(kind);
    const { size, md5 } = await store(chunks, file);
    if (size !== expectedLength) {
      await rm(file, { force: true });
      throw new ApiError(
        400,
        'InvalidParameter',
        `the ${kind} has ${size} bytes, Content-Length said ${expectedLength}`,
      );
    }
    return { file, size, md5 };
  }

  async putObject(
    namespace: string,
    bucketName: string,
    name: string,
    chunks: AsyncIterable<Buffer>,
    expectedLength: number,
  ): Promise<StoredObject> {
    const bucket = this.bucket(namespace, bucketName);
    const { file, size, md5 } = await this.#storeExactly('object', chunks, expectedLength);
    const previous = bucket.objects.get(name);
    const object: StoredObject = {
      name,
      file,
      size,
      md5: md5.toString('base64'),
      etag: randomUUID(),
      timeModified: this.now(),
    };
    bucket.objects.set(name, object);
    if (previous) await rm(previous.file, { force: true });
    return object;
  }

  createUpload(namespace: string, bucketName: string, object: string): MultipartUpload {
    this.bucket(namespace, bucketName);
    const upload: MultipartUpload = {
      uploadId: randomUUID(),
      bucket: bucketName,
      object,
      timeCreated: this.now(),
      parts: new Map(),
    };
    this.uploads.set(upload.uploadId, upload);
    return upload;
  }

  upload(namespace: string, bucketName: string, object: string, uploadId: string | null): MultipartUpload {
    this.bucket(namespace, bucketName);
    const upload = uploadId === null ? undefined : this.uploads.get(uploadId);
    if (upload === undefined || upload.bucket !== bucketName || upload.object !== object) {
      throw new ApiError(404, 'NoSuchUpload', `No multipart upload ${uploadId} for object ${object}`);
    }
    return upload;
  }

  async uploadPart(
    upload: MultipartUpload,
    partNumber: number,
    chunks: AsyncIterable<Buffer>,
    expectedLength: number,
  ): Promise<StoredPart> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new ApiError(400, 'InvalidParameter', 'uploadPartNum must be 1 to 10000');
    }
    const { file, size, md5 } = await this.#storeExactly('part', chunks, expectedLength);
    const previous = upload.parts.get(partNumber);
    const part: StoredPart = { partNumber, file, size, md5: md5.toString('base64'), etag: randomUUID() };
    upload.parts.set(partNumber, part);
    if (previous) await rm(previous.file, { force: true });
    return part;
  }

  async commit(
    upload: MultipartUpload,
    partsToCommit: readonly { partNum: number; etag: string }[],
  ): Promise<StoredObject> {
    const sorted = [...partsToCommit].sort((a, b) => a.partNum - b.partNum);
    if (sorted.length === 0) throw new ApiError(400, 'InvalidParameter', 'partsToCommit is empty');
    const parts = sorted.map(({ partNum, etag }) => {
      const part = upload.parts.get(partNum);
      if (part === undefined || part.etag !== etag) {
        throw new ApiError(400, 'InvalidParameter', `part ${partNum} with etag ${etag} was not uploaded`);
      }
      return part;
    });
    const file = this.#file('object');
    await pipeline(async function* () {
      for (const part of parts) yield* createReadStream(part.file);
    }, createWriteStream(file));
    const md5 = createHash('md5');
    for (const part of parts) md5.update(Buffer.from(part.md5, 'base64'));
    const bucket = this.buckets.get(upload.bucket);
    if (bucket === undefined) throw new ApiError(404, 'BucketNotFound', `bucket ${upload.bucket} is gone`);
    const previous = bucket.objects.get(upload.object);
    const object: StoredObject = {
      name: upload.object,
      file,
      size: parts.reduce((n, p) => n + p.size, 0),
      md5: `${md5.digest('base64')}-${parts.length}`,
      etag: randomUUID(),
      timeModified: this.now(),
    };
    bucket.objects.set(upload.object, object);
    if (previous) await rm(previous.file, { force: true });
    await this.abort(upload);
    return object;
  }

  async abort(upload: MultipartUpload): Promise<void> {
    this.uploads.delete(upload.uploadId);
    for (const part of upload.parts.values()) await rm(part.file, { force: true });
  }
}
