/**
 * Butane (`variant: fcos`, `version: 1.5.0`) to Ignition 3.4.0, as coreos/butane v0.25.1 translates
 * it with `--strict`, for the part of the spec that ocne users put in `extraIgnition`: files,
 * directories, links, systemd units and drop-ins, users, groups, kernel arguments and the
 * `ignition` section. Everything else Butane knows (disks, RAID, LUKS, filesystems, trees,
 * `boot_device`, `grub`, other variants and versions) is an {@link IgnitionError} naming the field,
 * never dropped.
 *
 * YAML is read as Butane's Go decoder (yaml.v3 into typed fields) reads it: `mode: 0644` is octal,
 * `enabled: yes` is true, `inline: 1` is the text `1`, `!!binary` gives bytes. The checks Butane and
 * Ignition's validator make on that subset are made here too, and what `--strict` turns from a
 * warning into an error is an error.
 *
 * Pure: `local` files come through the injected `readFile`; this module never touches the file system.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { decodeDataUrl, makeDataUrl } from './data-url.js';
import { IgnitionError, IgnitionErrorCode } from './errors.js';
import { formatPath, type LocatedDocument, locate, parseIgnition, parseLocated } from './parse.js';
import {
  IGNITION_VERSION,
  type IgnitionConfig,
  type IgnitionDirectory,
  type IgnitionDropin,
  type IgnitionFile,
  type IgnitionGroup,
  type IgnitionLink,
  type IgnitionMeta,
  type IgnitionNode,
  type IgnitionResource,
  type IgnitionUnit,
  type IgnitionUser,
} from './spec.js';

/** The one Butane variant this module translates. */
export const BUTANE_VARIANT = 'fcos';
/** The one Butane spec version this module translates (to Ignition 3.4.0). */
export const BUTANE_VERSION = '1.5.0';

/** Options of {@link translateButane}. */
export interface ButaneOptions {
  /** File path or label of the Butane text, for errors. */
  source: string;
  /**
   * Base folder of `local:`, `contents_local` and `ssh_authorized_keys_local` paths (Butane's
   * `--files-dir`). Without it, those fields are an error.
   */
  filesDir?: string;
  /** Reads a file by absolute path (`readConfigFiles` of `@ocne/config` provides one). Needed for local files. */
  readFile?: (absolutePath: string) => Uint8Array;
}

/** True for a parsed document that is a Butane config: an object with a `variant` key. */
export function isButane(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'variant' in value;
}

// ---------------------------------------------------------------------------------------------
// Reading the YAML tree as yaml.v3 decodes it into Butane's typed structs.

type YamlPath = Array<string | number>;

interface Ctx {
  source: string;
  located: LocatedDocument;
  filesDir: string | undefined;
  readFile: ((absolutePath: string) => Uint8Array) | undefined;
}

/** A value in the document: its node (aliases resolved), where to point for errors, and its path. */
interface At {
  node: unknown;
  /** The node an error about the value points at (the value, or the key when there is no value). */
  mark: unknown;
  path: YamlPath;
}

const INVALID = IgnitionErrorCode.Invalid;
const UNSUPPORTED = IgnitionErrorCode.ButaneUnsupported;
const READ_FAILED = IgnitionErrorCode.ReadFailed;

function fail(
  ctx: Ctx,
  code: IgnitionErrorCode,
  at: { mark?: unknown; path: YamlPath },
  message: string,
  cause?: unknown,
): never {
  const range = (at.mark as { range?: [number, number, number] } | null | undefined)?.range;
  let where: { line?: number; column?: number };
  if (range !== undefined) {
    const { line, col } = ctx.located.lines.linePos(range[0]);
    where = { line, column: col };
  } else {
    where = locate(ctx.located, at.path);
  }
  throw new IgnitionError(
    code,
    message,
    { source: ctx.source, ...where, ...(at.path.length > 0 ? { path: formatPath(at.path) } : {}) },
    cause === undefined ? {} : { cause },
  );
}

const deref = (ctx: Ctx, node: unknown): unknown => (isAlias(node) ? node.resolve(ctx.located.doc) : node);

const LONG_TAG = 'tag:yaml.org,2002:';
const shortTag = (tag: string | undefined): string =>
  tag === undefined ? '' : tag.startsWith(LONG_TAG) ? `!!${tag.slice(LONG_TAG.length)}` : tag;
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);

/** The source text of a scalar: what yaml.v3 calls the node's value. */
const textOf = (s: Scalar): string => s.source ?? String(s.value);
const isQuoted = (s: Scalar): boolean => s.type !== undefined && s.type !== 'PLAIN';

function isNull(ctx: Ctx, node: unknown): boolean {
  const n = deref(ctx, node);
  if (n === null || n === undefined) return true;
  if (!isScalar(n)) return false;
  const tag = shortTag(n.tag);
  if (tag === '!!null') return true;
  return tag === '' && !isQuoted(n) && NULLS.has(textOf(n));
}

function describe(ctx: Ctx, node: unknown): string {
  const n = deref(ctx, node);
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return JSON.stringify(textOf(n));
  return 'nothing';
}

/** The scalar at `at`, or undefined for null; anything else is a type error. */
function scalarAt(ctx: Ctx, at: At, expected: string): Scalar | undefined {
  if (isNull(ctx, at.node)) return undefined;
  if (!isScalar(at.node)) fail(ctx, INVALID, at, `expected ${expected}, got ${describe(ctx, at.node)}`);
  return at.node;
}

function binary(ctx: Ctx, at: At, s: Scalar): Uint8Array {
  const b64 = textOf(s).replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
    fail(ctx, INVALID, at, '!!binary value contains invalid base64 data');
  }
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A string field: any scalar's text (`1`, `yes` and `2024-01-01` stay as written), `!!binary` decoded. */
function readString(ctx: Ctx, at: At | undefined): string | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'a string');
  if (s === undefined) return undefined;
  return shortTag(s.tag) === '!!binary' ? utf8.decode(binary(ctx, at, s)) : textOf(s);
}

