/**
 * Request signature verification as OCI does it (draft-cavage HTTP signatures, version 1): the
 * signed headers must include `(request-target)`, `host` and a date (`x-date` as the TypeScript SDK
 * sends, or `date` as the Go SDK does); PUT, POST and PATCH also sign `content-type`,
 * `content-length` and `x-content-sha256`, except the two operations whose body is an object
 * (PutObject, UploadPart). The date must be within five minutes of the server's wall clock.
 */
import { createHash, type KeyObject, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a signature was refused (for the request log; the client only sees 401). */
export type SignatureFailure =
  | 'missing'
  | 'malformed'
  | 'unknown-key'
  | 'missing-header'
  | 'bad-signature'
  | 'clock-skew'
  | 'body-digest'
  | 'body-length';

/** What a verified request was signed with. */
export interface SignatureInfo {
  readonly keyId: string;
  readonly headers: readonly string[];
  /** True when the body's digest and length were signed. */
  readonly bodySigned: boolean;
}

/** Options of {@link verifySignature}. */
export interface VerifyOptions {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** True for operations whose body is not signed (PutObject, UploadPart). */
  readonly bodyExempt: boolean;
  /** The largest accepted difference between the signed date and `now`. */
  readonly maxSkewMs: number;
  /** The server's wall clock. */
  readonly now: number;
}

/** Checks the headers and signature; the body digest is checked by {@link verifyBody}. */
export function verifySignature(
  req: IncomingMessage,
  options: VerifyOptions,
): { ok: true; info: SignatureInfo } | { ok: false; reason: SignatureFailure } {
  const authorization = req.headers.authorization;
  if (authorization === undefined) return { ok: false, reason: 'missing' };
  const match = /^Signature (.*)$/.exec(authorization);
  if (!match?.[1]) return { ok: false, reason: 'malformed' };
  // Parameter order differs between SDKs (Go puts `headers` before `keyId`).
  const params = new Map<string, string>();
  for (const [, name, value] of match[1].matchAll(/(\w+)="([^"]*)"/g)) params.set(name ?? '', value ?? '');
  const keyId = params.get('keyId');
  const signature = params.get('signature');
  const headerList = params.get('headers');
  if (
    params.get('version') !== '1' ||
    params.get('algorithm') !== 'rsa-sha256' ||
    keyId === undefined ||
    signature === undefined ||
    headerList === undefined
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const key = options.keys.get(keyId);
  if (key === undefined) return { ok: false, reason: 'unknown-key' };
  const names = headerList.split(' ').map((name) => name.toLowerCase());
  const required = ['(request-target)', 'host'];
  const method = (req.method ?? 'GET').toUpperCase();
  const bodySigned = ['POST', 'PUT', 'PATCH'].includes(method) && !options.bodyExempt;
  if (bodySigned) required.push('content-type', 'content-length', 'x-content-sha256');
  if (required.some((name) => !names.includes(name))) return { ok: false, reason: 'missing-header' };
  if (!names.includes('x-date') && !names.includes('date')) return { ok: false, reason: 'missing-header' };
  const lines: string[] = [];
  for (const name of names) {
    if (name === '(request-target)') {
      // The raw target as sent: OCI does not normalise it.
      lines.push(`(request-target): ${method.toLowerCase()} ${req.url ?? '/'}`);
      continue;
    }
    const value = req.headers[name];
    if (typeof value !== 'string') return { ok: false, reason: 'missing-header' };
    lines.push(`${name}: ${value}`);
  }
  if (!verify('sha256', Buffer.from(lines.join('\n')), key, Buffer.from(signature, 'base64'))) {
    return { ok: false, reason: 'bad-signature' };
  }
  const signedDate = Date.parse(String(names.includes('x-date') ? req.headers['x-date'] : req.headers.date));
  if (Number.isNaN(signedDate) || Math.abs(options.now - signedDate) > options.maxSkewMs) {
    return { ok: false, reason: 'clock-skew' };
  }
  return { ok: true, info: { keyId, headers: names, bodySigned } };
}

/** Checks a buffered body against the signed `x-content-sha256` and `content-length`. */
export function verifyBody(req: IncomingMessage, body: Buffer): SignatureFailure | undefined {
  if (Number(req.headers['content-length']) !== body.length) return 'body-length';
  const digest = createHash('sha256').update(body).digest('base64');
  return digest === req.headers['x-content-sha256'] ? undefined : 'body-digest';
}
