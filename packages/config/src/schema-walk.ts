/**
 * Reads a YAML document against one of the generated JSON Schemas: converts it to plain
 * data, remembers where each value stands in the file, and reports unknown keys and wrong
 * types with their line, column and YAML path. Pure: text in, data and issues out.
 *
 * Every key here comes from a file, so none is ever looked up on, or stored in, an ordinary
 * object: schema properties are checked with `Object.hasOwn`, and mappings become objects
 * without a prototype, so `__proto__`, `constructor` and `toString` are ordinary (unknown) keys.
 * The text is parsed once, and everything is linear in its size, within {@link CONFIG_LIMITS}:
 * size, nesting depth (checked while parsing, before the `yaml` package's recursion can be
 * exhausted), values reached through aliases and merge keys (each alias is resolved through a
 * table made in one pass, not by a search of the document), and the number of issues listed.
 */
import {
  type Alias,
  Composer,
  type CST,
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  Scalar,
  visit,
  type YAMLError,
  type YAMLMap,
  type Node as YamlNode,
} from 'yaml';
import { ConfigError, type ConfigErrorCode, type ConfigIssue } from './errors.js';
import { CONFIG_LIMITS, clip, formatBytes } from './limits.js';
import { loneSurrogateOffset, normalizeLineBreaks } from './text.js';

/** The part of JSON Schema (draft-07) that the generated schemas use. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  definitions?: Record<string, JsonSchema>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  [keyword: string]: unknown;
}

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** What {@link readYaml} returns. */
export interface ReadResult {
  /** The data; `undefined` when the text could not be parsed at all. */
  value: Record<string, unknown> | undefined;
  /** Position of every value (and, with a `#key` suffix, every key) by YAML path. */
  positions: Map<string, Position>;
  issues: ConfigIssue[];
}

/** Options of {@link readYaml}. */
export interface ReadOptions {
  /** Name used in issues: the file's path or a label. */
  file: string;
  schema: JsonSchema;
  /** How unknown keys are reported: strict formats make them errors. */
  unknownKeys: 'error' | 'warning';
  /** Keys that are accepted anywhere with a warning that they have no effect. */
  ignoredKeys?: ReadonlySet<string>;
  /** The largest text accepted, in UTF-8 bytes. @defaultValue `CONFIG_LIMITS.maxConfigBytes` */
  maxBytes?: number;
}

/** Follows `$ref`s (to `#/definitions/...` of `root`) until a schema that is not a reference. */
export function resolveSchemaRef(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let s = schema;
  for (let depth = 0; s.$ref !== undefined && depth < 32; depth++) {
    const name = decodeURIComponent(s.$ref.replace(/^#\/definitions\//, ''));
    const target = root.definitions?.[name];
    if (target === undefined) throw new Error(`schema has no definition ${name}`);
    s = target;
  }
  return s;
}

/** Joins a YAML path: `a.b`, `a[0]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

function describeNode(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string')
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
  }
  return 'an unsupported value';
}

function expected(schema: JsonSchema): string {
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return schema.minimum !== undefined && schema.maximum !== undefined
        ? `a whole number from ${schema.minimum} to ${schema.maximum}`
        : 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return 'a value';
  }
}

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string, known: readonly string[]): string {
  // A long key is no typo of a short one, and the distance costs its length times theirs.
  if (key.length > CONFIG_LIMITS.maxSuggestedKey) return '';
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const score = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 3))
    ? `; did you mean "${best}"?`
    : '';
}

/** A position from an offset, counting lines as {@link LineCounter} does (after the line breaks are normalized). */
function offsetPosition(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** UTF-8 length of a text, counted only up to just past `max` (internal to the package). */
export function utf8LengthOver(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= max; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is four bytes, two per half.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return bytes > max;
}

/**
 * The openings of quoted scalars and unclosed flow collections, sorted by offset, made from the
 * CST once per text (and only when there are syntax errors to place).
 */
class Openings {
  readonly #byType = new Map<string, number[]>([
    ['double-quoted-scalar', []],
    ['single-quoted-scalar', []],
    ['flow-collection', []],
  ]);

  constructor(tokens: readonly CST.Token[]) {
    const visitToken = (value: unknown, depth: number): void => {
      if (depth > 4 * CONFIG_LIMITS.maxDepth || value === null || typeof value !== 'object') return;
      if (Array.isArray(value)) {
        for (const v of value) visitToken(v, depth + 1);
        return;
      }
      const token = value as { type?: unknown; offset?: unknown; end?: unknown[] };
      if (typeof token.type === 'string' && typeof token.offset === 'number') {
        const list = this.#byType.get(token.type);
        const closed =
          token.type === 'flow-collection' &&
          (token.end ?? []).some((e) => /^[\]}]$/.test((e as { source?: string }).source ?? ''));
        if (list !== undefined && !closed) list.push(token.offset);
      }
      for (const v of Object.values(value)) if (typeof v === 'object') visitToken(v, depth + 1);
    };
    for (const token of tokens) visitToken(token, 0);
    for (const list of this.#byType.values()) list.sort((a, b) => a - b);
  }

  /** The offset of the last opening of that type at or before `offset`. */
  before(type: string, offset: number): number | undefined {
    const list = this.#byType.get(type) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? list[lo - 1] : undefined;
  }
}