/** Like {@link readString}, as bytes (so `!!binary` contents stay binary). */
function readBytes(ctx: Ctx, at: At | undefined): Uint8Array | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'a string');
  if (s === undefined) return undefined;
  return shortTag(s.tag) === '!!binary' ? binary(ctx, at, s) : encoder.encode(textOf(s));
}

const GO_INT = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** yaml.v3's resolution of a plain scalar to a number: Go integer syntax (`0644` is octal) or a float. */
function resolveNumber(text: string): number | undefined {
  const first = text[0] ?? '';
  if (first === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : undefined;
  if (!/[0-9+-]/.test(first)) return undefined;
  if (/^[0-9]{4}-/.test(text)) return undefined; // a timestamp
  const plain = text.replaceAll('_', '');
  const m = GO_INT.exec(plain);
  if (m !== null) {
    const sign = m[1] === '-' ? -1 : 1;
    const digits = m[2]!;
    const lower = digits.toLowerCase();
    const value = lower.startsWith('0x')
      ? Number.parseInt(digits.slice(2), 16)
      : lower.startsWith('0o')
        ? Number.parseInt(digits.slice(2), 8)
        : lower.startsWith('0b')
          ? Number.parseInt(digits.slice(2), 2)
          : digits.length > 1 && digits.startsWith('0')
            ? Number.parseInt(digits, 8)
            : Number.parseInt(digits, 10);
    return sign * value;
  }
  return YAML_FLOAT.test(plain) ? Number(plain) : undefined;
}

/** An integer field. A quoted string is an error, as in Butane; a float must be whole. */
function readInt(ctx: Ctx, at: At | undefined): number | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'a whole number');
  if (s === undefined) return undefined;
  const tag = shortTag(s.tag);
  const text = textOf(s);
  const resolvable = tag === '!!int' || tag === '!!float' || (tag === '' && !isQuoted(s));
  const value = resolvable ? resolveNumber(text) : undefined;
  if (value === undefined) fail(ctx, INVALID, at, `expected a whole number, got ${JSON.stringify(text)}`);
  if (!Number.isInteger(value)) fail(ctx, INVALID, at, `expected a whole number, got ${text}`);
  if (!Number.isSafeInteger(value)) fail(ctx, INVALID, at, `${text} is too large`);
  return value;
}

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** A boolean field: `true`/`false` (any case yaml.v3 knows), or YAML 1.1's `yes`, `no`, `on`, `off`, `y`, `n`. */
function readBool(ctx: Ctx, at: At | undefined): boolean | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'true or false');
  if (s === undefined) return undefined;
  const text = textOf(s);
  const tag = shortTag(s.tag);
  if ((tag === '' && !isQuoted(s)) || tag === '!!bool') {
    if (['true', 'True', 'TRUE'].includes(text)) return true;
    if (['false', 'False', 'FALSE'].includes(text)) return false;
  }
  if (YAML11_TRUE.has(text)) return true;
  if (YAML11_FALSE.has(text)) return false;
  return fail(ctx, INVALID, at, `expected true or false, got ${JSON.stringify(text)}`);
}

/** The items of a list field (null is an empty list). A null item is an error (Butane drops it silently). */
function readList(ctx: Ctx, at: At | undefined): At[] {
  if (at === undefined || isNull(ctx, at.node)) return [];
  if (!isSeq(at.node)) fail(ctx, INVALID, at, `expected a list, got ${describe(ctx, at.node)}`);
  return at.node.items.map((item, i) => {
    const child: At = { node: deref(ctx, item), mark: item, path: [...at.path, i] };
    if (isNull(ctx, item)) fail(ctx, INVALID, child, 'expected a value, got an empty list item');
    return child;
  });
}

function readStrings(ctx: Ctx, at: At | undefined): Array<{ value: string; at: At }> {
  return readList(ctx, at).map((item) => ({ value: readString(ctx, item)!, at: item }));
}

/** Fields Butane knows that are outside the supported subset, with what to say about them. */
type Unsupported = Record<string, string>;

/**
 * The fields of a mapping (null is an empty mapping). Unknown keys are errors naming the
 * allowed ones; known-but-unsupported Butane fields are errors unless empty.
 */
function readMap(
  ctx: Ctx,
  at: At | undefined,
  allowed: readonly string[],
  unsupported: Unsupported = {},
  invalid: Record<string, string> = {},
): Map<string, At> {
  const out = new Map<string, At>();
  if (at === undefined || isNull(ctx, at.node)) return out;
  if (!isMap(at.node)) fail(ctx, INVALID, at, `expected a mapping, got ${describe(ctx, at.node)}`);
  for (const pair of at.node.items) {
    const key = deref(ctx, pair.key);
    const name = isScalar(key) ? textOf(key) : describe(ctx, key);
    const value = deref(ctx, pair.value);
    const child: At = { node: value, mark: pair.value ?? pair.key, path: [...at.path, name] };
    const keyAt = { mark: pair.key, path: child.path };
    const why = unsupported[name];
    if (why !== undefined) {
      if (isNull(ctx, value) || ((isMap(value) || isSeq(value)) && value.items.length === 0)) continue;
      fail(ctx, UNSUPPORTED, keyAt, `${name} is not supported: ${why}`);
    }
    const wrong = invalid[name];
    if (wrong !== undefined) fail(ctx, INVALID, keyAt, wrong);
    if (!allowed.includes(name)) {
      const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const hint = snake !== name && allowed.includes(snake) ? ` (Butane spells it "${snake}")` : '';
      fail(ctx, INVALID, keyAt, `unknown key "${name}"${hint}; allowed here: ${allowed.join(', ')}`);
    }
    out.set(name, child);
  }
  return out;
}

/** Drops unset fields and empty lists, as Go's `omitempty` does; undefined when nothing is left. */
function compact<T extends object>(fields: { [K in keyof T]?: T[K] | undefined }): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Local files.

