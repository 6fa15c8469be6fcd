/**
 * Plain REST calls against the API server of a {@link KubeClient}, for what its typed methods do
 * not offer: JSON merge patches, the status subresource, deletes with preconditions, paged lists
 * of many objects. Keep-alive connections (many calls in parallel, as a move makes them), TLS and
 * credentials from the kubeconfig (refreshed every minute, for exec plugins), and the retries of
 * `retry.ts` (the same policy as {@link KubeClient}'s methods).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeClient } from './client.js';
import { KubeError } from './errors.js';
import { storedAsSent, withRetries } from './retry.js';

/** Options of {@link KubeClient.rest}. */
export interface KubeRestOptions {
  /** Connections kept open to the server. @defaultValue 16 */
  maxSockets?: number;
  /** The field manager of writes (POST, PUT, PATCH). @defaultValue 'ocne' */
  fieldManager?: string;
  /** How long one request may take before it counts as failed (and is retried). @defaultValue 60000 */
  requestTimeoutMs?: number;
  /** Attempts per call, the first included. @defaultValue 5 */
  attempts?: number;
}

/** Options of {@link KubeRestClient.call}. */
export interface KubeRestCallOptions {
  /** The request body, sent as JSON. */
  body?: unknown;
  /** Send `body` as a JSON merge patch (`application/merge-patch+json`). */
  merge?: boolean;
  /** What is being done, for errors: `creating OCIMachine ns/name in the target cluster`. */
  doing: string;
  signal?: AbortSignal | undefined;
  /** Answer `undefined` for 404 instead of throwing. */
  allowNotFound?: boolean;
  /**
   * Ask for the object's metadata only (`PartialObjectMetadata`: name, UID, resourceVersion,
   * finalizers, managed fields…) instead of the whole object, for a caller that needs no more of
   * the answer: the server does not encode the rest, nor the client parse it. A server that cannot
   * answer so answers with the whole object.
   */
  metadataOnly?: boolean;
}

/**
 * How long a kept connection may idle before this side closes it (the agent closes only idle
 * ones): well before the API server's 90 s, so that a request never goes out on a connection the
 * server is closing, which would fail it with ECONNRESET (and a create is not retried after that).
 */
const IDLE_MS = 30_000;

/** The Accept header of a call that wants only the metadata, the whole object as the fallback. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json';

/** An answer that is not a success, as `retry.ts` and `wrapKubeError` read it (like client-node's `ApiException`). */
class HttpAnswer extends Error {
  readonly code: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;