/**
 * Where a syntax error really is. The YAML parser reports unclosed quotes and brackets where
 * it gave up (often the end of the file) and indentation errors at the start of the line; a
 * user wants the opening quote or bracket, and the first character of the misplaced line.
 */
function syntaxErrorOffset(text: string, error: YAMLError, openings: () => Openings): number {
  const offset = error.pos[0];
  const quote = /Missing closing (["'])quote/.exec(error.message)?.[1];
  const flow = /Flow (sequence|map)/.exec(error.message)?.[1];
  if (quote !== undefined || flow !== undefined) {
    const type =
      quote === '"' ? 'double-quoted-scalar' : quote === "'" ? 'single-quoted-scalar' : 'flow-collection';
    const opening = openings().before(type, offset);
    if (opening !== undefined) return opening;
  }
  return firstCharacterAt(text, offset);
}

/** At the start of a line, the offset of its first character instead. */
function firstCharacterAt(text: string, offset: number): number {
  if (offset === 0 || text[offset - 1] === '\n') {
    let i = offset;
    while (text[i] === ' ') i++;
    if (i < text.length && text[i] !== '\n' && text[i] !== '\r') return i;
  }
  return offset;
}

/**
 * One walk over a document, in the order `Alias.resolve` searches it: records the node each alias
 * names (the last node anchored with its name before it, an enclosing collection included), and
 * reports each key that repeats in its mapping (compared as the `yaml` package compares them).
 */
function walkDocument(
  doc: Document,
  aliases: Map<Alias, YamlNode | undefined>,
  duplicate: (key: Scalar) => void,
): void {
  const anchors = new Map<string, YamlNode>();
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) aliases.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
      if (!isMap(node)) return;
      const seen = new Set<unknown>();
      for (const { key } of node.items) {
        if (!isScalar(key) || Number.isNaN(key.value)) continue;
        if (seen.has(key.value)) duplicate(key);
        else seen.add(key.value);
      }
    },
  });
}

/** Keeps the first {@link ConfigLimits.maxIssues} issues of each severity and counts the rest. */
class IssueList {
  readonly issues: ConfigIssue[] = [];
  readonly #counts = { error: 0, warning: 0 };
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  /** Whether an issue of this severity would still be listed (to skip building its message). */
  listed(severity: 'error' | 'warning'): boolean {
    return this.#counts[severity] < CONFIG_LIMITS.maxIssues;
  }

  add(issue: ConfigIssue): void {
    if (this.listed(issue.severity)) this.issues.push(issue);
    this.#counts[issue.severity]++;
  }

  get errors(): number {
    return this.#counts.error;
  }

  /** The issues, with one more per severity that says how many were left out. */
  done(): ConfigIssue[] {
    const out = [...this.issues];
    for (const severity of ['error', 'warning'] as const) {
      const omitted = this.#counts[severity] - CONFIG_LIMITS.maxIssues;
      if (omitted > 0) {
        out.push({
          code: 'OCNE_CONFIG_LIMIT',
          severity,
          file: this.#file,
          message: `${omitted} more ${severity === 'error' ? 'errors' : 'warnings'} not listed (the first ${CONFIG_LIMITS.maxIssues} are)`,
        });
      }
    }
    return out;
  }
}