function readLocal(ctx: Ctx, at: At, local: string): Uint8Array {
  if (ctx.filesDir === undefined) {
    fail(
      ctx,
      READ_FAILED,
      at,
      `cannot read local file ${JSON.stringify(local)}: local paths need a files folder (filesDir)`,
    );
  }
  if (ctx.readFile === undefined) {
    fail(ctx, READ_FAILED, at, `cannot read local file ${JSON.stringify(local)}: no readFile was given`);
  }
  if (isAbsolute(local)) {
    fail(
      ctx,
      READ_FAILED,
      at,
      `local path ${JSON.stringify(local)} must be relative to the files folder ${ctx.filesDir}`,
    );
  }
  const base = resolve(ctx.filesDir);
  const full = resolve(base, local);
  const rel = relative(base, full);
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('..\\') || isAbsolute(rel)) {
    fail(
      ctx,
      READ_FAILED,
      at,
      `local path ${JSON.stringify(local)} is outside the files folder ${ctx.filesDir}`,
    );
  }
  try {
    return ctx.readFile(full);
  } catch (e) {
    return fail(ctx, READ_FAILED, at, `cannot read local file ${full}: ${(e as Error).message}`, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Ignition's checks on the translated values (ignition v2.23.0 `config/v3_4/types`).

/** Go's `path.Ext`. */
function goExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

function checkNodePath(ctx: Ctx, at: At, path: string | undefined): string {
  if (path === undefined || path === '') fail(ctx, INVALID, at, 'path is required');
  if (!path.startsWith('/')) fail(ctx, INVALID, at, `path ${JSON.stringify(path)} is not absolute`);
  const dirty =
    path !== '/' &&
    (path.endsWith('/') || path.includes('//') || path.split('/').some((s) => s === '.' || s === '..'));
  if (dirty) fail(ctx, INVALID, at, `path ${JSON.stringify(path)} is not fully simplified`);
  return path;
}

/** Go's `url.Parse` scheme, lower-cased, or an error message when the URL does not parse. */
function urlScheme(url: string): { scheme: string } | { error: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects control characters in URLs
  if (/[\u0000-\u001f\u007f]/.test(url)) return { error: 'it contains a control character' };
  let scheme = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c) && i > 0) continue;
    if (c === ':') {
      if (i === 0) return { error: 'it has no scheme' };
      scheme = url.slice(0, i).toLowerCase();
    }
    break;
  }
  const withoutQuery = url.replace(/\?[^#]*/, '');
  if (/%(?![0-9a-fA-F]{2})/.test(withoutQuery)) return { error: 'it has an invalid %-escape' };
  return { scheme };
}

function checkSourceUrl(ctx: Ctx, at: At, url: string): void {
  const parsed = urlScheme(url);
  if ('error' in parsed)
    fail(ctx, INVALID, at, `source ${JSON.stringify(url)} is not a valid URL: ${parsed.error}`);
  const withoutQuery = url.split(/[?#]/)[0]!;
  switch (parsed.scheme) {
    case 'http':
    case 'https':
    case 'tftp':
    case 'gs':
      return;
    case 's3':
    case 'arn': {
      if (/[?&]versionId=(&|#|$)/.test(url)) fail(ctx, INVALID, at, 'invalid S3 object VersionId (empty)');
      if (parsed.scheme === 'arn') {
        const sections = withoutQuery.split(':');
        const resource = sections.slice(5).join(':');
        const parts = withoutQuery.split('/').length;
        if (
          sections.length < 6 ||
          sections[2] !== 's3' ||
          parts < (resource.startsWith('accesspoint/') ? 3 : 2)
        ) {
          fail(ctx, INVALID, at, `source ${JSON.stringify(url)} is not an S3 object ARN`);
        }
      }
      return;
    }
    case 'data':
      try {
        decodeDataUrl(url);
      } catch (e) {
        fail(ctx, INVALID, at, `source is not a valid data URL: ${(e as Error).message}`, e);
      }
      return;
    default:
      fail(
        ctx,
        INVALID,
        at,
        `source ${JSON.stringify(url)} has an unsupported URL scheme (expected http, https, tftp, s3, arn, gs or data)`,
      );
  }
}

const HASH_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

function checkHash(ctx: Ctx, at: At, hash: string): void {
  const dash = hash.indexOf('-');
  if (dash < 0)
    fail(ctx, INVALID, at, `malformed hash ${JSON.stringify(hash)}: expected sha256-<hex> or sha512-<hex>`);
  const fn = hash.slice(0, dash);
  const expected = HASH_HEX_LENGTH[fn];
  if (expected === undefined)
    fail(ctx, INVALID, at, `unrecognized hash function ${JSON.stringify(fn)}: expected sha256 or sha512`);
  if (hash.length - dash - 1 !== expected) {
    fail(ctx, INVALID, at, `incorrect size for a ${fn} sum: expected ${expected} hex digits`);
  }
}

/** Rejects the second entry with the same key, as Ignition's `ValidateDups` does. */
function checkDups(ctx: Ctx, entries: ReadonlyArray<{ key: string; at: At }>, what: string): void {
  const seen = new Map<string, YamlPath>();
  for (const { key, at } of entries) {
    const first = seen.get(key);
    if (first !== undefined) {
      fail(ctx, INVALID, at, `duplicate ${what} ${JSON.stringify(key)} (also at ${formatPath(first)})`);
    }
    seen.set(key, at.path);
  }
}

/**
 * go-systemd's unit file lexer, as Ignition uses it to validate unit contents: returns the
 * section of every option, or the error it reports.
 */
export function parseUnitContents(text: string): { sections: string[] } | { error: string } {
  // Lines systemd would truncate (go-systemd checks 2048 bytes ahead without a newline).
  for (const line of text.split(/[\r\n]/)) {
    if (encoder.encode(line).length >= 2048) return { error: 'line too long (max 2048 bytes)' };
  }
  const sections: string[] = [];
  let i = 0;
  const toEol = (): { line: string; eof: boolean } => {
    const nl = text.indexOf('\n', i);
    const end = nl < 0 ? text.length : nl;
    let line = text.slice(i, end);
    i = nl < 0 ? text.length : nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return { line, eof: nl < 0 };
  };
  const ignoreLine = (): void => {
    for (;;) {
      let { line } = toEol();
      if (line.endsWith(' ')) line = line.slice(0, -1);
      if (!line.endsWith('\\')) return;
      if (i >= text.length) return;
    }
  };
  const sectionName = (): string | { error: string } => {
    const end = text.indexOf(']', i);
    if (end < 0) return { error: 'unable to find end of section' };
    const name = text.slice(i, end);
    i = end + 1;
    const garbage = toEol().line.trim();
    if (garbage !== '') return { error: `found garbage after section name : ${JSON.stringify(garbage)}` };
    return name;
  };
  let section: string | undefined;
  while (section === undefined) {
    if (i >= text.length) return { sections };
    const c = text[i++]!;
    if (c === '[') {
      const name = sectionName();
      if (typeof name !== 'string') return name;
      section = name;
    } else if (c === '#' || c === ';') {
      ignoreLine();
    }
  }
  for (;;) {
    if (i >= text.length) return { sections };
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '[') {
      i++;
      const name = sectionName();
      if (typeof name !== 'string') return name;
      section = name;
    } else if (c === '#' || c === ';') {
      i++;
      ignoreLine();
    } else {
      const eq = text.indexOf('=', i);
      const nl = text.slice(i, eq < 0 ? undefined : eq).search(/[\r\n]/);
      if (nl >= 0) return { error: 'unexpected newline encountered while parsing option name' };
      if (eq < 0) return { error: 'EOF' };
      i = eq + 1;
      for (;;) {
        const { line, eof } = toEol();
        if (line.trim() === '' || !line.endsWith('\\') || eof) break;
      }
      sections.push(section);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Translation, section by section (butane `base/v0_5/translate.go`).

type ResourceKind = 'contents' | 'append' | 'merge' | 'replace' | 'ca';

/** `source`, `inline` or `local` as a resource whose `source` is a data URL (Butane's MakeDataURL). */
function translateResource(ctx: Ctx, at: At, kind: ResourceKind): IgnitionResource | undefined {
  const f = readMap(ctx, at, ['source', 'inline', 'local', 'compression', 'http_headers', 'verification']);
  const given = (['local', 'inline', 'source'] as const).filter(
    (k) => f.has(k) && !isNull(ctx, f.get(k)!.node),
  );
  if (given.length > 1) {
    const last = given[given.length - 1]!;
    fail(
      ctx,
      INVALID,
      f.get(last)!,
      `only one of the following can be set: inline, local, source (got ${given.join(' and ')})`,
    );
  }
  let source = readString(ctx, f.get('source'));
  let compression = readString(ctx, f.get('compression'));
  const headers = readList(ctx, f.get('http_headers')).map((item) => {
    const h = readMap(ctx, item, ['name', 'value']);
    const name = readString(ctx, h.get('name')) ?? '';
    const value = readString(ctx, h.get('value'));
    if (name === '') fail(ctx, INVALID, h.get('name') ?? item, 'HTTP header name can not be empty');
    if (value === '') fail(ctx, INVALID, h.get('value')!, `HTTP header ${name} has an empty value`);
    return { at: item, value: compact<{ name: string; value?: string }>({ name, value })! };
  });
  const verification = readMap(ctx, f.get('verification'), ['hash']);
  const hash = readString(ctx, verification.get('hash'));

  if (compression !== undefined && compression !== '' && compression !== 'gzip') {
    fail(
      ctx,
      INVALID,
      f.get('compression')!,
      `invalid compression ${JSON.stringify(compression)}: expected "gzip" or ""`,
    );
  }
  const inlineAt = f.get('inline');
  const localAt = f.get('local');
  let bytes: Uint8Array | undefined;
  let bytesAt: At | undefined;
  const local = readString(ctx, localAt);
  if (local !== undefined) {
    bytes = readLocal(ctx, localAt!, local);
    bytesAt = localAt;
  }
  const inline = readBytes(ctx, inlineAt);
  if (inline !== undefined) {
    bytes = inline;
    bytesAt = inlineAt;
  }
  if (bytes !== undefined) {
    // Butane checks the raw bytes as an Ignition config even when compression is set.
    if (kind === 'merge' || kind === 'replace') checkIgnitionConfig(ctx, bytesAt!, bytes);
    if (compression === undefined || compression === '') {
      const url = makeDataUrl(bytes);
      source = url.source;
      compression = url.compression;
    } else {
      // Contents the user compressed: choose an encoding, never compress again.
      source = makeDataUrl(bytes, { allowCompression: false }).source;
    }
  } else if (source !== undefined && source !== '') {
    checkSourceUrl(ctx, f.get('source')!, source);
  }

  if (hash !== undefined) {
    if (source === undefined) fail(ctx, INVALID, verification.get('hash')!, 'verification needs a source');
    checkHash(ctx, verification.get('hash')!, hash);
  }
  if (headers.length > 0) {
    const headersAt = f.get('http_headers')!;
    const scheme = source === undefined || source === '' ? undefined : urlScheme(source);
    if (scheme === undefined || 'error' in scheme)
      fail(ctx, INVALID, headersAt, 'HTTP headers need an http or https source');
    if (scheme.scheme !== 'http' && scheme.scheme !== 'https') {
      fail(ctx, INVALID, headersAt, `HTTP headers can not be used with a ${scheme.scheme} source`);
    }
    checkDups(
      ctx,
      headers.map((h) => ({ key: h.value.name, at: h.at })),
      'HTTP header',
    );
  }
  if ((kind === 'merge' || kind === 'ca') && (source === undefined || source === '')) {
    fail(ctx, INVALID, at, 'source is required: set source, inline or local');
  }
  return compact<IgnitionResource>({
    source,
    compression,
    httpHeaders: headers.map((h) => h.value),
    verification: compact({ hash }),
  });
}

/** Checks inline or local contents of `ignition.config` as an Ignition config, as Butane does. */
function checkIgnitionConfig(ctx: Ctx, at: At, bytes: Uint8Array): void {
  const text = utf8.decode(bytes);
  try {
    JSON.parse(text);
    parseIgnition(text, { source: `${ctx.source}: ${formatPath(at.path)}` });
  } catch (e) {
    fail(ctx, INVALID, at, `not a valid Ignition config: ${(e as Error).message}`, e);
  }
}

interface Placed<T> {
  value: T;
  at: At;
}

function translateOwner(ctx: Ctx, at: At | undefined): { id?: number; name?: string } | undefined {
  if (at === undefined) return undefined;
  const f = readMap(ctx, at, ['id', 'name']);
  const id = readInt(ctx, f.get('id'));
  const name = readString(ctx, f.get('name'));
  if (id !== undefined && name !== undefined && name !== '')
    fail(ctx, INVALID, at, 'cannot set both id and name');
  return compact({ id, name });
}

const NODE_FIELDS = ['path', 'overwrite', 'user', 'group'] as const;

function translateNode(ctx: Ctx, item: At, f: Map<string, At>): IgnitionNode {
  const path = checkNodePath(ctx, f.get('path') ?? item, readString(ctx, f.get('path')));
  return compact<IgnitionNode>({
    path,
    overwrite: readBool(ctx, f.get('overwrite')),
    user: translateOwner(ctx, f.get('user')),
    group: translateOwner(ctx, f.get('group')),
  })!;
}

// butane base/util CheckForDecimalMode.
function decimalModeToOctal(mode: number): number | undefined {
  if (mode < 0 || mode > 7777) return undefined;
  let out = 0;
  for (let divisor = 1000; divisor > 0; divisor = Math.floor(divisor / 10)) {
    const digit = Math.floor(mode / divisor) % 10;
    if (digit > 7) return undefined;
    out = out * 8 + digit;
  }
  return out;
}

function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  let hadR = false;
  let hadW = false;
  let hadX = false;
  for (const perm of [mode & 0o7, (mode & 0o70) >> 3, (mode & 0o700) >> 6]) {
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    if (x && hadR && !hadX) return false;
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX) return false;
    if ((mode & 0o4000) !== 0) return false;
    if ((mode & 0o3000) !== 0 && !hadW) return false;
  } else {
    if ((mode & 0o6000) !== 0) {
      if (!hadX) return false;
      if ((mode & 2) !== 0) return false;
    }
    if ((mode & 0o1000) !== 0) return false;
  }
  return true;
}

function readMode(ctx: Ctx, at: At | undefined, directory: boolean): number | undefined {
  const mode = readInt(ctx, at);
  if (mode === undefined || at === undefined) return undefined;
  const octal = `0o${mode.toString(8)}`;
  if (mode < 0 || mode > 0o7777)
    fail(ctx, INVALID, at, `illegal mode ${mode} (${octal}): expected 0 to 0o7777`);
  const corrected = decimalModeToOctal(mode);
  if (corrected !== undefined && !isTypicalMode(mode, directory) && isTypicalMode(corrected, directory)) {
    fail(
      ctx,
      INVALID,
      at,
      `mode ${mode} is ${octal} in octal, which is unreasonable; write 0${mode} for 0o${corrected.toString(8)} (remember the leading zero)`,
    );
  }
  if ((mode & 0o7000) !== 0) {
    fail(
      ctx,
      INVALID,
      at,
      `mode ${octal} has setuid/setgid/sticky bits, which Ignition 3.4.0 does not support`,
    );
  }
  return mode;
}

function translateFile(ctx: Ctx, item: At): IgnitionFile {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'mode', 'contents', 'append']);
  const node = translateNode(ctx, item, f);
  const mode = readMode(ctx, f.get('mode'), false);
  const contents = f.has('contents') ? translateResource(ctx, f.get('contents')!, 'contents') : undefined;
  const append = readList(ctx, f.get('append')).map((a) => translateResource(ctx, a, 'append') ?? {});
  if (node.overwrite === true && (contents?.source === undefined || contents.source === null)) {
    fail(
      ctx,
      INVALID,
      f.get('overwrite')!,
      'overwrite must be false if contents has no source, inline or local',
    );
  }
  return compact<IgnitionFile>({ ...node, contents, append, mode })!;
}

function translateDirectory(ctx: Ctx, item: At): IgnitionDirectory {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'mode']);
  const node = translateNode(ctx, item, f);
  return compact<IgnitionDirectory>({ ...node, mode: readMode(ctx, f.get('mode'), true) })!;
}

function translateLink(ctx: Ctx, item: At): IgnitionLink {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'target', 'hard']);
  const node = translateNode(ctx, item, f);
  const target = readString(ctx, f.get('target'));
  const hard = readBool(ctx, f.get('hard'));
  if (target === undefined || target === '')
    fail(ctx, INVALID, f.get('target') ?? item, 'link target is required');
  if (hard === true) {
    for (const owner of ['user', 'group'] as const) {
      const o = readMap(ctx, f.get(owner), ['id', 'name']);
      for (const k of ['id', 'name']) {
        if (o.has(k) && !isNull(ctx, o.get(k)!.node))
          fail(ctx, INVALID, o.get(k)!, `${owner} is ignored for a hard link`);
      }
    }
  }
  return compact<IgnitionLink>({ ...node, target, hard })!;
}

