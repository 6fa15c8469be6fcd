// A minimal HTTP(S) client for readiness probes and tests: node:http / node:https with an explicit
// CA (never `rejectUnauthorized: false`), a bearer token and an AbortSignal. No connection pooling,
// so nothing is left open against a control plane that is being stopped.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Options of {@link request}. */
export interface RequestOptions {
  /** HTTP method; `GET` by default. */
  method?: string;
  /** PEM certificate(s) to trust for `https:` URLs; the only trusted roots when set. */
  ca?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Request body; sent with `Content-Type: application/json` unless `contentType` says otherwise. */
  body?: string;
  /** Content type of `body`. */
  contentType?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Status and body of a response. */
export interface Response {
  readonly status: number;
  readonly body: string;
}

/** Sends one request and reads the whole response body as UTF-8. */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const { method = 'GET', ca, token, body, contentType = 'application/json', signal } = options;
  const headers: Record<string, string> = { accept: 'application/json, */*' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers['content-type'] = contentType;
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers,
        agent: false,
        ...(ca === undefined ? {} : { ca }),
        ...(signal === undefined ? {} : { signal }),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