/** YAML text parsed once, within the limits. */
interface ParsedText {
  /** The text as parsed (lone CRs made LFs; offsets are those of the input). */
  text: string;
  docs: Document[];
  lines: LineCounter;
  /** The node each alias names: the last node with that anchor before the alias. */
  aliases: Map<Alias, YamlNode | undefined>;
  /** Errors that stop reading: the text is too large, too deep, not well formed. */
  issues: ConfigIssue[];
}

const COMPOSE_OPTIONS = {
  prettyErrors: false,
  // Checked below in one pass: the `yaml` package compares each key with every earlier one.
  uniqueKeys: false,
  strict: true,
} as const;

/**
 * Parses YAML text once: the size, Unicode and nesting depth checked first, the CST made with the
 * depth watched (the `yaml` package's composer recurses once per level and its parser slows
 * down with depth), then composed. Duplicate keys and the alias table come from one walk.
 */
function parseText(input: string, file: string, maxBytes: number): ParsedText {
  const lines = new LineCounter();
  const aliases = new Map<Alias, YamlNode | undefined>();
  const fail = (issue: Omit<ConfigIssue, 'file' | 'severity'>): ParsedText => ({
    text: input,
    docs: [],
    lines,
    aliases,
    issues: [{ ...issue, severity: 'error', file }],
  });
  if (utf8LengthOver(input, maxBytes)) {
    return fail({
      code: 'OCNE_CONFIG_LIMIT',
      message: `the text is larger than ${formatBytes(maxBytes)}, the most a configuration may have`,
    });
  }
  const text = normalizeLineBreaks(input);
  const surrogate = loneSurrogateOffset(text);
  if (surrogate >= 0) {
    return fail({
      code: 'OCNE_CONFIG_SYNTAX',
      ...offsetPosition(text, surrogate),
      message: 'not valid Unicode: a lone surrogate (half of a UTF-16 pair) cannot be written as UTF-8',
    });
  }

  // The parser's stack holds the stream, the document and one token per open collection.
  const maxStack = CONFIG_LIMITS.maxDepth + 2;
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > maxStack) {
      return fail({
        code: 'OCNE_CONFIG_LIMIT',
        ...offsetPosition(text, parser.offset),
        message: `mappings and lists are nested deeper than ${CONFIG_LIMITS.maxDepth} levels`,
      });
    }
  }
  for (const token of parser.end()) tokens.push(token);
  // Like `parseDocument`, an empty text is one empty document.
  const docs = Array.from(new Composer(COMPOSE_OPTIONS).compose(tokens, true, text.length)) as Document[];

  // Syntax errors and repeated keys, in the order of the text; only the listed ones are placed.
  const found: Array<{ offset: number; error?: YAMLError }> = [];
  for (const doc of docs) {
    for (const error of doc.errors) found.push({ offset: error.pos[0], error });
    walkDocument(doc, aliases, (key) => found.push({ offset: key.range?.[0] ?? 0 }));
  }
  found.sort((a, b) => a.offset - b.offset);
  const list = new IssueList(file);
  let openings: Openings | undefined;
  const lazyOpenings = (): Openings => {
    openings ??= new Openings(tokens);
    return openings;
  };
  for (const { offset, error } of found) {
    if (!list.listed('error')) {
      list.add({ code: 'OCNE_CONFIG_SYNTAX', message: '', severity: 'error', file });
      continue;
    }
    const at = error ? syntaxErrorOffset(text, error, lazyOpenings) : firstCharacterAt(text, offset);
    const { line, col } = lines.linePos(at);
    list.add({
      code: 'OCNE_CONFIG_SYNTAX',
      // The `yaml` package quotes the token it stopped at, which may be a whole long scalar.
      message: `not valid YAML: ${error ? clip(error.message.split('\n')[0] ?? '', 2 * CONFIG_LIMITS.maxEcho) : 'Map keys must be unique'}`,
      severity: 'error',
      file,
      line,
      column: col,
    });
  }
  return { text, docs, lines, aliases, issues: list.done() };
}

/** Thrown inside the reader when a limit is reached: reading stops at once. */
class LimitReached {
  readonly issue: ConfigIssue;
  constructor(issue: ConfigIssue) {
    this.issue = issue;
  }
}