const UNIT_EXTENSIONS = [
  '.service',
  '.socket',
  '.device',
  '.mount',
  '.automount',
  '.swap',
  '.target',
  '.path',
  '.timer',
  '.snapshot',
  '.slice',
  '.scope',
];

/** `contents` or `contents_local` of a unit or drop-in, checked as a unit file. */
function unitContents(
  ctx: Ctx,
  f: Map<string, At>,
): { contents: string | undefined; at: At | undefined; sections: string[] } {
  const set = (k: string): boolean => f.has(k) && !isNull(ctx, f.get(k)!.node);
  if (set('contents') && set('contents_local')) {
    fail(
      ctx,
      INVALID,
      f.get('contents_local')!,
      'only one of the following can be set: contents, contents_local',
    );
  }
  let contents = readString(ctx, f.get('contents'));
  let at = f.get('contents');
  const local = readString(ctx, f.get('contents_local'));
  if (local !== undefined && local !== '') {
    at = f.get('contents_local')!;
    contents = utf8.decode(readLocal(ctx, at, local));
  }
  let sections: string[] = [];
  if (contents !== undefined) {
    const parsed = parseUnitContents(contents);
    if ('error' in parsed) fail(ctx, INVALID, at!, `invalid unit content: ${parsed.error}`);
    sections = parsed.sections;
  }
  return { contents, at, sections };
}

