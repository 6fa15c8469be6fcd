/**
 * Reads a YAML document against one of the generated JSON Schemas: converts it to plain
 * data, remembers where each value stands in the file, and reports unknown keys and wrong
 * types with their line, column and YAML path. Pure: text in, data and issues out.
 */
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseAllDocuments,
  Scalar,
  type YAMLError,
  type YAMLMap,
  type Node as YamlNode,
} from 'yaml';
import type { ConfigErrorCode, ConfigIssue } from './errors.js';

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

/** Every CST token that has a type and an offset, in document order. */
function cstTokens(text: string): Array<{ type: string; offset: number; end?: unknown[] }> {
  const out: Array<{ type: string; offset: number; end?: unknown[] }> = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 200 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
      return;
    }
    const token = value as { type?: unknown; offset?: unknown };
    if (typeof token.type === 'string' && typeof token.offset === 'number') {
      out.push(token as { type: string; offset: number });
    }
    for (const v of Object.values(value)) if (typeof v === 'object') visit(v, depth + 1);
  };
  try {
    for (const token of new Parser().parse(text)) visit(token, 0);
  } catch {
    // Positions are best effort; the error itself is reported anyway.
  }
  return out;
}

/**
 * Where a syntax error really is. The YAML parser reports unclosed quotes and brackets where
 * it gave up (often the end of the file) and indentation errors at the start of the line; a
 * user wants the opening quote or bracket, and the first character of the misplaced line.
 */
function syntaxErrorOffset(text: string, error: YAMLError): number {
  const offset = error.pos[0];
  const quote = /Missing closing (["'])quote/.exec(error.message)?.[1];
  const flow = /Flow (sequence|map)/.exec(error.message)?.[1];
  if (quote !== undefined || flow !== undefined) {
    const type =
      quote === '"' ? 'double-quoted-scalar' : quote === "'" ? 'single-quoted-scalar' : 'flow-collection';
    const opening = cstTokens(text)
      .filter((t) => t.type === type && t.offset <= offset)
      .filter(
        (t) =>
          type !== 'flow-collection' ||
          !(t.end ?? []).some((e) => /^[\]}]$/.test((e as { source?: string }).source ?? '')),
      )
      .at(-1);
    if (opening !== undefined) return opening.offset;
  }
  // At the start of a line: point at its first character instead.
  if (offset === 0 || text[offset - 1] === '\n') {
    let i = offset;
    while (text[i] === ' ') i++;
    if (i < text.length && text[i] !== '\n' && text[i] !== '\r') return i;
  }
  return offset;
}

class Reader {
  readonly positions = new Map<string, Position>();
  readonly issues: ConfigIssue[] = [];
  readonly #lines: LineCounter;
  readonly #doc: Document;
  readonly #text: string;
  readonly #options: ReadOptions;
  /** Collections being read, to stop at an alias that refers to its own ancestor. */
  readonly #reading = new Set<unknown>();

  constructor(text: string, doc: Document, lines: LineCounter, options: ReadOptions) {
    this.#text = text;
    this.#doc = doc;
    this.#lines = lines;
    this.#options = options;
  }

