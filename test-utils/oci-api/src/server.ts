/**
 * The OCI API server for tests: one `node:http` server on 127.0.0.1 serving the Identity,
 * Compute, Work Requests and Object Storage paths the real `oci-*` clients call (their paths do
 * not overlap, so one port serves all four through each client's endpoint override). Every
 * request's signature is checked against the registered users' public keys; fault rules act
 * before the handlers; every request is logged for assertions.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestPki } from '@ocne/test-registry';
import { createTestClock, type TestClock } from './clock.js';
import { defaultCode, type FaultRule, Faults } from './faults.js';
import { generateTestKey, type TestKey, writeOciConfigFile } from './keys.js';
import { ApiError, type Image, type ImportResult, OciModel, ocid } from './model.js';
import { verifyBody, verifySignature } from './signature.js';
import { ObjectStore } from './storage.js';
import { readTarGz } from './tarball.js';

/** Options of {@link startOciApiServer}. */
export interface OciApiServerOptions {
  /** Where objects and parts are stored (default: a temp folder removed by `close`). */
  readonly dir?: string;
  /** Page size of lists without `limit` (default 2, so that first-page-only code is caught). */
  readonly pageSize?: number;
  /** The Object Storage namespace (default `ocnetest`). */
  readonly namespace?: string;
  /** Region names ListRegions returns (one name means a Private Cloud Appliance). */
  readonly regions?: readonly string[];
  /** How long an import stays ACCEPTED (default 0). */
  readonly acceptDelayMs?: number;
  /** How long an import runs on the test clock (default 1000 ms). */
  readonly importDurationMs?: number;
  /** The largest accepted signature date skew (default 5 minutes, as OCI). */
  readonly maxSkewMs?: number;
  /** How many global capability schemas exist (default 1). */
  readonly globalSchemas?: number;
  /** Buckets made in the tenancy at start (default `ocne-images`). */
  readonly buckets?: readonly string[];
  /**
   * HTTPS with a certificate for 127.0.0.1 from a fresh test CA (`caPath`), as Oracle Cloud's
   * endpoints are reached (default: plain HTTP).
   */
  readonly tls?: boolean;
}

/** One logged request. */
export interface RequestLogEntry {
  readonly seq: number;
  /** When the request arrived (ms since the epoch, wall clock). */
  readonly startedAt: number;
  readonly operation: string;
  readonly method: string;
  readonly url: string;
  status: number;
  /** The body bytes the server read. */
  bytes: number;
  readonly requestId: string;
  readonly retryToken?: string;
  keyId?: string;
  signedHeaders?: readonly string[];
  bodySigned?: boolean;
  /** Why the signature was refused. */
  authFailure?: string;
  /** The fault rule's action that applied, if any. */
  fault?: string;
  durationMs: number;
}

/** Options of {@link OciApiServer.writeConfig}. */
export interface WriteConfigOptions {
  /** The profile name (default `DEFAULT`). */
  readonly profile?: string;
  /** Encrypts the key file with this passphrase. */
  readonly passphrase?: string;
  /** Writes a key the server does not know, under the right fingerprint (every request is a 401). */
  readonly wrongKey?: boolean;
  readonly region?: string;
}

