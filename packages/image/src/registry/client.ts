/**
 * A small container registry client of our own on undici's `fetch` (Distribution API v2): the
 * manifest and blob calls that pull and push need, with anonymous, Basic and Bearer-token
 * authentication (the `WWW-Authenticate` challenge decides), a CA file or `insecure` for TLS, and
 * every failure an {@link OcneError} naming the registry. undici's own `fetch` is used (not Node's
 * global one) because only its `Agent` can take a CA per client without changing the process.
 *
 * Why not skopeo through execa: skopeo is not on most machines the SDK runs on (macOS, CI images),
 * its progress is text for a terminal rather than byte counts, its errors are strings to guess at,
 * and it cannot resume a blob or stop at an `AbortSignal` cleanly. The tests use skopeo as the
 * independent oracle instead.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { isOcneError, OcneError, type OcneErrorCode } from '@ocne/core';
import { Agent, fetch, type Response } from 'undici';
import {
  type Challenge,
  type CredentialLookup,
  findCredentials,
  parseChallenge,
  type RegistryCredentials,
} from './auth.js';
import { registryApiHost } from './reference.js';

/** TLS settings of a registry connection. */
export interface RegistryTlsOptions {
  /** A PEM file of CA certificates to trust (instead of the system's). */
  caFile?: string;
  /** PEM text of CA certificates to trust. */
  ca?: string;
  /** Skip certificate verification, and fall back to plain HTTP when the registry has no TLS. */
  insecure?: boolean;
}

/** Options of {@link openRegistry}. */
export interface RegistryClientOptions extends CredentialLookup {
  /** Credentials to use instead of the auth files'. */
  credentials?: RegistryCredentials;
  tls?: RegistryTlsOptions;
}

/** The manifest media types the client reads and writes. */
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const ACCEPT = Object.values(MEDIA_TYPES).join(', ');
const MANIFEST_LIMIT = 4 * 1024 * 1024;

/** A content descriptor (OCI and Docker schema 2 alike). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
  annotations?: Record<string, string>;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A manifest as fetched: its bytes, digest and media type. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
  readonly json: Record<string, unknown>;
}

/** A blob source for a push: its descriptor and a way to read any byte range of it. */
export interface BlobSource {
  readonly digest: string;
  readonly size: number;
  /** A stream of bytes `start` to `end` (inclusive) of the blob. */
  open(start: number, end: number): Readable;
}

/** sha256 digest of bytes, `sha256:<hex>`. */
export const sha256 = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** True for the media types of a manifest list / image index. */
export const isIndex = (mediaType: string): boolean =>
  mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;

/**
 * A response body, read up to `limit` bytes: a registry (or a proxy in front of it) may answer with
 * a body that never ends. Past the limit the stream is cancelled and `complete` is false.
 */
export async function readBody(
  response: Response,
  limit: number,
): Promise<{ bytes: Buffer; complete: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), complete: true };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), complete: true };
    if (size + value.length > limit) {
      chunks.push(value.subarray(0, limit - size));
      await reader.cancel().catch(() => {});
      return { bytes: Buffer.concat(chunks), complete: false };
    }
    chunks.push(value);
    size += value.length;
  }
}

// Error bodies are for a message: their start is enough.
const ERROR_BODY_LIMIT = 64 * 1024;
// A token answer is a small JSON object.
const TOKEN_BODY_LIMIT = 1024 * 1024;

/**
 * Text from the network as a message may show it: control characters (a hostile registry's
 * terminal escapes, OpenSSL's line breaks) become spaces, and it is clipped.
 */
function printable(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to replace them
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The message of a registry error body (`{"errors":[{code,message}]}`), or its start. */
async function errorText(response: Response): Promise<string> {
  return printable(await errorBody(response));
}

async function errorBody(response: Response): Promise<string> {
  const text = await readBody(response, ERROR_BODY_LIMIT).then(
    (body) => body.bytes.toString('utf8'),
    () => '',
  );
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length > 0) return errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
  } catch {}
  return text.slice(0, 200);
}

