/**
 * Reading a Butane document: YAML text to the positioned document, the `variant` and `version`
 * it declares, and its fields read as Butane's Go decoder (yaml.v3 into typed fields) reads them:
 * `mode: 0644` is octal, `enabled: yes` is true, `inline: 1` is the text `1`, `!!binary` gives
 * bytes. Every value keeps its node and path, so a problem anywhere can point at it with {@link fail}.
 *
 * `local` files are read here too, through the injected `readFile` ({@link readLocal} is the one
 * function that reads them); this module never touches the file system itself.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { OcneErrorCode } from '@ocne/core';
import { isAlias, isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { IgnitionError } from '../errors.js';
import { formatPath, type LocatedDocument, locate, parseLocated } from '../parse.js';
import { IGNITION_VERSION } from '../spec.js';

/** The Butane variant users meet first (Fedora CoreOS); see {@link BUTANE_SPECS} for all. */
export const BUTANE_VARIANT = 'fcos';
/** The newest fcos version translated (to Ignition 3.4.0); see {@link BUTANE_SPECS} for all. */
export const BUTANE_VERSION = '1.5.0';

/**
 * The Butane specs translated, as butane v0.25.1 registers them: variant, then version, then the
 * Ignition spec version Butane makes of it (the SDK upgrades it to 3.4.0, as upstream's
 * `ParseCompatibleVersion` does). These are every spec whose Ignition is 3.4 or older, except
 * `openshift`, which makes MachineConfigs for OpenShift's Machine Config Operator (with its own
 * required `metadata` and rules for that operator), not Ignition for an OCK node.
 */
export const BUTANE_SPECS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  fcos: {
    '1.0.0': '3.0.0',
    '1.1.0': '3.1.0',
    '1.2.0': '3.2.0',
    '1.3.0': '3.2.0',
    '1.4.0': '3.3.0',
    '1.5.0': '3.4.0',
  },
  flatcar: { '1.0.0': '3.3.0', '1.1.0': '3.4.0' },
  r4e: { '1.0.0': '3.3.0', '1.1.0': '3.4.0' },
  fiot: { '1.0.0': '3.4.0' },
};

/** Specs Butane knows that make an Ignition newer than 3.4, which neither the SDK nor upstream reads. */
const NEWER_SPECS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  fcos: { '1.6.0': '3.5.0', '1.7.0-experimental': '3.6.0-experimental' },
  flatcar: { '1.2.0-experimental': '3.6.0-experimental' },
  r4e: { '1.2.0-experimental': '3.6.0-experimental' },
  fiot: { '1.1.0-experimental': '3.6.0-experimental' },
};

/** The Butane spec of a document: which fields exist and which checks apply. */
export interface ButaneSpec {
  variant: string;
  version: string;
  /** The Ignition spec version Butane makes of it. */
  ignition: string;
  /**
   * Butane's base spec, `base/v0_<base>`, which decides the fields: 1 (Ignition 3.0) has no
   * `local`, `http_headers` or `proxy`; 3 adds `should_exist` for users and groups; 4 adds
   * `kernel_arguments`; 5 adds `contents_local` and `ssh_authorized_keys_local`.
   */
  base: number;
}

/** The versions of each variant, for messages: `fcos 1.0.0 to 1.5.0, flatcar 1.0.0 or 1.1.0, …`. */
function specList(): string {
  return Object.entries(BUTANE_SPECS)
    .map(([variant, versions]) => {
      const list = Object.keys(versions);
      return list.length > 2 ? `${variant} ${list[0]} to ${list.at(-1)}` : `${variant} ${list.join(' or ')}`;
    })
    .join(', ');
}

/** The first version of the document's variant whose base spec is `base`, for "added in" hints. */
export function firstVersionWith(spec: ButaneSpec, base: number): string | undefined {
  const versions = BUTANE_SPECS[spec.variant] ?? {};
  return Object.keys(versions).find((v) => Number(versions[v]!.split('.')[1]) + 1 >= base);
}

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

/** A path into the document, as keys and list indexes. */
export type YamlPath = Array<string | number>;