/** Whether a key is YAML's merge key `<<`. */
const isMergeKey = (key: unknown): boolean =>
  isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'));

/** A scalar key as a string (`null` is `""`, as the `yaml` package makes it), or `undefined` for others. */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const v = key.value;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? undefined : String(v);
}

/** What a {@link Reader} reads from: a parsed text, and how its aliases resolve. */
interface ReaderSource {
  text: string;
  lines: LineCounter;
  resolveAlias(alias: Alias): YamlNode | undefined;
}

class Reader {
  readonly positions = new Map<string, Position>();
  readonly #issues: IssueList;
  readonly #lines: LineCounter;
  readonly #resolveAlias: (alias: Alias) => YamlNode | undefined;
  readonly #text: string;
  readonly #options: ReadOptions;
  /** Collections being read, to stop at an alias or merge key that refers to its own ancestor. */
  readonly #reading = new Set<unknown>();
  /** How deep the reader is, through aliases and merge keys too. */
  #depth = 0;
  /** How many aliases and merge keys the reader is inside; values read there are counted. */
  #expanding = 0;
  #expanded = 0;
  /** Where the outermost alias or merge key being expanded stands: a bomb is reported there. */
  #expansionStart: { path: string; at: Position | undefined } = { path: '', at: undefined };

  constructor(source: ReaderSource, options: ReadOptions) {
    this.#text = source.text;
    this.#lines = source.lines;
    this.#resolveAlias = source.resolveAlias;
    this.#options = options;
    this.#issues = new IssueList(options.file);
  }

  issues(): ConfigIssue[] {
    return this.#issues.done();
  }

  get errors(): number {
    return this.#issues.errors;
  }

