/**
 * Plain REST calls against the API server of a {@link KubeClient}, for what its typed methods do
 * not offer: JSON merge patches, the status subresource, deletes with preconditions, paged lists
 * of many objects. Keep-alive connections (many calls in parallel, as a move makes them), TLS and
 * credentials from the kubeconfig (refreshed every minute, for exec plugins), and retries of
 * transient failures (429, 5xx, dropped connections, a request that got no answer).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from './client.js';
import { KubeError, KubeErrorCode, wrapKubeError } from './errors.js';

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
}

const TRANSIENT = new Set([429, 500, 502, 503, 504]);

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
      this.#agent = new HttpAgent({ keepAlive: true, maxSockets: this.#maxSockets });
    } else {
      this.#agent = new HttpsAgent({
        keepAlive: true,
        maxSockets: this.#maxSockets,
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
    signal: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.#base.pathname.replace(/\/$/, '')}${path}`, this.#base);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method,
          agent: this.#agent,
          signal,
          headers: {
            ...this.#headers,
            Accept: 'application/json',
            ...(body !== undefined
              ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) }
              : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /**
   * One call (`path` below the server URL, with its query); the parsed JSON answer, or `undefined`
   * for an empty one. Transient failures are retried with backoff; the rest throw a
   * {@link KubeError} whose message starts with `doing`.
   */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: KubeRestCallOptions,
  ): Promise<T | undefined> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const contentType = options.merge ? 'application/merge-patch+json' : 'application/json';
    const write = method !== 'GET' && method !== 'DELETE';
    const query = write
      ? `${path.includes('?') ? '&' : '?'}fieldManager=${encodeURIComponent(this.#fieldManager)}`
      : '';
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      try {
        await this.#prepare();
      } catch (caught) {
        throw new KubeError(
          KubeErrorCode.InvalidKubeconfig,
          `${options.doing}: cannot use the kubeconfig: ${(caught as Error).message}`,
          { cause: caught },
        );
      }
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let error: unknown;
      try {
        const response = await this.#send(method, `${path}${query}`, body, contentType, signal);
        if (response.status >= 200 && response.status < 300) {
          if (response.text === '') return undefined;
          try {
            return JSON.parse(response.text) as T;
          } catch (parse) {
            // Not transient: the server answered, with something that is not JSON.
            error = new KubeError(KubeErrorCode.Api, `${options.doing}: the answer is not JSON`, {
              cause: parse,
            });
            throw error;
          }
        }
        if (response.status === 404 && options.allowNotFound) return undefined;
        error = wrapKubeError({ code: response.status, body: response.text }, options.doing);
        if (!TRANSIENT.has(response.status) || attempt >= this.#attempts) throw error;
      } catch (caught) {
        if (caught === error) throw caught;
        if (options.signal?.aborted) {
          throw new KubeError(KubeErrorCode.Cancelled, `${options.doing}: cancelled`, { cause: caught });
        }
        error = timeout.aborted
          ? new KubeError(KubeErrorCode.Timeout, `${options.doing}: no answer in ${this.#timeoutMs} ms`, {
              cause: caught,
            })
          : wrapKubeError(caught, options.doing);
        if (attempt >= this.#attempts) throw error;
      }
      try {
        await sleep(100 * 2 ** (attempt - 1), undefined, options.signal ? { signal: options.signal } : {});
      } catch (caught) {
        throw new KubeError(KubeErrorCode.Cancelled, `${options.doing}: cancelled`, { cause: caught });
      }
    }
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