/** A running server. */
export interface OciApiServer {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`): the endpoint of every client. */
  readonly url: string;
  /** With `tls`: the test CA's certificate file (PEM), which a client must trust. */
  readonly caPath: string | undefined;
  readonly port: number;
  readonly namespace: string;
  readonly tenancyId: string;
  readonly userId: string;
  /** The test user's key pair. */
  readonly key: TestKey;
  readonly clock: TestClock;
  readonly faults: Faults;
  readonly model: OciModel;
  readonly storage: ObjectStore;
  readonly log: RequestLogEntry[];
  /** Shifts the wall clock the signature dates are checked against. */
  signatureClockOffsetMs: number;
  /** Writes an OCI config file for the test user into `dir`; returns its path. */
  writeConfig(dir: string, options?: WriteConfigOptions): Promise<string>;
  /** The logged requests of an operation. */
  requests(operation: string): RequestLogEntry[];
  close(): Promise<void>;
}

interface Route {
  readonly operation: string;
  readonly method: string;
  readonly pattern: RegExp;
  /** The body is an object's bytes: not signed, streamed to the handler. */
  readonly rawBody?: boolean;
}

const ID = '([^/]+)';
const ROUTES: readonly Route[] = [
  { operation: 'ListCompartments', method: 'GET', pattern: /^\/20160918\/compartments$/ },
  { operation: 'GetCompartment', method: 'GET', pattern: new RegExp(`^/20160918/compartments/${ID}$`) },
  { operation: 'ListRegions', method: 'GET', pattern: /^\/20160918\/regions$/ },
  { operation: 'GetTenancy', method: 'GET', pattern: new RegExp(`^/20160918/tenancies/${ID}$`) },
  { operation: 'ListImages', method: 'GET', pattern: /^\/20160918\/images$/ },
  { operation: 'CreateImage', method: 'POST', pattern: /^\/20160918\/images$/ },
  { operation: 'GetImage', method: 'GET', pattern: new RegExp(`^/20160918/images/${ID}$`) },
  { operation: 'DeleteImage', method: 'DELETE', pattern: new RegExp(`^/20160918/images/${ID}$`) },
  {
    operation: 'ListImageShapeCompatibilityEntries',
    method: 'GET',
    pattern: new RegExp(`^/20160918/images/${ID}/shapes$`),
  },
  {
    operation: 'AddImageShapeCompatibilityEntry',
    method: 'PUT',
    pattern: new RegExp(`^/20160918/images/${ID}/shapes/${ID}$`),
  },
  {
    operation: 'RemoveImageShapeCompatibilityEntry',
    method: 'DELETE',
    pattern: new RegExp(`^/20160918/images/${ID}/shapes/${ID}$`),
  },
  {
    operation: 'ListComputeGlobalImageCapabilitySchemas',
    method: 'GET',
    pattern: /^\/20160918\/computeGlobalImageCapabilitySchemas$/,
  },
  {
    operation: 'CreateComputeImageCapabilitySchema',
    method: 'POST',
    pattern: /^\/20160918\/computeImageCapabilitySchemas$/,
  },
  {
    operation: 'ListComputeImageCapabilitySchemas',
    method: 'GET',
    pattern: /^\/20160918\/computeImageCapabilitySchemas$/,
  },
  { operation: 'GetWorkRequest', method: 'GET', pattern: new RegExp(`^/20160918/workRequests/${ID}$`) },
  {
    operation: 'ListWorkRequestErrors',
    method: 'GET',
    pattern: new RegExp(`^/20160918/workRequests/${ID}/errors$`),
  },
  { operation: 'GetNamespace', method: 'GET', pattern: /^\/n\/?$/ },
  { operation: 'CreateBucket', method: 'POST', pattern: new RegExp(`^/n/${ID}/b/?$`) },
  { operation: 'GetBucket', method: 'GET', pattern: new RegExp(`^/n/${ID}/b/${ID}/?$`) },
  { operation: 'HeadBucket', method: 'HEAD', pattern: new RegExp(`^/n/${ID}/b/${ID}/?$`) },
  { operation: 'PutObject', method: 'PUT', pattern: new RegExp(`^/n/${ID}/b/${ID}/o/${ID}$`), rawBody: true },
  { operation: 'GetObject', method: 'GET', pattern: new RegExp(`^/n/${ID}/b/${ID}/o/${ID}$`) },
  { operation: 'HeadObject', method: 'HEAD', pattern: new RegExp(`^/n/${ID}/b/${ID}/o/${ID}$`) },
  { operation: 'CreateMultipartUpload', method: 'POST', pattern: new RegExp(`^/n/${ID}/b/${ID}/u/?$`) },
  { operation: 'ListMultipartUploads', method: 'GET', pattern: new RegExp(`^/n/${ID}/b/${ID}/u/?$`) },
  {
    operation: 'UploadPart',
    method: 'PUT',
    pattern: new RegExp(`^/n/${ID}/b/${ID}/u/${ID}$`),
    rawBody: true,
  },
  { operation: 'CommitMultipartUpload', method: 'POST', pattern: new RegExp(`^/n/${ID}/b/${ID}/u/${ID}$`) },
  { operation: 'ListMultipartUploadParts', method: 'GET', pattern: new RegExp(`^/n/${ID}/b/${ID}/u/${ID}$`) },
  { operation: 'AbortMultipartUpload', method: 'DELETE', pattern: new RegExp(`^/n/${ID}/b/${ID}/u/${ID}$`) },
];

/** What a handler answers. */
interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A file to stream as the body. */
  file?: string;
}

interface Call {
  readonly params: string[];
  readonly query: URLSearchParams;
  /** The parsed JSON body (signed operations). */
  readonly json: Record<string, unknown>;
  /** The body bytes (raw-body operations). */
  readonly chunks: AsyncIterable<Buffer>;
  readonly contentLength: number;
  readonly rule: FaultRule | undefined;
}

const JSON_LIMIT = 1 << 20;

/** A page of `items` by `limit` and the opaque `page` token (an offset). */
function page<T>(items: readonly T[], query: URLSearchParams, pageSize: number): Reply {
  const limit = Number(query.get('limit') ?? pageSize) || pageSize;
  const start = Number(query.get('page') ?? 0) || 0;
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : undefined;
  return { body: slice, ...(next === undefined ? {} : { headers: { 'opc-next-page': next } }) };
}

const required = (query: URLSearchParams, name: string): string => {
  const value = query.get(name);
  if (value === null || value === '') throw new ApiError(400, 'MissingParameter', `${name} is required`);
  return value;
};

/** Starts the server on 127.0.0.1 with a random port. */
export async function startOciApiServer(options: OciApiServerOptions = {}): Promise<OciApiServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'ocne-oci-api-')));
  const clock = createTestClock();
  const faults = new Faults();
  const model = new OciModel({
    clock,
    pageSize: options.pageSize ?? 2,
    acceptDelayMs: options.acceptDelayMs ?? 0,
    importDurationMs: options.importDurationMs ?? 1000,
    regions: options.regions ?? ['us-ashburn-1', 'us-phoenix-1', 'eu-frankfurt-1', 'uk-london-1'],
    globalSchemas: options.globalSchemas ?? 1,
  });
  const namespace = options.namespace ?? 'ocnetest';
  const storage = new ObjectStore(namespace, join(dir, 'objects'), () => model.iso());
  for (const bucket of options.buckets ?? ['ocne-images']) storage.createBucket(bucket, model.tenancyId);
  const key = generateTestKey();
  const userId = ocid('user', '');
  const keys = new Map<string, KeyObject>([
    [`${model.tenancyId}/${userId}/${key.fingerprint}`, key.publicKey],
  ]);
  const log: RequestLogEntry[] = [];
  const retryTokens = new Map<string, { hash: string; reply: Reply }>();
  const sockets = new Set<Socket>();
  const maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
  let seq = 0;

  /** Checks an uploaded image the way an import does; the work request fails on a problem. */
  async function checkImport(image: Image, source: Record<string, unknown>): Promise<ImportResult> {
    let object: { file: string };
    try {
      object = storage.object(
        String(source.namespaceName),
        String(source.bucketName),
        String(source.objectName),
      );
    } catch (error) {
      const { code, message } = error as ApiError;
      return { ok: false, code, message };
    }
    let entries: Awaited<ReturnType<typeof readTarGz>>;
    try {
      entries = await readTarGz(object.file);
    } catch (error) {
      return {
        ok: false,
        code: 'InvalidImageFormat',
        message: `the object is not a .tar.gz: ${String(error)}`,
      };
    }
    const names = entries.map((e) => e.name);
    if (new Set(names).size !== names.length) {
      return {
        ok: false,
        code: 'InvalidImageFormat',
        message: `duplicate entries in the image archive: ${names.join(', ')}`,
      };
    }
    const qcow2 = entries.find((e) => e.name === 'output.QCOW2');
    if (qcow2 === undefined || qcow2.head.toString('latin1') !== 'QFI\xfb') {
      return { ok: false, code: 'InvalidImageFormat', message: 'the archive has no qcow2 output.QCOW2' };
    }
    const metadata = entries.find((e) => e.name === 'image_metadata.json');
    let parsed: {
      additionalMetadata?: { shapeCompatibilities?: { internalShapeName?: string }[] | null };
      externalLaunchOptions?: { firmware?: string };
    };
    try {
      parsed = JSON.parse(metadata?.content?.toString('utf8') ?? '');
    } catch {
      return {
        ok: false,
        code: 'InvalidImageFormat',
        message: 'the archive has no valid image_metadata.json',
      };
    }
    image.sizeInMBs = Math.ceil(qcow2.size / 2 ** 20);
    const shapes = (parsed.additionalMetadata?.shapeCompatibilities ?? [])
      .map((s) => s.internalShapeName)
      .filter((s): s is string => typeof s === 'string');
    const firmware = parsed.externalLaunchOptions?.firmware;
    return { ok: true, shapes: [...shapes, 'VM.Standard.Generic'], ...(firmware ? { firmware } : {}) };
  }

  const handlers: Record<string, (call: Call) => Reply | Promise<Reply>> = {
    ListCompartments({ query }) {
      const parent = required(query, 'compartmentId');
      if (!model.isCompartment(parent))
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `compartment ${parent} not found`);
      const name = query.get('name');
      const items = model.childrenOf(parent).filter((c) => name === null || c.name === name);
      return page(items, query, model.options.pageSize);
    },
    GetCompartment({ params: [id = ''] }) {
      const compartment = model.compartments.get(id);
      if (compartment === undefined)
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `compartment ${id} not found`);
      return { body: compartment };
    },
    ListRegions: () => ({
      body: model.options.regions.map((name) => ({ key: name.slice(0, 3).toUpperCase(), name })),
    }),
    GetTenancy({ params: [id = ''] }) {
      if (id !== model.tenancyId)
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `tenancy ${id} not found`);
      return { body: { id, name: 'ocnetest', homeRegionKey: 'IAD' } };
    },
    ListImages({ query }) {
      const compartmentId = required(query, 'compartmentId');
      const filters: [keyof Image, string | null][] = [
        ['displayName', query.get('displayName')],
        ['operatingSystem', query.get('operatingSystem')],
        ['operatingSystemVersion', query.get('operatingSystemVersion')],
        ['lifecycleState', query.get('lifecycleState')],
      ];
      const items = [...model.images.keys()]
        .map((id) => model.images.get(id) as Image)
        .filter((image) => image.lifecycleState !== 'DELETED' && image.compartmentId === compartmentId)
        .map((image) => model.image(image.id))
        .filter((image) => image.lifecycleState !== 'DELETED')
        .filter((image) => filters.every(([field, value]) => value === null || image[field] === value))
        .sort((a, b) => b.timeCreated.localeCompare(a.timeCreated));
      if (query.get('sortOrder') === 'ASC') items.reverse();
      return page(items, query, model.options.pageSize);
    },
    CreateImage({ json, rule }) {
      const compartmentId = json.compartmentId;
      const source = json.imageSourceDetails as Record<string, unknown> | undefined;
      if (typeof compartmentId !== 'string')
        throw new ApiError(400, 'MissingParameter', 'compartmentId is required');
      if (!model.isCompartment(compartmentId))
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `compartment ${compartmentId} not found`);
      if (source === undefined || source.sourceType !== 'objectStorageTuple') {
        throw new ApiError(
          400,
          'InvalidParameter',
          'imageSourceDetails.sourceType must be objectStorageTuple',
        );
      }
      for (const field of ['namespaceName', 'bucketName', 'objectName']) {
        if (typeof source[field] !== 'string')
          throw new ApiError(400, 'MissingParameter', `imageSourceDetails.${field} is required`);
      }
      const image = model.addImage({
        compartmentId,
        displayName: typeof json.displayName === 'string' ? json.displayName : `image-${seq}`,
        freeformTags: (json.freeformTags as Record<string, string> | undefined) ?? {},
        lifecycleState: 'IMPORTING',
        operatingSystem: String(source.operatingSystem ?? 'Custom'),
        operatingSystemVersion: String(source.operatingSystemVersion ?? ''),
      });
      const request = model.startImport(image, checkImport(image, source));
      if (rule?.failImport) model.finishWorkRequest(request.id, 'FAILED', rule.failImport);
      return {
        body: { ...image },
        headers: {
          'opc-work-request-id': request.id,
          etag: createHash('md5').update(image.id).digest('hex'),
        },
      };
    },
    GetImage: ({ params: [id = ''] }) => ({ body: model.image(id) }),
    DeleteImage({ params: [id = ''] }) {
      model.image(id).lifecycleState = 'DELETED';
      return { status: 204 };
    },
    ListImageShapeCompatibilityEntries({ params: [id = ''], query }) {
      const items = [...model.shapes(id)].map((shape) => ({ imageId: id, shape }));
      return page(items, query, model.options.pageSize);
    },
    AddImageShapeCompatibilityEntry({ params: [id = '', shape = ''] }) {
      const name = decodeURIComponent(shape);
      model.shapes(id).add(name);
      return { body: { imageId: id, shape: name } };
    },
    RemoveImageShapeCompatibilityEntry({ params: [id = '', shape = ''] }) {
      const name = decodeURIComponent(shape);
      if (!model.shapes(id).delete(name))
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `image ${id} has no shape ${name}`);
      return { status: 204 };
    },
    ListComputeGlobalImageCapabilitySchemas: ({ query }) => page(model.globalSchemas(), query, 100),
    CreateComputeImageCapabilitySchema: ({ json }) => ({ body: model.createCapabilitySchema(json) }),
    ListComputeImageCapabilitySchemas({ query }) {
      const imageId = query.get('imageId');
      const items = [...model.capabilitySchemas.values()].filter(
        (s) => imageId === null || s.imageId === imageId,
      );
      return page(items, query, model.options.pageSize);
    },
    GetWorkRequest({ params: [id = ''] }) {
      const request = model.workRequests.get(id);
      if (request === undefined)
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `work request ${id} not found`);
      return { body: model.workRequestView(request) };
    },
    ListWorkRequestErrors({ params: [id = ''] }) {
      const request = model.workRequests.get(id);
      if (request === undefined)
        throw new ApiError(404, 'NotAuthorizedOrNotFound', `work request ${id} not found`);
      model.workRequestView(request);
      const error = request.final?.error;
      return { body: error ? [{ ...error, timestamp: model.iso(request.final?.finishedAt) }] : [] };
    },
    GetNamespace: () => ({ body: namespace }),
    CreateBucket({ params: [ns = ''], json }) {
      storage.checkNamespace(ns);
      if (typeof json.name !== 'string' || typeof json.compartmentId !== 'string') {
        throw new ApiError(400, 'MissingParameter', 'name and compartmentId are required');
      }
      const { objects: _objects, ...bucket } = storage.createBucket(json.name, json.compartmentId);
      return { body: bucket };
    },
    GetBucket({ params: [ns = '', name = ''] }) {
      const { objects: _objects, ...bucket } = storage.bucket(ns, decodeURIComponent(name));
      return { body: bucket, headers: { etag: bucket.etag } };
    },
    HeadBucket({ params: [ns = '', name = ''] }) {
      return { headers: { etag: storage.bucket(ns, decodeURIComponent(name)).etag } };
    },
    async PutObject({ params: [ns = '', bucket = '', name = ''], chunks, contentLength }) {
      const object = await storage.putObject(
        ns,
        decodeURIComponent(bucket),
        decodeURIComponent(name),
        chunks,
        contentLength,
      );
      return {
        headers: {
          etag: object.etag,
          'opc-content-md5': object.md5,
          'last-modified': new Date(object.timeModified).toUTCString(),
        },
      };
    },
    GetObject({ params: [ns = '', bucket = '', name = ''] }) {
      const object = storage.object(ns, decodeURIComponent(bucket), decodeURIComponent(name));
      return {
        file: object.file,
        headers: {
          etag: object.etag,
          'content-type': 'application/octet-stream',
          'content-length': String(object.size),
        },
      };
    },
    HeadObject({ params: [ns = '', bucket = '', name = ''] }) {
      const object = storage.object(ns, decodeURIComponent(bucket), decodeURIComponent(name));
      return {
        headers: { etag: object.etag, 'opc-content-md5': object.md5, 'x-object-length': String(object.size) },
      };
    },
    CreateMultipartUpload({ params: [ns = '', bucket = ''], json }) {
      if (typeof json.object !== 'string') throw new ApiError(400, 'MissingParameter', 'object is required');
      const upload = storage.createUpload(ns, decodeURIComponent(bucket), json.object);
      return {
        body: {
          namespace,
          bucket: upload.bucket,
          object: upload.object,
          uploadId: upload.uploadId,
          timeCreated: upload.timeCreated,
          storageTier: 'Standard',
        },
      };
    },
    ListMultipartUploads({ params: [ns = '', bucket = ''], query }) {
      const name = decodeURIComponent(bucket);
      storage.bucket(ns, name);
      const items = [...storage.uploads.values()]
        .filter((u) => u.bucket === name)
        .map((u) => ({
          namespace,
          bucket: u.bucket,
          object: u.object,
          uploadId: u.uploadId,
          timeCreated: u.timeCreated,
          storageTier: 'Standard',
        }));
      return page(items, query, model.options.pageSize);
    },
    async UploadPart({ params: [ns = '', bucket = '', name = ''], query, chunks, contentLength }) {
      const upload = storage.upload(
        ns,
        decodeURIComponent(bucket),
        decodeURIComponent(name),
        query.get('uploadId'),
      );
      const part = await storage.uploadPart(
        upload,
        Number(query.get('uploadPartNum')),
        chunks,
        contentLength,
      );
      return { headers: { etag: part.etag, 'opc-content-md5': part.md5 } };
    },
    async CommitMultipartUpload({ params: [ns = '', bucket = '', name = ''], query, json }) {
      const upload = storage.upload(
        ns,
        decodeURIComponent(bucket),
        decodeURIComponent(name),
        query.get('uploadId'),
      );
      const parts = json.partsToCommit;
      if (!Array.isArray(parts)) throw new ApiError(400, 'MissingParameter', 'partsToCommit is required');
      const object = await storage.commit(upload, parts as { partNum: number; etag: string }[]);
      return {
        headers: {
          etag: object.etag,
          'opc-multipart-md5': object.md5,
          'last-modified': new Date(object.timeModified).toUTCString(),
        },
      };
    },
    ListMultipartUploadParts({ params: [ns = '', bucket = '', name = ''], query }) {
      const upload = storage.upload(
        ns,
        decodeURIComponent(bucket),
        decodeURIComponent(name),
        query.get('uploadId'),
      );
      const items = [...upload.parts.values()]
        .sort((a, b) => a.partNumber - b.partNumber)
        .map(({ partNumber, etag, md5, size }) => ({ partNumber, etag, md5, size }));
      return page(items, query, 1000);
    },
    async AbortMultipartUpload({ params: [ns = '', bucket = '', name = ''], query }) {
      await storage.abort(
        storage.upload(ns, decodeURIComponent(bucket), decodeURIComponent(name), query.get('uploadId')),
      );
      return { status: 204 };
    },
  };

  function send(res: ServerResponse, entry: RequestLogEntry, reply: Reply, started: number): void {
    const status = reply.status ?? 200;
    entry.status = status;
    entry.durationMs = Date.now() - started;
    const headers: Record<string, string> = { 'opc-request-id': entry.requestId, ...reply.headers };
    if (reply.file !== undefined) {
      res.writeHead(status, headers);
      createReadStream(reply.file).pipe(res);
      return;
    }
    const text = reply.body === undefined || status === 204 ? '' : JSON.stringify(reply.body);
    if (text !== '') headers['content-type'] = 'application/json';
    res.writeHead(status, headers);
    res.end(entry.method === 'HEAD' ? undefined : text);
  }

  function sendError(
    res: ServerResponse,
    entry: RequestLogEntry,
    status: number,
    code: string | null,
    message: string,
    started: number,
  ): void {
    send(res, entry, { status, ...(code === null ? {} : { body: { code, message } }) }, started);
  }

  /** The request body, paced by the bandwidth cap, cut off by a reset rule. */
  async function* bodyChunks(
    req: IncomingMessage,
    entry: RequestLogEntry,
    resetAfter: number | undefined,
  ): AsyncGenerator<Buffer> {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (resetAfter !== undefined && entry.bytes + chunk.length > resetAfter) {
        entry.bytes = resetAfter;
        entry.fault = 'reset';
        req.socket.destroy();
        throw new Error('connection reset by a fault rule');
      }
      await faults.throttle(chunk.length);
      entry.bytes += chunk.length;
      yield chunk;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    seq += 1;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let params: string[] = [];
    const route = ROUTES.find((r) => {
      if (r.method !== method) return false;
      const match = r.pattern.exec(url.pathname);
      if (match) params = match.slice(1);
      return match !== null;
    });
    const clientId = req.headers['opc-request-id'];
    const retryToken = req.headers['opc-retry-token'];
    const entry: RequestLogEntry = {
      seq,
      startedAt: started,
      operation: route?.operation ?? 'Unknown',
      method,
      url: req.url ?? '/',
      status: 0,
      bytes: 0,
      requestId: `${typeof clientId === 'string' ? clientId : 'none'}/${seq.toString(16).toUpperCase().padStart(8, '0')}`,
      ...(typeof retryToken === 'string' ? { retryToken } : {}),
      durationMs: 0,
    };
    log.push(entry);
    const rule = faults.match(entry.operation, method, url.pathname);
    if (rule?.latencyMs) {
      entry.fault = 'latency';
      await sleep(rule.latencyMs);
    }
    if (rule?.hang) {
      // Never answer; the socket closes when the client gives up or the server stops.
      entry.fault = 'hang';
      entry.status = -1;
      return;
    }
    const reset = rule?.resetAfterBytes;
    if (reset === 0) {
      entry.fault = 'reset';
      req.socket.destroy();
      return;
    }
    if (rule?.status !== undefined) {
      entry.fault = `status ${rule.status}`;
      try {
        for await (const _ of bodyChunks(req, entry, reset)) {
          // Drain the body before answering.
        }
      } catch {
        return;
      }
      const code = rule.code === undefined ? defaultCode(rule.status) : rule.code;
      sendError(res, entry, rule.status, code, rule.message ?? `injected ${rule.status}`, started);
      return;
    }
    const checked = verifySignature(req, {
      keys,
      bodyExempt: route?.rawBody === true,
      maxSkewMs,
      now: Date.now() + server.signatureClockOffsetMs,
    });
    const unauthenticated = (reason: string): void => {
      entry.authFailure = reason;
      sendError(
        res,
        entry,
        401,
        'NotAuthenticated',
        'The required information to complete authentication was not provided or was incorrect.',
        started,
      );
    };
    if (!checked.ok) {
      req.resume();
      unauthenticated(checked.reason);
      return;
    }
    entry.keyId = checked.info.keyId;
    entry.signedHeaders = checked.info.headers;
    entry.bodySigned = checked.info.bodySigned;
    try {
      let json: Record<string, unknown> = {};
      const chunks = bodyChunks(req, entry, reset);
      if (route?.rawBody !== true) {
        const parts: Buffer[] = [];
        let size = 0;
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > JSON_LIMIT)
            throw new ApiError(400, 'CannotParseRequest', 'the request body is too large');
          parts.push(chunk);
        }
        const body = Buffer.concat(parts);
        if (checked.info.bodySigned) {
          const failure = verifyBody(req, body);
          if (failure !== undefined) {
            unauthenticated(failure);
            return;
          }
        }
        if (body.length > 0) {
          try {
            json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          } catch {
            throw new ApiError(400, 'CannotParseRequest', 'the request body is not JSON');
          }
        }
      }
      if (route === undefined) throw new ApiError(404, 'NotFound', `no operation ${method} ${url.pathname}`);
      const handler = handlers[route.operation];
      if (handler === undefined)
        throw new ApiError(405, 'MethodNotAllowed', `${route.operation} is not served`);
      let reply: Reply;
      const bodyHash = createHash('sha256').update(JSON.stringify(json)).digest('hex');
      const replay =
        typeof retryToken === 'string' ? retryTokens.get(`${route.operation} ${retryToken}`) : undefined;
      if (replay !== undefined) {
        if (replay.hash !== bodyHash)
          throw new ApiError(409, 'InvalidatedRetryToken', 'the retry token was used with another request');
        reply = replay.reply;
      } else {
        reply = await handler({
          params,
          query: url.searchParams,
          json,
          chunks,
          contentLength: Number(req.headers['content-length'] ?? -1),
          rule,
        });
        if (typeof retryToken === 'string' && method === 'POST')
          retryTokens.set(`${route.operation} ${retryToken}`, { hash: bodyHash, reply });
      }
      send(res, entry, reply, started);
    } catch (error) {
      if (req.socket.destroyed) {
        entry.status = -1;
        return;
      }
      if (error instanceof ApiError) sendError(res, entry, error.status, error.code, error.message, started);
      else sendError(res, entry, 500, 'InternalServerError', String(error), started);
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const pkiDir = options.tls ? await mkdtemp(join(tmpdir(), 'ocne-oci-api-pki-')) : undefined;
  const pki = pkiDir === undefined ? undefined : await makeTestPki(pkiDir);
  const http =
    pki === undefined
      ? createServer(handler)
      : createHttpsServer({ cert: await readFile(pki.certPath), key: await readFile(pki.keyPath) }, handler);
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Uploads may be slow on purpose (bandwidth caps): no server-side request timeout.
  http.requestTimeout = 0;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  const server: OciApiServer = {
    url: `${pki === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    caPath: pki?.caPath,
    port,
    namespace,
    tenancyId: model.tenancyId,
    userId,
    key,
    clock,
    faults,
    model,
    storage,
    log,
    signatureClockOffsetMs: 0,
    async writeConfig(configDir, config = {}) {
      return writeOciConfigFile(configDir, [
        {
          name: config.profile ?? 'DEFAULT',
          tenancy: model.tenancyId,
          user: userId,
          fingerprint: key.fingerprint,
          region: config.region ?? 'us-ashburn-1',
          privateKey: config.wrongKey ? generateTestKey().privateKey : key.privateKey,
          ...(config.passphrase === undefined ? {} : { passphrase: config.passphrase }),
        },
      ]);
    },
    requests: (operation) => log.filter((entry) => entry.operation === operation),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      if (ownDir) await rm(dir, { recursive: true, force: true });
      if (pkiDir !== undefined) await rm(pkiDir, { recursive: true, force: true });
    },
  };
  return server;
}