/** The document being read and what reading its `local` files needs. */
export interface Ctx {
  source: string;
  spec: ButaneSpec;
  located: LocatedDocument;
  filesDir: string | undefined;
  readFile: ((absolutePath: string) => Uint8Array) | undefined;
}

/** A value in the document: its node (aliases resolved), where to point for errors, and its path. */
export interface At {
  node: unknown;
  /** The node an error about the value points at (the value, or the key when there is no value). */
  mark: unknown;
  path: YamlPath;
}

/** A value read or translated from the document, with where it came from. */
export interface Placed<T> {
  value: T;
  at: At;
}

/** Throws an {@link IgnitionError} pointing at the node of `at` (or, without one, at its path). */
export function fail(
  ctx: Ctx,
  code: OcneErrorCode,
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

/** True for a node yaml.v3 decodes as null (no value, `~`, `null`, `!!null`). */
export function isNull(ctx: Ctx, node: unknown): boolean {
  const n = deref(ctx, node);
  if (n === null || n === undefined) return true;
  if (!isScalar(n)) return false;
  const tag = shortTag(n.tag);
  if (tag === '!!null') return true;
  return tag === '' && !isQuoted(n) && NULLS.has(textOf(n));
}

/** True for a value Butane translates to nothing: null, an empty list, or a mapping of such values. */
export function isEmpty(ctx: Ctx, node: unknown): boolean {
  const n = deref(ctx, node);
  if (isNull(ctx, n)) return true;
  if (isSeq(n)) return n.items.length === 0;
  if (isMap(n)) return n.items.every((pair) => isEmpty(ctx, pair.value));
  return false;
}

/** True when the mapping has the key with a non-null value. */
export const isSet = (ctx: Ctx, f: Map<string, At>, key: string): boolean =>
  f.has(key) && !isNull(ctx, f.get(key)!.node);

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
  if (!isScalar(at.node))
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected ${expected}, got ${describe(ctx, at.node)}`);
  return at.node;
}

function binary(ctx: Ctx, at: At, s: Scalar): Uint8Array {
  const b64 = textOf(s).replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
    fail(ctx, 'OCNE_IGNITION_INVALID', at, '!!binary value contains invalid base64 data');
  }
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A string field: any scalar's text (`1`, `yes` and `2024-01-01` stay as written), `!!binary` decoded. */
export function readString(ctx: Ctx, at: At | undefined): string | undefined {
  const text = readText(ctx, at);
  return text instanceof Uint8Array ? utf8.decode(text) : text;
}

/** Like {@link readString}, as bytes (so `!!binary` contents stay binary). */
export function readBytes(ctx: Ctx, at: At | undefined): Uint8Array | undefined {
  const text = readText(ctx, at);
  return typeof text === 'string' ? encoder.encode(text) : text;
}

/** A string field as written, or the bytes of a `!!binary` one. */
function readText(ctx: Ctx, at: At | undefined): string | Uint8Array | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'a string');
  if (s === undefined) return undefined;
  return shortTag(s.tag) === '!!binary' ? binary(ctx, at, s) : textOf(s);
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
export function readInt(ctx: Ctx, at: At | undefined): number | undefined {
  if (at === undefined) return undefined;
  const s = scalarAt(ctx, at, 'a whole number');
  if (s === undefined) return undefined;
  const tag = shortTag(s.tag);
  const text = textOf(s);
  const resolvable = tag === '!!int' || tag === '!!float' || (tag === '' && !isQuoted(s));
  const value = resolvable ? resolveNumber(text) : undefined;
  if (value === undefined)
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected a whole number, got ${JSON.stringify(text)}`);
  if (!Number.isInteger(value))
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected a whole number, got ${text}`);
  if (!Number.isSafeInteger(value)) fail(ctx, 'OCNE_IGNITION_INVALID', at, `${text} is too large`);
  return value;
}

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** A boolean field: `true`/`false` (any case yaml.v3 knows), or YAML 1.1's `yes`, `no`, `on`, `off`, `y`, `n`. */
export function readBool(ctx: Ctx, at: At | undefined): boolean | undefined {
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
  return fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected true or false, got ${JSON.stringify(text)}`);
}