interface TranslatedUnit {
  unit: IgnitionUnit;
  contentsAt: At | undefined;
  sections: string[];
  dropins: Array<Placed<IgnitionDropin>>;
}

function translateUnit(ctx: Ctx, item: At): TranslatedUnit {
  const f = readMap(ctx, item, ['name', 'enabled', 'mask', 'contents', 'contents_local', 'dropins']);
  const name = readString(ctx, f.get('name'));
  if (name === undefined || name === '') fail(ctx, INVALID, f.get('name') ?? item, 'unit name is required');
  if (!UNIT_EXTENSIONS.includes(goExt(name))) {
    fail(
      ctx,
      INVALID,
      f.get('name')!,
      `invalid systemd unit name ${JSON.stringify(name)}: expected a unit type suffix such as .service`,
    );
  }
  const enabled = readBool(ctx, f.get('enabled'));
  const mask = readBool(ctx, f.get('mask'));
  const { contents, at, sections } = unitContents(ctx, f);
  if (enabled === true && contents !== undefined && contents !== '' && !sections.includes('Install')) {
    fail(ctx, INVALID, at!, `unit "${name}" is enabled, but has no install section so enable does nothing`);
  }
  const dropins = readList(ctx, f.get('dropins')).map((d) => {
    const df = readMap(ctx, d, ['name', 'contents', 'contents_local']);
    const dropinName = readString(ctx, df.get('name'));
    if (dropinName === undefined || dropinName === '')
      fail(ctx, INVALID, df.get('name') ?? d, 'drop-in name is required');
    if (goExt(dropinName) !== '.conf') {
      fail(
        ctx,
        INVALID,
        df.get('name')!,
        `invalid systemd drop-in name ${JSON.stringify(dropinName)}: expected a .conf suffix`,
      );
    }
    const dc = unitContents(ctx, df);
    return { at: d, value: compact<IgnitionDropin>({ name: dropinName, contents: dc.contents })! };
  });
  checkDups(
    ctx,
    dropins.map((d) => ({ key: d.value.name, at: d.at })),
    'drop-in',
  );
  const unit = compact<IgnitionUnit>({
    name,
    enabled,
    mask,
    contents,
    dropins: dropins.map((d) => d.value),
  })!;
  return { unit, contentsAt: at, sections, dropins };
}