/** Why a connection failed, from undici's error and its causes. */
function networkReason(error: unknown): string {
  const reasons: string[] = [];
  for (let e: unknown = error; e instanceof Error && reasons.length < 4; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    reasons.push(printable(typeof code === 'string' ? `${e.message} (${code})` : e.message));
  }
  return reasons.filter((r) => r !== 'fetch failed').join(': ') || String(error);
}

/** Request options of {@link RegistryClient.request}. */
export interface RegistryRequest {
  method: string;
  /** Path below the registry (`/v2/…`) or an absolute URL (an upload `Location`). */
  path: string;
  /** The repository whose scope the request needs. */
  repository: string;
  /** `pull`, or `pull,push` for writes. */
  actions: 'pull' | 'pull,push';
  headers?: Record<string, string>;
  /** A body, or a function that streams it (called again when the request is retried after a 401). */
  body?: Buffer | (() => AsyncIterable<Uint8Array>);
  signal?: AbortSignal | undefined;
}

/** A client for one registry. Make one with {@link openRegistry}. */
export class RegistryClient {
  /** The registry as references name it (`host[:port]`). */
  readonly registry: string;
  readonly #options: RegistryClientOptions;
  readonly #dispatcher: Agent;
  #base: string;
  /** undefined: not asked yet; null: no authentication needed. */
  #challenge: Challenge | null | undefined;
  /** Bearer tokens by scope, with the time they stop being used (before they expire). */
  readonly #tokens = new Map<string, { token: string; until: number }>();
  readonly #credentials = new Map<string, RegistryCredentials | undefined>();

  constructor(registry: string, options: RegistryClientOptions, ca: string | undefined) {
    this.registry = registry;
    this.#options = options;
    this.#base = `https://${registryApiHost(registry)}`;
    this.#dispatcher = new Agent({
      connect: {
        ...(ca !== undefined ? { ca } : {}),
        ...(options.tls?.insecure ? { rejectUnauthorized: false } : {}),
      },
      // A blob may take minutes; a stalled connection is still caught by the body timeout.
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  #fail(code: OcneErrorCode, message: string, cause?: unknown): OcneError {
    return new OcneError(code, `${this.registry}: ${message}`, cause === undefined ? {} : { cause });
  }