/** The items of a list field (null is an empty list). A null item is an error (Butane drops it silently). */
export function readList(ctx: Ctx, at: At | undefined): At[] {
  if (at === undefined || isNull(ctx, at.node)) return [];
  if (!isSeq(at.node))
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected a list, got ${describe(ctx, at.node)}`);
  return at.node.items.map((item, i) => {
    const child: At = { node: deref(ctx, item), mark: item, path: [...at.path, i] };
    if (isNull(ctx, item))
      fail(ctx, 'OCNE_IGNITION_INVALID', child, 'expected a value, got an empty list item');
    return child;
  });
}

/** A list of strings, each with where it is. */
export function readStrings(ctx: Ctx, at: At | undefined): Array<Placed<string>> {
  return readList(ctx, at).map((item) => ({ value: readString(ctx, item)!, at: item }));
}

/** Fields Butane knows that are outside the supported subset, with what to say about them. */
export type Unsupported = Record<string, string>;

/**
 * The fields of a mapping (null is an empty mapping). Unknown keys are errors naming the
 * allowed ones; known-but-unsupported Butane fields are errors unless empty; `invalid` keys are
 * errors with their own message. `later` holds the fields that exist from a base spec on
 * (`{ kernel_arguments: 4 }`): allowed in that spec and newer, and unknown, with a hint saying
 * which version has them, in older ones, as Butane refuses them there.
 */
export function readMap(
  ctx: Ctx,
  at: At | undefined,
  allowedAlways: readonly string[],
  unsupported: Unsupported = {},
  invalid: Record<string, string> = {},
  later: Readonly<Record<string, number>> = {},
): Map<string, At> {
  const out = new Map<string, At>();
  if (at === undefined || isNull(ctx, at.node)) return out;
  if (!isMap(at.node))
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `expected a mapping, got ${describe(ctx, at.node)}`);
  const allowed = [...allowedAlways, ...Object.keys(later).filter((k) => later[k]! <= ctx.spec.base)];
  for (const pair of at.node.items) {
    const key = deref(ctx, pair.key);
    const name = isScalar(key) ? textOf(key) : describe(ctx, key);
    const value = deref(ctx, pair.value);
    const child: At = { node: value, mark: pair.value ?? pair.key, path: [...at.path, name] };
    const keyAt = { mark: pair.key, path: child.path };
    const why = unsupported[name];
    if (why !== undefined) {
      if (isNull(ctx, value) || ((isMap(value) || isSeq(value)) && value.items.length === 0)) continue;
      fail(ctx, 'OCNE_BUTANE_UNSUPPORTED', keyAt, `${name} is not supported: ${why}`);
    }
    const wrong = invalid[name];
    if (wrong !== undefined) fail(ctx, 'OCNE_IGNITION_INVALID', keyAt, wrong);
    if (!allowed.includes(name)) {
      const { variant, version } = ctx.spec;
      const since = later[name] === undefined ? undefined : firstVersionWith(ctx.spec, later[name]);
      const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const hint =
        since !== undefined
          ? ` (Butane ${variant} ${version} does not have it: ${variant} ${since} and later do)`
          : snake !== name && allowed.includes(snake)
            ? ` (Butane spells it "${snake}")`
            : '';
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        keyAt,
        `unknown key "${name}"${hint}; allowed here: ${allowed.join(', ')}`,
      );
    }
    out.set(name, child);
  }
  return out;
}

/** Fails with `message` at `at` unless a required string field is set and not empty. */
export function required(
  ctx: Ctx,
  value: string | undefined,
  at: { mark?: unknown; path: YamlPath },
  message: string,
): asserts value is string {
  if (value === undefined || value === '') fail(ctx, 'OCNE_IGNITION_INVALID', at, message);
}

/**
 * Reads the document: YAML to the positioned tree, then `variant` and `version`, first, since
 * what every other key means depends on them (the spec is set on the context). Returns the root
 * mapping, not yet read.
 */
export function readButane(text: string, options: ButaneOptions): { ctx: Ctx; root: At } {
  const { located } = parseLocated(text, options.source);
  const ctx: Ctx = {
    source: options.source,
    spec: { variant: BUTANE_VARIANT, version: BUTANE_VERSION, ignition: IGNITION_VERSION, base: 5 },
    located,
    filesDir: options.filesDir,
    readFile: options.readFile,
  };
  const rootNode = located.doc.contents;
  const root: At = { node: deref(ctx, rootNode), mark: rootNode, path: [] };
  if (!isMap(root.node)) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      root,
      `expected a Butane config: a mapping with variant and version, such as variant: ${BUTANE_VARIANT} and version: ${BUTANE_VERSION}`,
    );
  }
  const pairs = root.node.items;
  const top = (name: string): At | undefined => {
    const pair = pairs.find((p) => isScalar(p.key) && textOf(p.key) === name);
    return pair === undefined
      ? undefined
      : { node: deref(ctx, pair.value), mark: pair.value ?? pair.key, path: [name] };
  };
  const variantAt = top('variant');
  const variant = readString(ctx, variantAt);
  required(
    ctx,
    variant,
    variantAt ?? { mark: rootNode, path: ['variant'] },
    `variant is required, such as variant: ${BUTANE_VARIANT} (translated: ${specList()})`,
  );
  const versions = BUTANE_SPECS[variant];
  if (versions === undefined) {
    const why =
      variant === 'openshift'
        ? "makes MachineConfigs for OpenShift's Machine Config Operator, not Ignition for a node"
        : 'is not one Butane translates for OCK nodes';
    fail(
      ctx,
      'OCNE_BUTANE_UNSUPPORTED',
      variantAt!,
      `Butane variant ${JSON.stringify(variant)} ${why}: use ${specList()}`,
    );
  }
  const versionAt = top('version');
  const version = readString(ctx, versionAt);
  required(
    ctx,
    version,
    versionAt ?? { mark: rootNode, path: ['version'] },
    `version is required: the ${variant} versions translated are ${Object.keys(versions).join(', ')}`,
  );
  const ignition = versions[version];
  if (ignition === undefined) {
    const newer = NEWER_SPECS[variant]?.[version];
    fail(
      ctx,
      'OCNE_BUTANE_UNSUPPORTED',
      versionAt!,
      newer !== undefined
        ? `Butane ${variant} ${version} makes Ignition ${newer}, newer than the Ignition ${IGNITION_VERSION} nodes get: use ${variant} ${Object.keys(versions).join(', ')}`
        : `Butane ${variant} has no version ${JSON.stringify(version)}: the versions translated are ${Object.keys(versions).join(', ')}`,
    );
  }
  ctx.spec = { variant, version, ignition, base: Number(ignition.split('.')[1]) + 1 };
  return { ctx, root };
}

/**
 * The bytes of a `local` file: `local` must be a relative path that stays inside `filesDir`,
 * read through the injected `readFile`. The one place this package reads Butane's local files.
 */
export function readLocal(ctx: Ctx, at: At, local: string): Uint8Array {
  if (ctx.filesDir === undefined) {
    fail(
      ctx,
      'OCNE_IGNITION_READ_FAILED',
      at,
      `cannot read local file ${JSON.stringify(local)}: local paths need a files folder (filesDir)`,
    );
  }
  if (ctx.readFile === undefined) {
    fail(
      ctx,
      'OCNE_IGNITION_READ_FAILED',
      at,
      `cannot read local file ${JSON.stringify(local)}: no readFile was given`,
    );
  }
  if (isAbsolute(local)) {
    fail(
      ctx,
      'OCNE_IGNITION_READ_FAILED',
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
      'OCNE_IGNITION_READ_FAILED',
      at,
      `local path ${JSON.stringify(local)} is outside the files folder ${ctx.filesDir}`,
    );
  }
  try {
    return ctx.readFile(full);
  } catch (e) {
    return fail(
      ctx,
      'OCNE_IGNITION_READ_FAILED',
      at,
      `cannot read local file ${full}: ${(e as Error).message}`,
      e,
    );
  }
}

/** A `local` file as UTF-8 text. */
export const readLocalText = (ctx: Ctx, at: At, local: string): string =>
  utf8.decode(readLocal(ctx, at, local));
