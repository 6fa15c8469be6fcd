/**
 * File contents as `data:` URLs, choosing the shortest encoding as Butane's `MakeDataURL`
 * does: percent-escaped text, base64, or gzip (best compression) then base64. Pure: gzip output
 * is deterministic (no timestamp in the header).
 */

/** `node:zlib`, loaded by the first gzip (it loads the stream modules). */
const zlib = () => process.getBuiltinModule('node:zlib');

/** A `data:` URL and the `compression` value Ignition needs to read it. */
export interface DataUrl {
  source: string;
  /** `'gzip'`, or `''` (set explicitly so a child config never inherits a parent's compression). */
  compression: '' | 'gzip';
}

// Bytes that stay as they are in the escaped form: RFC 3986 unreserved characters.
const PLAIN = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~')
  PLAIN[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += PLAIN[b] ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** Percent-escapes are bytes, not UTF-8 sequences: decode them one by one. */
function percentDecode(data: string): Uint8Array {
  const out: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < data.length; i++) {
    const hex = data.slice(i + 1, i + 3);
    if (data[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out.push(...encoder.encode(data[i]!));
    }
  }
  return Uint8Array.from(out);
}

const toBytes = (contents: string | Uint8Array): Uint8Array =>
  typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;

/** Options of {@link makeDataUrl}. */
export interface DataUrlOptions {
  /** Consider gzip. @defaultValue true */
  allowCompression?: boolean;
}

/**
 * Encodes contents as the shortest of `data:,<escaped>`, `data:;base64,<b64>` and (when allowed)
 * gzip + base64. Gzip is taken only when it is shorter even counting the `"gzip"` compression value.
 */
export function makeDataUrl(contents: string | Uint8Array, options: DataUrlOptions = {}): DataUrl {
  // Nodes of one cluster share most file contents (scripts, unit files): remember recent texts.
  const allow = options.allowCompression ?? true;
  const key =
    typeof contents === 'string' && contents.length <= 65536 ? `${allow ? 'z' : 'p'}${contents}` : undefined;
  const known = key === undefined ? undefined : recent.get(key);
  if (known !== undefined) return { ...known };
  const url = encode(toBytes(contents), allow);
  if (key !== undefined) {
    if (recent.size >= 256) recent.delete(recent.keys().next().value!);
    recent.set(key, url);
  }
  return { ...url };
}

const recent = new Map<string, DataUrl>();

function encode(bytes: Uint8Array, allowCompression: boolean): DataUrl {
  let source = `data:,${percentEncode(bytes)}`;
  const base64 = `data:;base64,${Buffer.from(bytes).toString('base64')}`;
  if (base64.length < source.length) source = base64;
  if (allowCompression) {
    const gz = `data:;base64,${zlib().gzipSync(bytes, { level: zlib().constants.Z_BEST_COMPRESSION }).toString('base64')}`;
    if (gz.length + 'gzip'.length < source.length) return { source: gz, compression: 'gzip' };
  }
  return { source, compression: '' };
}

/**
 * Decodes a `data:` URL (any media type, `;base64` or percent-escaped) and gunzips it when
 * `compression` is `gzip`. Returns `undefined` for other URL schemes.
 */
export function decodeDataUrl(source: string, compression?: string | null): Uint8Array | undefined {
  if (!source.startsWith('data:')) return undefined;
  const comma = source.indexOf(',');
  if (comma < 0) throw new TypeError('a data URL needs a comma');
  const meta = source.slice(5, comma);
  const data = source.slice(comma + 1);
  let bytes: Uint8Array = meta.endsWith(';base64') ? Buffer.from(data, 'base64') : percentDecode(data);
  if (compression === 'gzip') bytes = zlib().gunzipSync(bytes);
  return bytes;
}

/** Decodes a `data:` URL to text (UTF-8). */
export function decodeDataUrlText(source: string, compression?: string | null): string | undefined {
  const bytes = decodeDataUrl(source, compression);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