  position(
    node: { range?: [number, number, number] | null | undefined } | null | undefined,
  ): Position | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }

  issue(
    code: ConfigErrorCode,
    path: string,
    at: Position | undefined,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ): void {
    this.issues.push({
      code,
      message,
      severity,
      file: this.#options.file,
      ...(at ? { line: at.line, column: at.column } : {}),
      ...(path ? { path } : {}),
    });
  }

  resolve(schema: JsonSchema): JsonSchema {
    return resolveSchemaRef(this.#options.schema, schema);
  }

  recordPositions(node: unknown, path: string): void {
    const at = this.position(node as YamlNode);
    if (at && path) this.positions.set(path, at);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key)) this.recordPositions(pair.value, joinPath(path, String(pair.key.value)));
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) this.recordPositions(item, joinPath(path, index));
    }
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
    this.#reading.add(current);
    try {
      return this.readValue(current, this.resolve(schemaIn), path, at);
    } finally {
      this.#reading.delete(current);
    }
  }

  /** Resolves an alias; an alias without its anchor is an error (as in Go's YAML decoders). */
  deref(node: unknown, path: string, at: Position | undefined): unknown {
    if (!isAlias(node)) return node;
    const target = (node as Alias).resolve(this.#doc);
    if (target === undefined) {
      this.issue(
        'OCNE_CONFIG_SYNTAX',
        path,
        at,
        `unknown alias *${(node as Alias).source}: no anchor &${(node as Alias).source} before it`,
      );
      return null;
    }
    return target;
  }

  /** The key/value pairs of a mapping, with `<<` merge keys expanded (explicit keys win). */
  pairs(map: YAMLMap, path: string): Array<{ key: unknown; value: unknown }> {
    const merged: Array<{ key: unknown; value: unknown }> = [];
    const explicit: Array<{ key: unknown; value: unknown }> = [];
    for (const pair of map.items) {
      const key = isAlias(pair.key)
        ? this.deref(pair.key, path, this.position(pair.key as YamlNode))
        : pair.key;
      if (
        isScalar(key) &&
        (key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'))
      ) {
        const at = this.position(pair.value as YamlNode);
        const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
        // Earlier sources win over later ones, so collect them in reverse.
        for (const source of [...sources].reverse()) {
          const target = this.deref(source, path, at);
          if (!isMap(target)) {
            this.issue(
              'OCNE_CONFIG_TYPE',
              path,
              at,
              `expected a merge key ("<<") to name mappings, found ${describeNode(target)}`,
            );
            continue;
          }
          merged.push(...this.pairs(target, path));
        }
        continue;
      }
      explicit.push({ key, value: pair.value });
    }
    return [...merged, ...explicit];
  }

  readValue(current: unknown, schema: JsonSchema, path: string, at: Position | undefined): unknown {
    // An explicit null (`key:` or `key: ~`) leaves a field unset, as Go's decoders do.
    if (isScalar(current) && current.value === null) return undefined;

    const type = schema.type;
    if (type === undefined) {
      // Any YAML value (application `config`): taken whole, with the positions of its parts.
      this.recordPositions(current, path);
      return (current as YamlNode).toJSON?.() ?? null;
    }
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
      const out: Record<string, unknown> = {};
      const props = schema.properties ?? {};
      const known = Object.keys(props);
      for (const pair of this.pairs(current, path)) {
        const keyNode = pair.key;
        const keyAt = this.position(keyNode as YamlNode) ?? at;
        if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
          this.issue('OCNE_CONFIG_TYPE', path, keyAt, `expected a plain key, found ${describeNode(keyNode)}`);
          continue;
        }
        const key = String(keyNode.value);
        const childPath = joinPath(path, key);
        if (keyAt) this.positions.set(`${childPath}#key`, keyAt);
        const child = props[key];
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
            `unknown key "${key}"${suggestion(key, known)}${severity === 'warning' ? ' (ignored)' : ''}`,
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
    this.issue('OCNE_CONFIG_TYPE', path, at, `expected ${expected(schema)}, found ${describeNode(current)}`);
    return undefined;
  }
}

/**
 * Parses YAML text and reads it against a schema. Syntax errors, more than one document, a
 * top level that is not a mapping, wrong types and unknown keys all become issues; nothing throws.
 */
export function readYaml(text: string, options: ReadOptions): ReadResult {
  const lines = new LineCounter();
  const positions = new Map<string, Position>();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      strict: true,
    }) as Document[];
  } catch (error) {
    return {
      value: undefined,
      positions,
      issues: [
        {
          code: 'OCNE_CONFIG_SYNTAX',
          message: `not valid YAML: ${(error as Error).message}`,
          severity: 'error',
          file: options.file,
        },
      ],
    };
  }
  const issues: ConfigIssue[] = [];
  for (const doc of docs) {
    for (const error of doc.errors) {
      const { line, col } = lines.linePos(syntaxErrorOffset(text, error));
      issues.push({
        code: 'OCNE_CONFIG_SYNTAX',
        message: `not valid YAML: ${error.message.split('\n')[0]}`,
        severity: 'error',
        file: options.file,
        line,
        column: col,
      });
    }
  }
  if (issues.length > 0) return { value: undefined, positions, issues };
  if (docs.length > 1) {
    const { line, col } = lines.linePos(docs[1]?.range?.[0] ?? 0);
    issues.push({
      code: 'OCNE_CONFIG_SYNTAX',
      message: 'expected one YAML document, found more (upstream would silently read only the first)',
      severity: 'error',
      file: options.file,
      line,
      column: col,
    });
    return { value: undefined, positions, issues };
  }
  const doc = docs[0];
  const reader = new Reader(text, doc ?? (undefined as unknown as Document), lines, options);
  const contents = doc?.contents ?? null;
  if (contents === null || (contents instanceof Scalar && contents.value === null)) {
    return { value: {}, positions: reader.positions, issues: reader.issues };
  }
  const value = reader.read(contents, options.schema, '');
  return {
    value: (value as Record<string, unknown> | undefined) ?? (reader.issues.length > 0 ? undefined : {}),
    positions: reader.positions,
    issues: reader.issues,
  };
}