  position(
    node: { range?: [number, number, number] | null | undefined } | null | undefined,
  ): Position | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }

  /** Adds an issue; the message is made only when the issue is listed. */
  issue(
    code: ConfigErrorCode,
    path: string,
    at: Position | undefined,
    message: string | (() => string),
    severity: 'error' | 'warning' = 'error',
  ): void {
    this.#issues.add({
      code,
      message: !this.#issues.listed(severity) ? '' : typeof message === 'function' ? message() : message,
      severity,
      file: this.#options.file,
      ...(at ? { line: at.line, column: at.column } : {}),
      ...(path ? { path: clip(path, 2 * CONFIG_LIMITS.maxEcho) } : {}),
    });
  }

  #limit(path: string, at: Position | undefined, message: string): LimitReached {
    return new LimitReached({
      code: 'OCNE_CONFIG_LIMIT',
      message,
      severity: 'error',
      file: this.#options.file,
      ...(at ? { line: at.line, column: at.column } : {}),
      ...(path ? { path: clip(path, 2 * CONFIG_LIMITS.maxEcho) } : {}),
    });
  }

  /** One level deeper; through an alias or merge key, one more value expanded. */
  #enter(path: string, at: Position | undefined, expanding: boolean): void {
    if (expanding && this.#expanding++ === 0) this.#expansionStart = { path, at };
    this.#depth++;
    if (this.#depth > CONFIG_LIMITS.maxDepth) {
      throw this.#limit(
        path,
        at,
        `mappings and lists are nested deeper than ${CONFIG_LIMITS.maxDepth} levels (counting what aliases and merge keys bring in)`,
      );
    }
    if (this.#expanding > 0) this.#count();
  }

  #leave(expanding: boolean): void {
    if (expanding) this.#expanding--;
    this.#depth--;
  }

  #count(): void {
    if (++this.#expanded > CONFIG_LIMITS.maxExpandedValues) {
      throw this.#limit(
        this.#expansionStart.path,
        this.#expansionStart.at,
        `aliases and merge keys expand to more than ${CONFIG_LIMITS.maxExpandedValues} values (an alias bomb?); write the values out instead`,
      );
    }
  }

  resolve(schema: JsonSchema): JsonSchema {
    return resolveSchemaRef(this.#options.schema, schema);
  }

  /** Returns the converted value, or `undefined` for an unset or rejected value. */
  read(node: unknown, schemaIn: JsonSchema, path: string): unknown {
    // A value reached through an alias is reported where the alias stands.
    const at = this.position(node as YamlNode);
    if (at && path) this.positions.set(path, at);
    const current = this.deref(node, path, at);
    if (current === null || current === undefined) return undefined;
    if (this.#reading.has(current)) {
      this.issue('OCNE_CONFIG_SYNTAX', path, at, 'an alias refers to a collection that contains it');
      return undefined;
    }
    const alias = isAlias(node);
    this.#reading.add(current);
    this.#enter(path, at, alias);
    try {
      return this.readValue(current, this.resolve(schemaIn), path, at);
    } finally {
      this.#reading.delete(current);
      this.#leave(alias);
    }
  }

  /** Resolves an alias; an alias without its anchor is an error (as in Go's YAML decoders). */
  deref(node: unknown, path: string, at: Position | undefined): unknown {
    if (!isAlias(node)) return node;
    const target = this.#resolveAlias(node);
    if (target === undefined) {
      this.issue(
        'OCNE_CONFIG_SYNTAX',
        path,
        at,
        () => `unknown alias *${clip(node.source)}: no anchor &${clip(node.source)} before it`,
      );
      return null;
    }
    return target;
  }

  /**
   * The key/value pairs of a mapping, with `<<` merge keys expanded as yaml.v3 does: explicit keys
   * win, then earlier merge sources over later ones; each key once. A merge key that names the
   * mapping it stands in (or one that contains it) is an error at the `<<`.
   */
  pairs(map: YAMLMap, path: string): Array<{ key: unknown; value: unknown }> {
    const merged: Array<{ key: unknown; value: unknown }> = [];
    const explicit: Array<{ key: unknown; value: unknown }> = [];
    for (const pair of map.items) {
      const key = isAlias(pair.key)
        ? this.deref(pair.key, path, this.position(pair.key as YamlNode))
        : pair.key;
      if (!isMergeKey(key)) {
        explicit.push({ key, value: pair.value });
        continue;
      }
      const keyAt = this.position(pair.key as YamlNode);
      const at = this.position(pair.value as YamlNode);
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = this.deref(source, path, at);
        if (target === null) continue;
        if (!isMap(target)) {
          this.issue(
            'OCNE_CONFIG_TYPE',
            path,
            at,
            () => `expected a merge key ("<<") to name mappings, found ${describeNode(target)}`,
          );
          continue;
        }
        if (this.#reading.has(target)) {
          const name = isAlias(source) ? ` *${clip(source.source)}` : '';
          this.issue(
            'OCNE_CONFIG_SYNTAX',
            path,
            keyAt,
            `a merge key ("<<") names${name}, a mapping that contains it: it would merge itself without end`,
          );
          continue;
        }
        this.#reading.add(target);
        this.#enter(path, at, true);
        try {
          for (const p of this.pairs(target, path)) {
            this.#count();
            merged.push(p);
          }
        } finally {
          this.#reading.delete(target);
          this.#leave(true);
        }
      }
    }
    if (merged.length === 0) return explicit;
    const taken = new Set<string>();
    for (const { key } of explicit) {
      const text = keyText(key);
      if (text !== undefined) taken.add(text);
    }
    const kept: Array<{ key: unknown; value: unknown }> = [];
    for (const p of merged) {
      const text = keyText(p.key);
      if (text !== undefined) {
        if (taken.has(text)) continue;
        taken.add(text);
      }
      kept.push(p);
    }
    return [...kept, ...explicit];
  }

  /**
   * Any YAML value (an application's `config`), as plain data: aliases resolved to what they name
   * (what the user wrote reaches Helm), merge keys expanded, mappings as objects without a
   * prototype, with the positions of its parts.
   */
  plain(node: unknown, path: string): unknown {
    const at = this.position(node as YamlNode);
    if (at && path) this.positions.set(path, at);
    const current = this.deref(node, path, at);
    if (current === null || current === undefined) return null;
    if (this.#reading.has(current)) {
      this.issue('OCNE_CONFIG_SYNTAX', path, at, 'an alias refers to a collection that contains it');
      return null;
    }
    const alias = isAlias(node);
    this.#reading.add(current);
    this.#enter(path, at, alias);
    try {
      return this.plainOf(current, path, at);
    } finally {
      this.#reading.delete(current);
      this.#leave(alias);
    }
  }

  /** {@link plain} of a node that is not an alias. */
  plainOf(current: unknown, path: string, at: Position | undefined): unknown {
    if (isScalar(current)) return current.value ?? null;
    if (isSeq(current)) return current.items.map((item, i) => this.plain(item, joinPath(path, i)));
    if (!isMap(current)) return null;
    const out: Record<string, unknown> = Object.create(null);
    for (const { key, value } of this.pairs(current, path)) {
      const text = keyText(key);
      if (text === undefined) {
        const keyAt = this.position(key as YamlNode) ?? at;
        this.issue('OCNE_CONFIG_TYPE', path, keyAt, () => `expected a plain key, found ${describeNode(key)}`);
        continue;
      }
      out[text] = this.plain(value, joinPath(path, text));
    }
    return out;
  }

  readValue(current: unknown, schema: JsonSchema, path: string, at: Position | undefined): unknown {
    // An explicit null (`key:` or `key: ~`) leaves a field unset, as Go's decoders do.
    if (isScalar(current) && current.value === null) return undefined;

    const type = schema.type;
    // Any YAML value (application `config`): taken whole, as it reads.
    if (type === undefined) return this.plainOf(current, path, at);
    if (type === 'object') {
      if (!isMap(current)) {
        this.issue(
          'OCNE_CONFIG_TYPE',
          path,
          at,
          `expected ${expected(schema)}, found ${describeNode(current)}`,
        );
        return undefined;
      }
      // Keys from the file: no prototype to find `constructor` or to set through `__proto__`.
      const out: Record<string, unknown> = Object.create(null);
      const props = schema.properties ?? {};
      for (const pair of this.pairs(current, path)) {
        const keyNode = pair.key;
        const keyAt = this.position(keyNode as YamlNode) ?? at;
        if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
          this.issue(
            'OCNE_CONFIG_TYPE',
            path,
            keyAt,
            () => `expected a plain key, found ${describeNode(keyNode)}`,
          );
          continue;
        }
        const key = String(keyNode.value);
        const childPath = joinPath(path, key);
        if (keyAt) this.positions.set(`${childPath}#key`, keyAt);
        const child = Object.hasOwn(props, key) ? props[key] : undefined;
        if (child === undefined && this.#options.ignoredKeys?.has(key)) {
          this.issue(
            'OCNE_CONFIG_UNKNOWN_KEY',
            childPath,
            keyAt,
            `"${key}" is an internal key of upstream's Go structs and has no effect (ignored)`,
            'warning',
          );
          continue;
        }
        if (child === undefined) {
          const severity = this.#options.unknownKeys;
          this.issue(
            'OCNE_CONFIG_UNKNOWN_KEY',
            childPath,
            keyAt,
            () =>
              `unknown key "${clip(key)}"${suggestion(key, Object.keys(props))}${severity === 'warning' ? ' (ignored)' : ''}`,
            severity,
          );
          continue;
        }
        const value = this.read(pair.value, child, childPath);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    if (type === 'array') {
      if (!isSeq(current)) {
        this.issue(
          'OCNE_CONFIG_TYPE',
          path,
          at,
          `expected ${expected(schema)}, found ${describeNode(current)}`,
        );
        return undefined;
      }
      const items = schema.items ?? {};
      return current.items.map((item, index) => this.read(item, items, joinPath(path, index)) ?? null);
    }
    if (!isScalar(current)) {
      this.issue(
        'OCNE_CONFIG_TYPE',
        path,
        at,
        `expected ${expected(schema)}, found ${describeNode(current)}`,
      );
      return undefined;
    }
    const value = current.value;
    switch (type) {
      case 'string': {
        if (typeof value === 'string') return value;
        // An untagged scalar that YAML read as a number, boolean or date, such as
        // `kubernetesVersion: 1.30`, is meant as text: keep it exactly as written (not `1.3`), as
        // Go's YAML decoders do. An explicitly tagged one (`!!binary ...`) is a type error.
        if (current.tag === undefined) {
          const range = current.range;
          if (range) return this.#text.slice(range[0], range[1]).trim();
          if (typeof value === 'number' || typeof value === 'boolean') return String(value);
        }
        break;
      }
      case 'integer': {
        if (typeof value === 'number' && Number.isInteger(value)) {
          // Past 2^53 a number is no longer exact (`99999999999999999999999` reads as 1e+23): no
          // count or size of a cluster is that large, and Go's int would refuse most of them.
          if (!Number.isSafeInteger(value)) {
            const written = current.range
              ? this.#text.slice(current.range[0], current.range[1]).trim()
              : String(value);
            this.issue(
              'OCNE_CONFIG_TYPE',
              path,
              at,
              () => `expected ${expected(schema)}, found ${clip(written)}, which is too large`,
            );
            return undefined;
          }
          if (
            (schema.minimum !== undefined && value < schema.minimum) ||
            (schema.maximum !== undefined && value > schema.maximum)
          ) {
            this.issue('OCNE_CONFIG_TYPE', path, at, `expected ${expected(schema)}, found ${value}`);
            return undefined;
          }
          return value;
        }
        break;
      }
      case 'boolean': {
        if (typeof value === 'boolean') return value;
        break;
      }
    }
    this.issue(
      'OCNE_CONFIG_TYPE',
      path,
      at,
      () => `expected ${expected(schema)}, found ${describeNode(current)}`,
    );
    return undefined;
  }
}