function translateUser(
  ctx: Ctx,
  item: At,
): { user: IgnitionUser; keys: Array<{ key: string; at: At }>; groups: Array<{ key: string; at: At }> } {
  const f = readMap(ctx, item, [
    'name',
    'password_hash',
    'ssh_authorized_keys',
    'ssh_authorized_keys_local',
    'uid',
    'gecos',
    'home_dir',
    'no_create_home',
    'primary_group',
    'groups',
    'no_user_group',
    'no_log_init',
    'shell',
    'system',
    'should_exist',
  ]);
  const name = readString(ctx, f.get('name'));
  if (name === undefined || name === '') fail(ctx, INVALID, f.get('name') ?? item, 'user name is required');
  const keys = readStrings(ctx, f.get('ssh_authorized_keys')).map((k) => ({ key: k.value, at: k.at }));
  const localAt = f.get('ssh_authorized_keys_local');
  const locals = readStrings(ctx, localAt);
  if (locals.length > 0 && ctx.filesDir === undefined) {
    fail(ctx, READ_FAILED, localAt!, 'ssh_authorized_keys_local needs a files folder (filesDir)');
  }
  for (const local of locals) {
    const text = utf8.decode(readLocal(ctx, local.at, local.value));
    for (const line of text.split(/\r?\n/)) if (line !== '') keys.push({ key: line, at: local.at });
  }
  const groups = readStrings(ctx, f.get('groups')).map((g) => ({ key: g.value, at: g.at }));
  const user = compact<IgnitionUser>({
    name,
    passwordHash: readString(ctx, f.get('password_hash')),
    sshAuthorizedKeys: keys.map((k) => k.key),
    uid: readInt(ctx, f.get('uid')),
    gecos: readString(ctx, f.get('gecos')),
    homeDir: readString(ctx, f.get('home_dir')),
    noCreateHome: readBool(ctx, f.get('no_create_home')),
    primaryGroup: readString(ctx, f.get('primary_group')),
    groups: groups.map((g) => g.key),
    noUserGroup: readBool(ctx, f.get('no_user_group')),
    noLogInit: readBool(ctx, f.get('no_log_init')),
    shell: readString(ctx, f.get('shell')),
    system: readBool(ctx, f.get('system')),
    shouldExist: readBool(ctx, f.get('should_exist')),
  })!;
  return { user, keys, groups };
}

function translateGroup(ctx: Ctx, item: At): IgnitionGroup {
  const f = readMap(ctx, item, ['name', 'gid', 'password_hash', 'system', 'should_exist']);
  const name = readString(ctx, f.get('name'));
  if (name === undefined || name === '') fail(ctx, INVALID, f.get('name') ?? item, 'group name is required');
  return compact<IgnitionGroup>({
    name,
    gid: readInt(ctx, f.get('gid')),
    passwordHash: readString(ctx, f.get('password_hash')),
    system: readBool(ctx, f.get('system')),
    shouldExist: readBool(ctx, f.get('should_exist')),
  })!;
}

function checkProxyUrl(ctx: Ctx, at: At | undefined, url: string | undefined, httpsProxy: boolean): void {
  if (at === undefined || url === undefined) return;
  const parsed = urlScheme(url);
  if ('error' in parsed)
    fail(ctx, INVALID, at, `proxy ${JSON.stringify(url)} is not a valid URL: ${parsed.error}`);
  if (parsed.scheme !== 'http' && parsed.scheme !== 'https') {
    fail(ctx, INVALID, at, `proxy ${JSON.stringify(url)} must be an http:// or https:// URL`);
  }
  if (httpsProxy && parsed.scheme === 'http') {
    fail(ctx, INVALID, at, `insecure plaintext HTTP proxy ${JSON.stringify(url)} for HTTPS resources`);
  }
}

