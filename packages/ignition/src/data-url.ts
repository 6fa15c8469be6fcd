/**
 * File contents as `data:` URLs, choosing the shortest encoding as Butane's `MakeDataURL`
 * does: percent-escaped text, base64, or gzip (best compression) then base64. Pure: gzip output
 * is deterministic (no timestamp in the header).
 */

/** `node:zlib`, loaded by the first gzip (a file too short for gzip to win never loads it). */
const zlib = () => process.getBuiltinModule('node:zlib');

/** A `data:` URL and the `compression` value Ignition needs to read it. */
export interface DataUrl {
  source: string;
  /** `'gzip'`, or `''` (set explicitly so a child config never inherits a parent's compression). */
  compression: '' | 'gzip';
}

// The escaped form keeps RFC 3986's unreserved characters (A-Z a-z 0-9 - _ . ~) and escapes every other byte.
const HEX = '0123456789ABCDEF';

/** Bytes as one character each (Latin-1), so that native string functions do the per-byte work. */
const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function percentEncode(bytes: Uint8Array): string {
  return latin1(bytes).replace(
    /[^A-Za-z0-9\-_.~]/g,
    (c) => `%${HEX[c.charCodeAt(0) >> 4]}${HEX[c.charCodeAt(0) & 15]}`,
  );
}

/** The length of {@link percentEncode}'s result, without making it. */
function percentEncodedLength(bytes: Uint8Array): number {
  return bytes.length + 2 * latin1(bytes).replace(/[A-Za-z0-9\-_.~]+/g, '').length;
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
  // The lengths first: only the shortest form is made, and gzip only when it could be shorter.
  const escapedLength = 'data:,'.length + percentEncodedLength(bytes);
  const base64Length = 'data:;base64,'.length + 4 * Math.ceil(bytes.length / 3);
  const best = Math.min(escapedLength, base64Length);
  if (allowCompression) {
    // gzip wins when 'data:;base64,' + its base64 + 'gzip' is shorter than the best.
    const most = 3 * (Math.ceil((best - 'data:;base64,'.length - 'gzip'.length) / 4) - 1);
    const gz = most > 0 ? zlib().gzipSync(bytes, { level: zlib().constants.Z_BEST_COMPRESSION }) : undefined;
    if (gz !== undefined && gz.length <= most) {
      const source = `data:;base64,${Buffer.from(gz).toString('base64')}`;
      if (source.length + 'gzip'.length < best) return { source, compression: 'gzip' };
    }
  }
  // On a tie the escaped form, as Butane's MakeDataURL.
  if (base64Length < escapedLength)
    return { source: `data:;base64,${Buffer.from(bytes).toString('base64')}`, compression: '' };
  return { source: `data:,${percentEncode(bytes)}`, compression: '' };
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