/** A YAML document parsed by {@link parseYamlDocument}. */
export interface ParsedYamlDocument {
  /** The text as parsed: a lone CR is a line break (LF here); offsets are those of the input. */
  text: string;
  /** The document, for reading and editing in place. */
  doc: Document;
  /** Line and column of an offset of `text`. */
  lines: LineCounter;
  /** The node an alias of the document names (without searching the document), or `undefined`. */
  resolveAlias(alias: Alias): YamlNode | undefined;
}

/** Options of {@link parseYamlDocument}. */
export interface ParseYamlDocumentOptions {
  /** The file's path, or a label, for error locations. */
  file: string;
  /** The largest text accepted, in UTF-8 bytes. @defaultValue `CONFIG_LIMITS.maxConfigBytes` */
  maxBytes?: number;
}

/**
 * Parses one YAML document under the same rules and limits as configuration files (size,
 * Unicode, nesting depth, repeated keys, line breaks), for readers that work on the document
 * itself, such as the cluster cache's.
 *
 * @throws `ConfigError` with the located problems (`OCNE_CONFIG_SYNTAX`, `OCNE_CONFIG_LIMIT`).
 */
export function parseYamlDocument(text: string, options: ParseYamlDocumentOptions): ParsedYamlDocument {
  const parsed = parseText(text, options.file, options.maxBytes ?? CONFIG_LIMITS.maxConfigBytes);
  if (parsed.issues.length > 0) throw new ConfigError(parsed.issues);
  const [doc, second] = parsed.docs;
  if (second !== undefined || doc === undefined) {
    const { line, col } = parsed.lines.linePos(second?.range?.[0] ?? 0);
    throw new ConfigError([
      {
        code: 'OCNE_CONFIG_SYNTAX',
        message: 'expected one YAML document, found more',
        severity: 'error',
        file: options.file,
        line,
        column: col,
      },
    ]);
  }
  const { aliases } = parsed;
  return { text: parsed.text, doc, lines: parsed.lines, resolveAlias: (alias) => aliases.get(alias) };
}