function translateIgnition(ctx: Ctx, at: At | undefined): IgnitionMeta {
  const f = readMap(
    ctx,
    at,
    ['config', 'timeouts', 'security', 'proxy'],
    {},
    {
      version: `ignition.version is not allowed in Butane: the top-level version ${BUTANE_VERSION} makes Ignition ${IGNITION_VERSION}`,
    },
  );
  const config = readMap(ctx, f.get('config'), ['merge', 'replace']);
  const merge = readList(ctx, config.get('merge')).map((m) => ({
    at: m,
    value: translateResource(ctx, m, 'merge') ?? {},
  }));
  checkDups(
    ctx,
    merge.map((m) => ({ key: m.value.source ?? '', at: m.at })),
    'merged config source',
  );
  const replace = config.has('replace')
    ? translateResource(ctx, config.get('replace')!, 'replace')
    : undefined;
  const timeouts = readMap(ctx, f.get('timeouts'), ['http_response_headers', 'http_total']);
  const security = readMap(ctx, f.get('security'), ['tls']);
  const tls = readMap(ctx, security.get('tls'), ['certificate_authorities']);
  const cas = readList(ctx, tls.get('certificate_authorities')).map((c) => ({
    at: c,
    value: translateResource(ctx, c, 'ca') ?? {},
  }));
  checkDups(
    ctx,
    cas.map((c) => ({ key: c.value.source ?? '', at: c.at })),
    'certificate authority source',
  );
  const proxy = readMap(ctx, f.get('proxy'), ['http_proxy', 'https_proxy', 'no_proxy']);
  const httpProxy = readString(ctx, proxy.get('http_proxy'));
  const httpsProxy = readString(ctx, proxy.get('https_proxy'));
  checkProxyUrl(ctx, proxy.get('http_proxy'), httpProxy, false);
  checkProxyUrl(ctx, proxy.get('https_proxy'), httpsProxy, true);
  const noProxy = readStrings(ctx, proxy.get('no_proxy'));
  checkDups(
    ctx,
    noProxy.map((n) => ({ key: n.value, at: n.at })),
    'no_proxy entry',
  );
  return compact<IgnitionMeta>({
    version: IGNITION_VERSION,
    config: compact({ merge: merge.map((m) => m.value), replace }),
    timeouts: compact({
      httpResponseHeaders: readInt(ctx, timeouts.get('http_response_headers')),
      httpTotal: readInt(ctx, timeouts.get('http_total')),
    }),
    security: compact({ tls: compact({ certificateAuthorities: cas.map((c) => c.value) }) }),
    proxy: compact({ httpProxy, httpsProxy, noProxy: noProxy.map((n) => n.value) }),
  })!;
}

const STORAGE_UNSUPPORTED: Unsupported = {
  disks: 'partitioning is outside the Butane subset the SDK translates; use an Ignition config for it',
  raid: 'RAID is outside the Butane subset the SDK translates; use an Ignition config for it',
  luks: 'LUKS is outside the Butane subset the SDK translates; use an Ignition config for it',
  filesystems: 'filesystems are outside the Butane subset the SDK translates; use an Ignition config for it',
  trees: 'local trees are not supported; list the files under storage.files with contents.local',
};
const ROOT_UNSUPPORTED: Unsupported = {
  boot_device: 'boot disk encryption and mirroring are outside the Butane subset the SDK translates',
  grub: 'GRUB users are outside the Butane subset the SDK translates',
};

/** Checks across storage and systemd (Ignition's Storage and Config validation). */
function checkStorage(
  ctx: Ctx,
  lists: {
    directories: Array<Placed<IgnitionDirectory>>;
    files: Array<Placed<IgnitionFile>>;
    links: Array<Placed<IgnitionLink>>;
  },
  units: TranslatedUnit[],
): void {
  const { directories, files, links } = lists;
  const nodes = [
    ...directories.map((d) => ({ ...d, kind: 'directory' })),
    ...files.map((d) => ({ ...d, kind: 'file' })),
    ...links.map((d) => ({ ...d, kind: 'link' })),
  ];
  checkDups(
    ctx,
    nodes.map((n) => ({ key: n.value.path, at: n.at })),
    'path',
  );
  for (const n of nodes) {
    for (const l of links) {
      if (n.value.path.startsWith(`${l.value.path}/`)) {
        fail(
          ctx,
          INVALID,
          n.at,
          `${n.kind} path ${n.value.path} is under ${l.value.path}, a link in this config`,
        );
      }
    }
  }
  for (const l of links) {
    if (l.value.hard !== true) continue;
    const raw = l.value.target!;
    const target = raw.startsWith('/') ? normalizePosix(raw) : normalizePosix(`${l.value.path}/${raw}`);
    if (directories.some((d) => d.value.path === target))
      fail(ctx, INVALID, l.at, `hard link target ${target} is a directory`);
  }
  const unitPaths = new Set<string>();
  for (const { unit } of units) {
    if (unit.contents != null && unit.contents !== '') unitPaths.add(`/etc/systemd/system/${unit.name}`);
    for (const d of unit.dropins ?? []) {
      if (d.contents != null && d.contents !== '')
        unitPaths.add(`/etc/systemd/system/${unit.name}.d/${d.name}`);
    }
  }
  for (const n of nodes) {
    if (unitPaths.has(n.value.path)) {
      fail(
        ctx,
        INVALID,
        { mark: undefined, path: [...n.at.path, 'path'] },
        `path ${n.value.path} conflicts with a systemd unit or drop-in`,
      );
    }
  }
}