  constructor(code: number, body: string, headers: IncomingHttpHeaders) {
    super(`HTTP ${code}`);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

/** REST calls against one API server; see the module description. Call {@link KubeRestClient.close} when done. */
export class KubeRestClient {
  /** The client whose kubeconfig this one uses. */
  readonly kube: KubeClient;
  readonly #base: URL;
  readonly #maxSockets: number;
  readonly #fieldManager: string;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  #agent: HttpAgent | HttpsAgent | undefined;
  #headers: Record<string, string> = {};
  #headersAt = 0;

  constructor(kube: KubeClient, options: KubeRestOptions = {}) {
    this.kube = kube;
    this.#base = new URL(kube.server);
    this.#maxSockets = options.maxSockets ?? 16;
    this.#fieldManager = options.fieldManager ?? 'ocne';
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#attempts = Math.max(1, options.attempts ?? 5);
  }

  /** TLS and credentials from the kubeconfig; credentials are refreshed every minute (exec plugins). */
  async #prepare(): Promise<void> {
    if (this.#agent !== undefined && performance.now() - this.#headersAt < 60_000) return;
    const options: RequestOptions = {};
    await this.kube.config.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string') headers[key] = value;
    }
    if (typeof options.auth === 'string')
      headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    this.#headers = headers;
    this.#headersAt = performance.now();
    if (this.#agent !== undefined) return;
    if (this.kube.config.getCurrentCluster()?.proxyUrl) {
      this.#agent = options.agent as HttpsAgent;
    } else if (this.#base.protocol === 'http:') {
      this.#agent = new HttpAgent({ keepAlive: true, maxSockets: this.#maxSockets, timeout: IDLE_MS });
    } else {
      this.#agent = new HttpsAgent({
        keepAlive: true,
        maxSockets: this.#maxSockets,
        timeout: IDLE_MS,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        ...(options.cert !== undefined ? { cert: options.cert } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
        ...(options.pfx !== undefined ? { pfx: options.pfx } : {}),
        ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
        ...(options.servername !== undefined ? { servername: options.servername } : {}),
        ...(options.rejectUnauthorized !== undefined
          ? { rejectUnauthorized: options.rejectUnauthorized }
          : {}),
      });
    }
  }

  #send(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string,
    accept: string,
    signal: AbortSignal,
  ): Promise<{ status: number; text: string; headers: IncomingHttpHeaders }> {
    const url = new URL(`${this.#base.pathname.replace(/\/$/, '')}${path}`, this.#base);
    const headers = {
      ...this.#headers,
      Accept: accept,
      ...(body !== undefined ? { 'Content-Type': contentType } : {}),
    };
    return this.#exchange(url, method, headers, body, signal).then((answer) => ({
      ...answer,
      text: answer.body.toString('utf8'),
    }));
  }

  /** One request and its whole answer, through the kept-alive connections. */
  #exchange(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; body: Buffer; headers: IncomingHttpHeaders }> {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method,
          agent: this.#agent,
          ...(signal !== undefined ? { signal } : {}),
          headers: {
            ...headers,
            ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks),
              headers: response.headers,
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /**
   * Sends one request as `@kubernetes/client-node` made it (its URL, method, headers with the
   * credentials, and body) through this client's kept-alive connections, once: the transport of
   * {@link KubeClient}'s own requests (their retries are {@link KubeClient}'s).
   *
   * @internal
   */
  async exchange(
    url: string,
    request: {
      method: string;
      headers: Record<string, string>;
      body?: string | Buffer;
      signal?: AbortSignal;
    },
  ): Promise<{ status: number; body: Buffer; headers: IncomingHttpHeaders }> {
    await this.#prepare();
    return this.#exchange(new URL(url), request.method, request.headers, request.body, request.signal);
  }

  /**
   * One call (`path` below the server URL, with its query); the parsed JSON answer, or `undefined`
   * for an empty one. Transient failures are retried (see `retry.ts`); the rest throw a
   * {@link KubeError} whose message starts with `doing`. Every method is retried, a POST too: a
   * create whose first answer was lost then fails with `AlreadyExists`, which the caller, knowing
   * whether the object existed before, can tell from someone else's object. A PUT whose first
   * answer was lost and whose retry fails with 409 Conflict succeeds when the object stored is the
   * one sent.
   */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: KubeRestCallOptions,
  ): Promise<T | undefined> {
    const { doing } = options;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const contentType = options.merge ? 'application/merge-patch+json' : 'application/json';
    const accept = options.metadataOnly ? METADATA_ONLY : 'application/json';
    const write = method !== 'GET' && method !== 'DELETE';
    const query = write
      ? `${path.includes('?') ? '&' : '?'}fieldManager=${encodeURIComponent(this.#fieldManager)}`
      : '';
    const attempt = async (signal: AbortSignal): Promise<T | undefined> => {
      try {
        await this.#prepare();
      } catch (caught) {
        const message = `${doing}: cannot use the kubeconfig: ${(caught as Error).message}`;
        throw new KubeError('OCNE_KUBE_INVALID_KUBECONFIG', message, { cause: caught });
      }
      const response = await this.#send(method, `${path}${query}`, body, contentType, accept, signal);
      if (response.status >= 200 && response.status < 300) {
        if (response.text === '') return undefined;
        try {
          return JSON.parse(response.text) as T;
        } catch (parse) {
          // Not transient: the server answered, with something that is not JSON.
          throw new KubeError('OCNE_KUBE_API', `${doing}: the answer is not JSON`, { cause: parse });
        }
      }
      if (response.status === 404 && options.allowNotFound) return undefined;
      throw new HttpAnswer(response.status, response.text, response.headers);
    };
    return withRetries(attempt, {
      doing,
      signal: options.signal,
      attempts: this.#attempts,
      timeoutMs: this.#timeoutMs,
      ...(method === 'PUT' && body !== undefined
        ? { afterConflict: () => this.#putLanded<T>(path, JSON.parse(body), options) }
        : {}),
    });
  }

  /**
   * After a retried PUT met 409 Conflict: the object as stored, when it is what the PUT sent (the
   * first attempt's write landed and only its answer was lost); `undefined` otherwise.
   */
  async #putLanded<T>(
    path: string,
    sent: unknown,
    options: KubeRestCallOptions,
  ): Promise<{ value: T } | undefined> {
    const stored = await this.call<T>('GET', path.split('?')[0] ?? path, {
      doing: `${options.doing}: reading it back after a conflict`,
      signal: options.signal,
      allowNotFound: true,
    }).catch((error: unknown) => {
      // Cancelled: say so. Any other failure to read it back: the conflict stands.
      if (options.signal?.aborted) throw error;
      return undefined;
    });
    const status = (path.split('?')[0] ?? path).endsWith('/status');
    return stored !== undefined && storedAsSent(sent, stored, { status }) ? { value: stored } : undefined;
  }

  /** Every object of a collection, page by page (500 a page), with `apiVersion` and `kind` set. */
  async list<T extends object = Record<string, unknown>>(
    path: string,
    apiVersion: string,
    kind: string,
    doing: string,
    signal?: AbortSignal,
  ): Promise<Array<T & { apiVersion: string; kind: string }>> {
    const items: Array<T & { apiVersion: string; kind: string }> = [];
    let token = '';
    do {
      const page = await this.call<{ items?: T[]; metadata?: { continue?: string } }>(
        'GET',
        `${path}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
        { doing, signal, allowNotFound: true },
      );
      for (const item of page?.items ?? []) items.push({ ...item, apiVersion, kind });
      token = page?.metadata?.continue ?? '';
    } while (token !== '');
    return items;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    if (this.#agent instanceof HttpsAgent || this.#agent instanceof HttpAgent) this.#agent.destroy();
  }
}