/**
 * Parses YAML text and reads it against a schema. Syntax errors, more than one document, a
 * top level that is not a mapping, wrong types, unknown keys and the limits of
 * {@link CONFIG_LIMITS} all become issues; nothing throws.
 */
export function readYaml(text: string, options: ReadOptions): ReadResult {
  const parsed = parseText(text, options.file, options.maxBytes ?? CONFIG_LIMITS.maxConfigBytes);
  const positions = new Map<string, Position>();
  if (parsed.issues.length > 0) return { value: undefined, positions, issues: parsed.issues };
  const { docs, lines } = parsed;
  if (docs.length > 1) {
    const { line, col } = lines.linePos(docs[1]?.range?.[0] ?? 0);
    return {
      value: undefined,
      positions,
      issues: [
        {
          code: 'OCNE_CONFIG_SYNTAX',
          message: 'expected one YAML document, found more (upstream would silently read only the first)',
          severity: 'error',
          file: options.file,
          line,
          column: col,
        },
      ],
    };
  }
  const { aliases } = parsed;
  const reader = new Reader(
    { text: parsed.text, lines, resolveAlias: (alias) => aliases.get(alias) },
    options,
  );
  const contents = docs[0]?.contents ?? null;
  if (contents === null || (contents instanceof Scalar && contents.value === null)) {
    return { value: Object.create(null), positions: reader.positions, issues: reader.issues() };
  }
  return readRoot(reader, contents, options);
}