/** Go's `path.Clean` for an absolute path. */
function normalizePosix(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

function checkInstanceUnits(ctx: Ctx, units: TranslatedUnit[]): void {
  const byName = new Map(units.map((u) => [u.unit.name, u]));
  units.forEach((u, index) => {
    const m = /^(.+?)@(.+?)\.service$/.exec(u.unit.name);
    if (m === null || u.unit.enabled !== true) return;
    const template = `${m[1]}@.service`;
    const t = byName.get(template);
    if (
      t === undefined ||
      t.unit.contents == null ||
      t.unit.contents === '' ||
      t.sections.includes('Install')
    )
      return;
    fail(
      ctx,
      INVALID,
      u.contentsAt ?? { mark: undefined, path: ['systemd', 'units', index, 'contents'] },
      `template unit "${template}" for "${u.unit.name}" doesn't have Install section`,
    );
  });
}

/**
 * Translates a Butane config (`variant: fcos`, `version: 1.5.0`) to an Ignition 3.4.0 config, as
 * `butane --strict --files-dir <filesDir>` v0.25.1 does. Throws an {@link IgnitionError} with the
 * source, line, column and path of the first problem: `OCNE_IGNITION_INVALID` for YAML, type,
 * unknown-key and validation errors, `OCNE_BUTANE_UNSUPPORTED` for Butane fields, variants and
 * versions outside the supported subset, `OCNE_IGNITION_READ_FAILED` for local files that cannot
 * be read or lie outside `filesDir`.
 */
export function translateButane(text: string, options: ButaneOptions): IgnitionConfig {
  const { located } = parseLocated(text, options.source);
  const ctx: Ctx = {
    source: options.source,
    located,
    filesDir: options.filesDir,
    readFile: options.readFile,
  };
  const rootNode = located.doc.contents;
  const root: At = { node: deref(ctx, rootNode), mark: rootNode, path: [] };
  if (!isMap(root.node)) {
    fail(
      ctx,
      INVALID,
      root,
      `expected a Butane config: a mapping with variant: ${BUTANE_VARIANT} and version: ${BUTANE_VERSION}`,
    );
  }
  // variant and version first: the other keys depend on them.
  const pairs = root.node.items;
  const top = (name: string): At | undefined => {
    const pair = pairs.find((p) => isScalar(p.key) && textOf(p.key) === name);
    return pair === undefined
      ? undefined
      : { node: deref(ctx, pair.value), mark: pair.value ?? pair.key, path: [name] };
  };
  const variantAt = top('variant');
  const variant = readString(ctx, variantAt);
  if (variant === undefined || variant === '') {
    fail(
      ctx,
      INVALID,
      variantAt ?? { mark: rootNode, path: ['variant'] },
      `variant is required: this must be variant: ${BUTANE_VARIANT}`,
    );
  }
  const versionAt = top('version');
  const version = readString(ctx, versionAt);
  if (variant !== BUTANE_VARIANT) {
    fail(
      ctx,
      UNSUPPORTED,
      variantAt!,
      `Butane variant ${JSON.stringify(variant)} is not supported: only variant ${BUTANE_VARIANT}, version ${BUTANE_VERSION} is`,
    );
  }
  if (version === undefined || version === '')
    fail(
      ctx,
      INVALID,
      versionAt ?? { mark: rootNode, path: ['version'] },
      `version is required: this must be version: ${BUTANE_VERSION}`,
    );
  if (version !== BUTANE_VERSION) {
    fail(
      ctx,
      UNSUPPORTED,
      versionAt!,
      `Butane ${BUTANE_VARIANT} version ${JSON.stringify(version)} is not supported: only ${BUTANE_VERSION} (Ignition ${IGNITION_VERSION}) is`,
    );
  }

  const f = readMap(
    ctx,
    root,
    ['variant', 'version', 'ignition', 'storage', 'systemd', 'passwd', 'kernel_arguments'],
    ROOT_UNSUPPORTED,
  );
  const ignition = translateIgnition(ctx, f.get('ignition'));

  const storage = readMap(ctx, f.get('storage'), ['files', 'directories', 'links'], STORAGE_UNSUPPORTED);
  const files = readList(ctx, storage.get('files')).map((at) => ({ at, value: translateFile(ctx, at) }));
  const directories = readList(ctx, storage.get('directories')).map((at) => ({
    at,
    value: translateDirectory(ctx, at),
  }));
  const links = readList(ctx, storage.get('links')).map((at) => ({ at, value: translateLink(ctx, at) }));

  const systemd = readMap(ctx, f.get('systemd'), ['units']);
  const units = readList(ctx, systemd.get('units')).map((at) => ({ at, ...translateUnit(ctx, at) }));
  checkDups(
    ctx,
    units.map((u) => ({ key: u.unit.name, at: u.at })),
    'unit',
  );
  checkInstanceUnits(ctx, units);
  checkStorage(ctx, { directories, files, links }, units);

  const passwd = readMap(ctx, f.get('passwd'), ['users', 'groups']);
  const users = readList(ctx, passwd.get('users')).map((at) => ({ at, ...translateUser(ctx, at) }));
  checkDups(
    ctx,
    users.map((u) => ({ key: u.user.name, at: u.at })),
    'user',
  );
  for (const u of users) {
    checkDups(ctx, u.keys, 'SSH key');
    checkDups(ctx, u.groups, 'group');
  }
  const groups = readList(ctx, passwd.get('groups')).map((at) => ({ at, value: translateGroup(ctx, at) }));
  checkDups(
    ctx,
    groups.map((g) => ({ key: g.value.name, at: g.at })),
    'group',
  );

  const kargs = readMap(ctx, f.get('kernel_arguments'), ['should_exist', 'should_not_exist']);
  const shouldExist = readStrings(ctx, kargs.get('should_exist'));
  const shouldNotExist = readStrings(ctx, kargs.get('should_not_exist'));
  checkDups(
    ctx,
    [...shouldExist, ...shouldNotExist].map((k) => ({ key: k.value, at: k.at })),
    'kernel argument',
  );

  const config: IgnitionConfig = { ignition };
  const storageOut = compact({
    files: files.map((x) => x.value),
    directories: directories.map((x) => x.value),
    links: links.map((x) => x.value),
  });
  if (storageOut !== undefined) config.storage = storageOut;
  const systemdOut = compact({ units: units.map((u) => u.unit) });
  if (systemdOut !== undefined) config.systemd = systemdOut;
  const passwdOut = compact({ users: users.map((u) => u.user), groups: groups.map((g) => g.value) });
  if (passwdOut !== undefined) config.passwd = passwdOut;
  const kargsOut = compact({
    shouldExist: shouldExist.map((k) => k.value),
    shouldNotExist: shouldNotExist.map((k) => k.value),
  });
  if (kargsOut !== undefined) config.kernelArguments = kargsOut;
  return config;
}