  async #fetch(
    url: string,
    init: {
      method: string;
      headers: Record<string, string>;
      body?: RegistryRequest['body'];
      signal?: AbortSignal | undefined;
    },
  ): Promise<Response> {
    const body = typeof init.body === 'function' ? init.body() : init.body;
    try {
      return await fetch(url, {
        method: init.method,
        headers: init.headers,
        ...(body !== undefined ? { body: body as never, duplex: 'half' as const } : {}),
        dispatcher: this.#dispatcher,
        redirect: 'follow',
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      // A cancellation stays a cancellation: the operation reports it as OCNE_CANCELLED.
      if (init.signal?.aborted) throw init.signal.reason ?? error;
      throw this.#fail('OCNE_REGISTRY_UNREACHABLE', `${init.method} ${url}: ${networkReason(error)}`, error);
    }
  }

  /** Asks `/v2/` how to authenticate (once), falling back to HTTP for an insecure registry without TLS. */
  async #ping(signal: AbortSignal | undefined): Promise<void> {
    if (this.#challenge !== undefined) return;
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/v2/`, { method: 'GET', headers: {}, signal });
    } catch (error) {
      if (!(this.#options.tls?.insecure && isOcneError(error) && this.#base.startsWith('https:')))
        throw error;
      this.#base = `http://${registryApiHost(this.registry)}`;
      response = await this.#fetch(`${this.#base}/v2/`, { method: 'GET', headers: {}, signal });
    }
    await response.body?.cancel();
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      if (!challenge)
        throw this.#fail('OCNE_REGISTRY_ERROR', 'answered 401 without a usable WWW-Authenticate header');
      this.#challenge = challenge;
    } else if (response.status < 500) {
      this.#challenge = null;
    } else {
      throw this.#fail('OCNE_REGISTRY_ERROR', `GET /v2/ answered ${response.status}`);
    }
  }

  async #credentialsFor(repository: string): Promise<RegistryCredentials | undefined> {
    if (this.#options.credentials) return this.#options.credentials;
    if (!this.#credentials.has(repository)) {
      this.#credentials.set(repository, await findCredentials(this.registry, repository, this.#options));
    }
    return this.#credentials.get(repository);
  }

  /** The Authorization header for a scope, fetching a Bearer token when the registry wants one. */
  async #authorization(
    repository: string,
    actions: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    await this.#ping(signal);
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    const credentials = await this.#credentialsFor(repository);
    const basic = credentials
      ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
      : undefined;
    if (challenge.scheme === 'basic') return basic;
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw this.#fail('OCNE_REGISTRY_ERROR', `unsupported authentication scheme "${challenge.scheme}"`);
    }
    const scope = `repository:${repository}:${actions}`;
    const cached = this.#tokens.get(scope);
    // A long push outlives a token (often 300 s): take a new one before the old one runs out.
    if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scope);
    const response = await this.#fetch(url.href, {
      method: 'GET',
      headers: basic ? { authorization: basic } : {},
      signal,
    });
    if (response.status === 401 || response.status === 403) {
      throw this.#fail(
        'OCNE_REGISTRY_AUTH_FAILED',
        credentials
          ? `the token server refused the credentials of ${credentials.username} (${response.status}: ${await errorText(response)})`
          : `the token server refused anonymous access (${response.status}); log in or pass credentials`,
      );
    }
    if (!response.ok) {
      throw this.#fail(
        'OCNE_REGISTRY_ERROR',
        `the token server answered ${response.status}: ${await errorText(response)}`,
      );
    }
    const answer = await readBody(response, TOKEN_BODY_LIMIT);
    if (!answer.complete) {
      throw this.#fail(
        'OCNE_REGISTRY_ERROR',
        `the token server answered with more than ${TOKEN_BODY_LIMIT} bytes`,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown } = {};
    try {
      const parsed: unknown = JSON.parse(answer.bytes.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null) body = parsed;
    } catch {
      // Not JSON: no token, refused below.
    }
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw this.#fail('OCNE_REGISTRY_ERROR', 'the token server answered without a token');
    }
    // The token spec's default lifetime is 60 s; stop using a token 10 s (or a fifth) before it ends.
    const lifetime =
      (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    this.#tokens.set(scope, { token, until: Date.now() + lifetime - Math.min(10_000, lifetime / 5) });
    return `Bearer ${token}`;
  }

  /**
   * Sends one request with authentication. A 401 is answered once by renewing the token (or
   * learning the challenge) and retrying, the body streamed again; then it is an
   * `OCNE_REGISTRY_AUTH_FAILED` error, as is a 403.
   */
  async request(req: RegistryRequest): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.#authorization(req.repository, req.actions, req.signal);
      // After the ping: it may have moved an insecure registry from HTTPS to HTTP.
      const url = req.path.startsWith('http') ? req.path : `${this.#base}${req.path}`;
      const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
      const response = await this.#fetch(url, {
        method: req.method,
        headers,
        body: req.body,
        signal: req.signal,
      });
      if (response.status !== 401 && response.status !== 403) return response;
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel();
        this.#tokens.delete(`repository:${req.repository}:${req.actions}`);
        const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
        if (challenge) this.#challenge = challenge;
        continue;
      }
      const credentials = await this.#credentialsFor(req.repository);
      const who = credentials
        ? `the credentials of ${credentials.username}`
        : 'anonymous access (no credentials found)';
      throw this.#fail(
        'OCNE_REGISTRY_AUTH_FAILED',
        `${req.method} ${req.repository}: ${response.status === 403 ? 'access denied' : 'unauthorized'} for ${who}: ${await errorText(response)}`,
      );
    }
  }

  /** Throws the right error for a response that is not one of `ok`. */
  async #expect(response: Response, what: string, ok: readonly number[]): Promise<void> {
    if (ok.includes(response.status)) return;
    const text = await errorText(response);
    if (response.status === 404) throw this.#fail('OCNE_REGISTRY_NOT_FOUND', `${what}: not found (${text})`);
    throw this.#fail('OCNE_REGISTRY_ERROR', `${what}: ${response.status} ${text}`);
  }

  /** Fetches a manifest (or index) by tag or digest; a digest reference is verified. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `manifest ${repository}:${reference}`;
    const response = await this.request({
      method: 'GET',
      path: `/v2/${repository}/manifests/${reference}`,
      repository,
      actions: 'pull',
      headers: { accept: ACCEPT },
      signal,
    });
    await this.#expect(response, what, [200]);
    const length = Number(response.headers.get('content-length') ?? '0');
    const tooLarge = (size: string) =>
      this.#fail(
        'OCNE_REGISTRY_ERROR',
        `${what} is ${size}, more than a manifest can be (${MANIFEST_LIMIT} bytes)`,
      );
    if (length > MANIFEST_LIMIT) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(`${length} bytes`);
    }
    // A body longer than announced, or never ending without a length, stops at the limit too.
    const body = await readBody(response, MANIFEST_LIMIT);
    if (!body.complete) throw tooLarge('longer');
    const bytes = body.bytes;
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw this.#fail('OCNE_IMAGE_DIGEST_MISMATCH', `${what} has digest ${digest}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (error) {
      throw this.#fail('OCNE_REGISTRY_ERROR', `${what} is not JSON`, error);
    }
    const mediaType =
      (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
      response.headers.get('content-type')?.split(';')[0]?.trim() ??
      '';
    if (json.schemaVersion === 1 || !Object.values(MEDIA_TYPES).includes(mediaType as never)) {
      throw this.#fail(
        'OCNE_IMAGE_UNSUPPORTED',
        `${what} has media type "${mediaType}" (schema ${String(json.schemaVersion)}); only OCI and Docker schema 2 are supported`,
      );
    }
    return { bytes, digest, mediaType, json };
  }

  /**
   * The image manifest for `arch` (`amd64`, `arm64`) under a tag or digest: an index or manifest
   * list is resolved to its linux entry for the architecture, as upstream's image choice does.
   */
  async getImageManifest(
    repository: string,
    reference: string,
    arch: string,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    const top = await this.getManifest(repository, reference, signal);
    if (!isIndex(top.mediaType)) return top;
    const entries = (top.json.manifests ?? []) as Descriptor[];
    const entry = entries.find(
      (m) => m.platform?.architecture === arch && (m.platform.os === undefined || m.platform.os === 'linux'),
    );
    if (!entry) {
      const have = entries.map((m) => m.platform?.architecture).filter(Boolean);
      throw this.#fail(
        'OCNE_IMAGE_PLATFORM_MISSING',
        `${repository}:${reference} does not have an image for the ${arch} architecture (it has ${have.join(', ') || 'none'})`,
      );
    }
    return this.getManifest(repository, entry.digest, signal);
  }

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const response = await this.request({
      method: 'HEAD',
      path: `/v2/${repository}/blobs/${digest}`,
      repository,
      actions: 'pull',
      signal,
    });
    await response.body?.cancel();
    if (response.status === 404) return false;
    await this.#expect(response, `blob ${digest}`, [200]);
    return true;
  }

  /**
   * Opens a blob from byte `offset` on. The response is 206 when the registry honoured the
   * range, 200 when it sends the whole blob (the caller starts over).
   */
  async openBlob(
    repository: string,
    digest: string,
    offset: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    const response = await this.request({
      method: 'GET',
      path: `/v2/${repository}/blobs/${digest}`,
      repository,
      actions: 'pull',
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      signal,
    });
    await this.#expect(response, `blob ${digest}`, [200, 206]);
    return response;
  }

  /** Resolves an upload `Location` against the registry. */
  #location(response: Response, what: string): string {
    const location = response.headers.get('location');
    if (!location) throw this.#fail('OCNE_REGISTRY_ERROR', `${what}: no Location in the answer`);
    return new URL(location, this.#base).href;
  }

  /**
   * Pushes a blob: POST to start an upload, PATCH it in chunks of `chunkSize`, PUT with the
   * digest to finish. `onBytes` is called with the bytes sent so far.
   */
  async pushBlob(
    repository: string,
    blob: BlobSource,
    options: { chunkSize?: number; onBytes?: (sent: number) => void; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const { chunkSize = 64 * 1024 * 1024, onBytes, signal } = options;
    const what = `upload of ${blob.digest}`;
    const started = await this.request({
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/`,
      repository,
      actions: 'pull,push',
      headers: { 'content-length': '0' },
      signal,
    });
    await this.#expect(started, what, [202]);
    await started.body?.cancel();
    let location = this.#location(started, what);
    let sent = 0;
    while (sent < blob.size) {
      const end = Math.min(blob.size, sent + chunkSize) - 1;
      const base = sent;
      // Opened on each call: a retried PATCH (a token that ran out) streams the chunk again.
      const counted = async function* () {
        let done = 0;
        for await (const chunk of blob.open(base, end) as AsyncIterable<Buffer>) {
          done += chunk.length;
          onBytes?.(base + done);
          yield chunk;
        }
      };
      const response = await this.request({
        method: 'PATCH',
        path: location,
        repository,
        actions: 'pull,push',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(end - base + 1),
          'content-range': `${base}-${end}`,
        },
        body: counted,
        signal,
      });
      await this.#expect(response, what, [202]);
      await response.body?.cancel();
      location = this.#location(response, what);
      sent = end + 1;
    }
    const url = new URL(location);
    url.searchParams.set('digest', blob.digest);
    const done = await this.request({
      method: 'PUT',
      path: url.href,
      repository,
      actions: 'pull,push',
      headers: { 'content-length': '0' },
      signal,
    });
    if (done.status === 400) {
      throw this.#fail(
        'OCNE_IMAGE_DIGEST_MISMATCH',
        `${what}: the registry refused the digest (${await errorText(done)})`,
      );
    }
    await this.#expect(done, what, [201]);
    await done.body?.cancel();
    onBytes?.(blob.size);
  }

  /** Puts a manifest under a tag or digest; returns the digest the registry reports. */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
    signal?: AbortSignal,
  ): Promise<string> {
    const response = await this.request({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      repository,
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: bytes,
      signal,
    });
    await this.#expect(response, `manifest ${repository}:${reference}`, [201]);
    await response.body?.cancel();
    return response.headers.get('docker-content-digest') ?? sha256(bytes);
  }
}

/**
 * The CA certificates containers would trust for `registry` beside the system's: every `*.crt` in
 * `~/.config/containers/certs.d/<host>/`, `/etc/containers/certs.d/<host>/` and
 * `/etc/docker/certs.d/<host>/` (the folders skopeo and podman read).
 */
async function certsDirCa(registry: string, home: string | undefined): Promise<string | undefined> {
  const dirs = [
    ...(home ? [join(home, '.config/containers/certs.d', registry)] : []),
    join('/etc/containers/certs.d', registry),
    join('/etc/docker/certs.d', registry),
  ];
  const pems: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.crt')).sort()) {
      pems.push(await readFile(join(dir, name), 'utf8'));
    }
  }
  return pems.length > 0 ? pems.join('\n') : undefined;
}

/**
 * A client for `registry`. The CAs it trusts are the system's plus `tls.ca`, `tls.caFile` and,
 * when neither is given, the containers `certs.d` folders of the registry.
 */
export async function openRegistry(
  registry: string,
  options: RegistryClientOptions = {},
): Promise<RegistryClient> {
  let extra = options.tls?.ca;
  if (options.tls?.caFile !== undefined) {
    try {
      extra = `${extra ?? ''}\n${await readFile(options.tls.caFile, 'utf8')}`;
    } catch (error) {
      throw new OcneError(
        'OCNE_REGISTRY_UNREACHABLE',
        `${registry}: cannot read the CA file ${options.tls.caFile}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  extra ??= await certsDirCa(registry, options.home);
  return new RegistryClient(
    registry,
    options,
    extra === undefined ? undefined : [...rootCertificates, extra].join('\n'),
  );
}