/** Reads the top of a document (or a mapping inside one) with a reader, limits turned into issues. */
function readRoot(reader: Reader, contents: unknown, options: ReadOptions): ReadResult {
  let value: unknown;
  try {
    value = reader.read(contents, options.schema, '');
  } catch (error) {
    if (!(error instanceof LimitReached)) throw error;
    return {
      value: undefined,
      positions: reader.positions,
      issues: [error.issue, ...reader.issues().filter((i) => i.severity === 'error')],
    };
  }
  return {
    value:
      (value as Record<string, unknown> | undefined) ?? (reader.errors > 0 ? undefined : Object.create(null)),
    positions: reader.positions,
    issues: reader.issues(),
  };
}

/**
 * Reads one mapping of a document {@link parseYamlDocument} parsed against a schema, as
 * {@link readYaml} would read the same text parsed on its own: for the cluster cache, whose
 * entries are each a configuration, without parsing their text again. Positions are those of the
 * whole document. `resolveAlias` says which aliases resolve (the caller keeps them to the text it
 * reads; one that does not resolve is an unknown alias). Internal to the package.
 */
export function readYamlNode(
  parsed: ParsedYamlDocument,
  node: YAMLMap,
  options: ReadOptions & { resolveAlias(alias: Alias): YamlNode | undefined },
): ReadResult {
  const reader = new Reader(
    { text: parsed.text, lines: parsed.lines, resolveAlias: options.resolveAlias },
    options,
  );
  return readRoot(reader, node, options);
}

/**
 * Whether `readYaml` of `new Document(value).toString()` reads the same as reading the document's
 * nodes directly: a tree (no object twice, so no anchors) of plain objects, lists, finite numbers
 * (not -0), booleans, null and strings YAML writes and reads back exactly (no CR, no lone
 * surrogate, no byte-order mark or Unicode line break), small and shallow enough that its text
 * stays far within the limits. `undefined` only as a property (the writer drops it).
 */
function isPlainTree(value: unknown): boolean {
  let budget = CONFIG_LIMITS.maxConfigBytes / 16;
  const seen = new Set<object>();
  const plain = (v: unknown, depth: number, inObject: boolean): boolean => {
    if (--budget < 0 || depth > CONFIG_LIMITS.maxDepth / 4) return false;
    if (v === null || typeof v === 'boolean') return true;
    if (v === undefined) return inObject;
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
    if (typeof v === 'string') {
      budget -= v.length;
      return budget >= 0 && !/[\r\ufeff\u0085\u2028\u2029\ud800-\udfff]/.test(v);
    }
    if (typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    if (Array.isArray(v)) return v.every((item) => plain(item, depth + 1, false));
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (Object.getOwnPropertySymbols(v).length > 0) return false;
    return Object.entries(v).every(([key, item]) => {
      budget -= key.length;
      return (
        budget >= 0 && !/[\r\ufeff\u0085\u2028\u2029\ud800-\udfff]/.test(key) && plain(item, depth + 1, true)
      );
    });
  };
  return plain(value, 0, false);
}

/**
 * Reads an object against a schema as {@link readYaml} reads the YAML text the `yaml` package
 * writes for it, without writing and parsing that text when the object is a plain tree (the
 * usual options bag); other objects take that way. Positions and issue locations are left out:
 * they would be those of a text nobody saw. Internal to the package.
 */
export function readYamlObject(object: object, options: ReadOptions): ReadResult {
  const result = isPlainTree(object)
    ? readPlainTree(object, options)
    : readYaml(new Document(object).toString(), options);
  result.positions.clear();
  for (const issue of result.issues) {
    delete issue.line;
    delete issue.column;
  }
  return result;
}

function readPlainTree(object: object, options: ReadOptions): ReadResult {
  const contents = new Document(object).contents;
  const reader = new Reader({ text: '', lines: new LineCounter(), resolveAlias: () => undefined }, options);
  if (contents === null || (contents instanceof Scalar && contents.value === null)) {
    return { value: Object.create(null), positions: reader.positions, issues: reader.issues() };
  }
  return readRoot(reader, contents, options);
}
