// Generates src/generated/types.ts: one TypeScript interface per Cluster API kind the SDK emits,
// plus a named interface for every nested object, from the OpenAPI v3 schemas of the CRDs listed
// in crds.ts. With --check it changes nothing and fails when the committed file differs from
// what it would write.
//
// The converter (`generateTypes`) is a pure function of the schemas so tests can feed it their
// own. It refuses any schema construct it has no mapping for rather than guessing.
//
// Type names: every nested object type is named `<Kind>` + the PascalCase of the last property
// names on its path (array items and map values take the singular of the property name:
// `conditions[]` -> `Condition`). It starts with one name and takes more of the path only while
// two different schemas would get the same name, so `spec.template.spec` of a
// KubeadmConfigTemplate is `KubeadmConfigTemplateTemplateSpec` while its `spec` is
// `KubeadmConfigTemplateSpec`. Identical object schemas (including descriptions) within one kind
// share one type, named after their first occurrence.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_SOURCES, crdSchema } from './crds.ts';

/** A JSON schema node as found in a CRD. */
type Schema = Record<string, unknown>;

/** One kind to generate: its name, the `group/version` emitted, and its `openAPIV3Schema`. */
export interface KindSchema {
  kind: string;
  apiVersion: string;
  schema: Schema;
}

/** Options of {@link generateTypes}. */
export interface GenerateOptions {
  /** Comment lines (without `// `) at the top of the output. */
  header?: readonly string[];
  /** Module the `ObjectMeta` type is imported from. */
  objectsModule?: string;
}

/** Longest description kept, in characters; longer first paragraphs are cut at a sentence. */
const MAX_DESCRIPTION = 400;
/** Width of comment lines, indentation included. */
const WIDTH = 100;

/** Keywords that carry no type information (validation, list/map semantics, documentation). */
const IGNORED_KEYWORDS = new Set([
  'description',
  'title',
  'format',
  'default',
  'example',
  'externalDocs',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
]);
/** Keywords the converter maps. */
const TYPE_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'nullable',
]);
/** Names the generated module defines besides the per-kind types. */
const FIXED_NAMES = ['ObjectMeta', 'CapiObject', 'CapiKind', 'API_VERSIONS'];

/** What a schema node maps to. */
type Shape =
  | { t: 'int-or-string' }
  | { t: 'unknown' }
  | { t: 'string' | 'number'; values?: readonly unknown[] }
  | { t: 'boolean' }
  | { t: 'array'; items: Schema }
  | { t: 'interface'; properties: Record<string, Schema>; required: ReadonlySet<string> }
  /** `values` undefined: any value. */
  | { t: 'map'; values?: Schema }
  | { t: 'empty' };

/** Where a schema node is, for naming and error messages. */
interface Place {
  kind: string;
  /** Dotted path below the object root, `[]` for array items and `{}` for map values. */
  path: string;
  /** PascalCase name segments of the path (array items and map values replace their property's). */
  segments: readonly string[];
  /** The segment array items and map values below this node take. */
  item: string;
}

/** A named interface to emit. */
interface ObjectType {
  kind: string;
  schema: Schema;
  segments: readonly string[];
  paths: string[];
  /** How many trailing segments the name uses. */
  used: number;
  name: string;
}

function fail(place: { kind: string; path: string }, message: string): never {
  throw new Error(`cannot map the CRD schema of ${place.kind} at ${place.path || '(root)'}: ${message}`);
}

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks a node's keywords and tells what it maps to. */
function shapeOf(schema: Schema, place: { kind: string; path: string }): Shape {
  for (const key of Object.keys(schema)) {
    if (IGNORED_KEYWORDS.has(key) || TYPE_KEYWORDS.has(key) || key.startsWith('x-kubernetes-')) continue;
    // controller-gen writes `anyOf: [integer, string]` next to x-kubernetes-int-or-string.
    if (key === 'anyOf' && schema['x-kubernetes-int-or-string'] === true) continue;
    fail(place, `unsupported keyword "${key}"`);
  }
  if (schema['x-kubernetes-int-or-string'] === true) return { t: 'int-or-string' };
  const type = schema.type;
  const values = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (type === undefined) {
    if (preserve) return { t: 'unknown' };
    fail(place, 'no "type" (and not x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields)');
  }
  switch (type) {
    case 'string':
      return values === undefined ? { t: 'string' } : { t: 'string', values };
    case 'integer':
    case 'number':
      return values === undefined ? { t: 'number' } : { t: 'number', values };
    case 'boolean':
      return { t: 'boolean' };
    case 'array':
      if (!isSchema(schema.items)) fail(place, 'array without an "items" schema');
      return { t: 'array', items: schema.items };
    case 'object': {
      const { properties, additionalProperties } = schema;
      if (properties !== undefined) {
        if (!isSchema(properties)) fail(place, '"properties" is not an object');
        if (additionalProperties !== undefined && additionalProperties !== false) {
          fail(place, 'both "properties" and "additionalProperties"');
        }
        if (preserve) fail(place, 'both "properties" and x-kubernetes-preserve-unknown-fields');
        const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
        for (const name of required) {
          if (!Object.hasOwn(properties, name)) fail(place, `required property "${name}" is not defined`);
        }
        for (const [name, child] of Object.entries(properties)) {
          if (!isSchema(child)) fail({ kind: place.kind, path: join2(place.path, name) }, 'not a schema');
        }
        return {
          t: 'interface',
          properties: properties as Record<string, Schema>,
          required: new Set(required),
        };
      }
      if (isSchema(additionalProperties)) return { t: 'map', values: additionalProperties };
      if (additionalProperties === true || preserve) return { t: 'map' };
      return { t: 'empty' };
    }
    default:
      return fail(place, `unknown type ${JSON.stringify(type)}`);
  }
}

const join2 = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/** `kubeadmConfigSpec` -> `KubeadmConfigSpec`, `disk_setup` -> `DiskSetup`. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** The singular of a plural property name, or undefined when it does not look plural. */
function singular(word: string): string | undefined {
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^su]s$/.test(word)) return word.slice(0, -1);
  return undefined;
}

/** The segment the items (or values) of property `name` take. */
function itemSegment(name: string, siblings: Record<string, unknown>): string {
  const one = singular(name);
  return pascal(one === undefined || Object.hasOwn(siblings, one) ? `${name}Item` : one);
}

/** JSON with object keys sorted, so equal schemas give equal strings. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isSchema(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Identity of an object schema for sharing a type: what the interface shows, not the field's own docs. */
function typeKey(schema: Schema): string {
  const { description: _d, default: _v, nullable: _n, ...rest } = schema;
  return canonical(rest);
}

/** The object types found so far. */
interface Found {
  /** Types of one kind by last name segment and {@link typeKey}. */
  byKey: Map<string, ObjectType>;
  /** The type of each object schema node. */
  bySchema: WeakMap<Schema, ObjectType>;
  /** All types, in the order found. */
  types: ObjectType[];
}

/** Finds the object types below one kind's spec/status, in depth-first order. */
function collect(schema: Schema, place: Place, found: Found): void {
  const shape = shapeOf(schema, place);
  if (shape.t === 'array' || shape.t === 'map') {
    const child = shape.t === 'array' ? shape.items : shape.values;
    if (child === undefined) return;
    const suffix = shape.t === 'array' ? '[]' : '{}';
    collect(
      child,
      { ...place, path: place.path + suffix, segments: [...place.segments.slice(0, -1), place.item] },
      found,
    );
    return;
  }
  if (shape.t !== 'interface') return;
  const key = `${place.segments.at(-1)}\0${typeKey(schema)}`;
  // An object equal to one seen before reuses its type. Walking on below it records the other
  // places of the types below, which are all equal to ones seen before as well.
  let type = found.byKey.get(key);
  if (type === undefined) {
    type = { kind: place.kind, schema, segments: place.segments, paths: [], used: 1, name: '' };
    found.byKey.set(key, type);
    found.types.push(type);
  }
  type.paths.push(place.path);
  found.bySchema.set(schema, type);
  for (const name of Object.keys(shape.properties).sort()) {
    collect(
      shape.properties[name]!,
      {
        kind: place.kind,
        path: join2(place.path, name),
        segments: [...place.segments, pascal(name)],
        item: itemSegment(name, shape.properties),
      },
      found,
    );
  }
}

/** Gives every object type the shortest path-derived name no other type (or fixed name) has. */
function assignNames(types: readonly ObjectType[], fixed: ReadonlySet<string>): void {
  const nameOf = (t: ObjectType) => t.kind + t.segments.slice(-t.used).join('');
  for (;;) {
    const groups = new Map<string, ObjectType[]>();
    for (const t of types) {
      const name = nameOf(t);
      groups.set(name, [...(groups.get(name) ?? []), t]);
    }
    let changed = false;
    for (const [name, group] of groups) {
      if (group.length === 1 && !fixed.has(name)) continue;
      const growable = group.filter((t) => t.used < t.segments.length);
      const stuck = group.length - growable.length;
      if (stuck > 1 || (stuck === 1 && fixed.has(name))) {
        const where = group.map((t) => `${t.kind} ${t.paths[0]}`).join(', ');
        throw new Error(`cannot give the object types at ${where} distinct names (all would be ${name})`);
      }
      for (const t of growable) t.used++;
      changed = true;
    }
    if (!changed) break;
  }
  for (const t of types) t.name = nameOf(t);
}

/** Quotes a string as a single-quoted TypeScript literal. */
const quote = (s: string): string =>
  `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;

const propertyName = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : quote(name));

function literal(value: unknown, place: { kind: string; path: string }): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return fail(place, `enum value ${JSON.stringify(value)} is not a string, number, boolean or null`);
}

/** Cuts a description to its first paragraph, at most {@link MAX_DESCRIPTION} characters. */
function summary(text: string): string {
  const first = (text.split(/\n\s*\n/)[0] ?? '').replace(/\s+/g, ' ').trim();
  if (first.length <= MAX_DESCRIPTION) return first;
  const head = first.slice(0, MAX_DESCRIPTION);
  let cut = -1;
  for (const m of head.matchAll(/[a-z0-9)\]`'"]\.(?= )/g)) {
    if (!/\b(e\.g|i\.e|etc|vs)\.$/.test(head.slice(0, m.index + 2))) cut = m.index + 2;
  }
  if (cut >= MAX_DESCRIPTION / 2) return head.slice(0, cut);
  return `${head.slice(0, head.lastIndexOf(' '))} …`;
}

/**
 * Escapes plain text for TSDoc (and TypeDoc's Markdown): `\ @ { } < > \`` get a backslash and
 * `*\/` cannot close the comment. Balanced `code spans` stay as they are unless they contain `*\/`.
 * Returns the words to wrap; a code span never breaks across lines.
 */
function tsdocWords(text: string): string[] {
  const escapeText = (s: string) => s.replace(/[\\@{}<>`]/g, '\\$&').replaceAll('*/', '*\\/');
  const words: string[] = [];
  let current = '';
  for (const [i, part] of text.split(/(`[^`]+`)/).entries()) {
    const code = i % 2 === 1 && !part.includes('*/');
    if (code) {
      current += part;
      continue;
    }
    for (const [j, piece] of escapeText(part).split(' ').entries()) {
      if (j > 0 && current !== '') {
        words.push(current);
        current = '';
      }
      current += piece;
    }
  }
  if (current !== '') words.push(current);
  return words;
}

/** Splits raw TSDoc into words, keeping `{@link …}` and code spans whole. */
function rawWords(raw: string): string[] {
  const words: string[] = [];
  let current = '';
  let depth = 0;
  let code = false;
  for (const ch of raw) {
    if (ch === '`') code = !code;
    else if (!code && ch === '{') depth++;
    else if (!code && ch === '}') depth--;
    if (ch === ' ' && depth === 0 && !code) {
      if (current !== '') words.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current !== '') words.push(current);
  return words;
}

/** Greedy word wrap of one paragraph. */
function wrap(words: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** One doc block item: a paragraph of plain text, or a block tag with plain text or raw TSDoc. */
type DocPart = { text: string } | { raw: string } | { tag: string; text?: string; raw?: string };

/** A `/** … *\/` comment at an indentation, or nothing when there is nothing to say. */
function docComment(indent: string, parts: readonly DocPart[]): string {
  const width = WIDTH - indent.length - 3;
  const blocks: string[][] = [];
  for (const part of parts) {
    if ('tag' in part) {
      const body = part.raw ?? (part.text === undefined ? [] : tsdocWords(part.text));
      const words = typeof body === 'string' ? rawWords(body) : body;
      blocks.push(wrap([part.tag, ...words], width));
    } else if ('raw' in part) {
      blocks.push(wrap(rawWords(part.raw), width));
    } else {
      const words = tsdocWords(part.text);
      if (words.length > 0) blocks.push(wrap(words, width));
    }
  }
  if (blocks.length === 0) return '';
  const flat =
    blocks.length === 1 && blocks[0]!.length === 1 && indent.length + blocks[0]![0]!.length + 7 <= WIDTH;
  if (flat) return `${indent}/** ${blocks[0]![0]} */\n`;
  const body = blocks.map((lines) => lines.map((l) => `${indent} * ${l}`).join('\n')).join(`\n${indent} *\n`);
  return `${indent}/**\n${body}\n${indent} */\n`;
}

/** The doc parts of a property: its description's first paragraph, deprecation, default, bounds. */
function propertyDocs(schema: Schema): DocPart[] {
  const parts: DocPart[] = [];
  const description = typeof schema.description === 'string' ? schema.description : '';
  if (description !== '') parts.push({ text: summary(description) });
  const deprecated = description
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .find((p) => p.startsWith('Deprecated:'));
  if (deprecated !== undefined) {
    const reason = summary(deprecated.slice('Deprecated:'.length).trim());
    parts.push(reason === '' ? { tag: '@deprecated' } : { tag: '@deprecated', text: reason });
  }
  if (schema.default !== undefined) {
    const json = JSON.stringify(schema.default);
    // A code span cannot hold a backtick; such a default is left to the description.
    if (!json.includes('`') && !json.includes('*/')) parts.push({ tag: '@defaultValue', raw: `\`${json}\`` });
  }
  if (typeof schema.minimum === 'number') parts.push({ tag: '@minimum', raw: String(schema.minimum) });
  if (typeof schema.maximum === 'number') parts.push({ tag: '@maximum', raw: String(schema.maximum) });
  return parts;
}

/** Emits the interfaces of a list of kinds. */
class Emitter {
  readonly #bySchema = new WeakMap<Schema, ObjectType>();
  readonly #types: ObjectType[] = [];

  constructor(kinds: readonly KindSchema[]) {
    const names = new Set<string>(FIXED_NAMES);
    for (const k of kinds) {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(k.kind))
        throw new Error(`kind ${JSON.stringify(k.kind)} is not a type name`);
      if (names.has(k.kind)) throw new Error(`kind ${k.kind} is listed twice or clashes with a fixed name`);
      names.add(k.kind);
    }
    for (const k of kinds) {
      const found: Found = { byKey: new Map(), bySchema: this.#bySchema, types: this.#types };
      const root = this.#root(k);
      for (const name of Object.keys(root.properties).sort()) {
        if (name === 'apiVersion' || name === 'kind' || name === 'metadata') continue;
        const place = {
          kind: k.kind,
          path: name,
          segments: [pascal(name)],
          item: itemSegment(name, root.properties),
        };
        collect(root.properties[name]!, place, found);
      }
    }
    assignNames(this.#types, names);
  }

  /** The root schema of a kind, which must be an object with properties. */
  #root(k: KindSchema): Extract<Shape, { t: 'interface' }> {
    const shape = shapeOf(k.schema, { kind: k.kind, path: '' });
    if (shape.t !== 'interface')
      fail({ kind: k.kind, path: '' }, 'the root is not an object with properties');
    return shape;
  }

  /** The TypeScript type of a schema node. */
  typeOf(schema: Schema, place: { kind: string; path: string }): string {
    const shape = shapeOf(schema, place);
    let type: string;
    switch (shape.t) {
      case 'int-or-string':
        type = 'number | string';
        break;
      case 'unknown':
        type = 'unknown';
        break;
      case 'string':
      case 'number':
        type =
          shape.values === undefined
            ? shape.t
            : [...new Set(shape.values.map((v) => literal(v, place)))].join(' | ') || 'never';
        break;
      case 'boolean':
        type = 'boolean';
        break;
      case 'array': {
        const item = this.typeOf(shape.items, { kind: place.kind, path: `${place.path}[]` });
        type = /^[\w.]+(\[\])*$/.test(item) ? `${item}[]` : `Array<${item}>`;
        break;
      }
      case 'map':
        type = `Record<string, ${shape.values === undefined ? 'unknown' : this.typeOf(shape.values, { kind: place.kind, path: `${place.path}{}` })}>`;
        break;
      case 'empty':
        // The API server prunes every field of an object schema without properties.
        type = 'Record<string, never>';
        break;
      case 'interface': {
        const named = this.#bySchema.get(schema);
        if (named === undefined)
          throw new Error(`internal: no type collected for ${place.kind} ${place.path}`);
        type = named.name;
        break;
      }
    }
    return schema.nullable === true && type !== 'unknown' ? `${type} | null` : type;
  }

  /** The members of an interface, each with its docs. */
  #members(
    properties: Record<string, Schema>,
    required: ReadonlySet<string>,
    kind: string,
    path: string,
  ): string {
    let out = '';
    for (const name of Object.keys(properties).sort()) {
      const schema = properties[name]!;
      const type = this.typeOf(schema, { kind, path: join2(path, name) });
      out += docComment('  ', propertyDocs(schema));
      out += `  ${propertyName(name)}${required.has(name) ? '' : '?'}: ${type};\n`;
    }
    return out;
  }

  /** The interface of a kind and of every object below it. */
  kind(k: KindSchema): string {
    const root = this.#root(k);
    const rest = Object.fromEntries(
      Object.entries(root.properties).filter(([name]) => !['apiVersion', 'kind', 'metadata'].includes(name)),
    );
    const description = typeof k.schema.description === 'string' ? summary(k.schema.description) : '';
    let out = docComment('', [
      { raw: `A \`${k.kind}\` (\`${k.apiVersion}\`).` },
      ...(description === '' ? [] : [{ text: description }]),
    ]);
    out += `export interface ${k.kind} {\n`;
    out += `  apiVersion: ${quote(k.apiVersion)};\n`;
    out += `  kind: ${quote(k.kind)};\n`;
    out += '  metadata: ObjectMeta;\n';
    out += this.#members(rest, root.required, k.kind, '');
    out += '}\n';
    for (const t of this.#types) {
      if (t.kind !== k.kind) continue;
      const shape = shapeOf(t.schema, { kind: t.kind, path: t.paths[0]! });
      if (shape.t !== 'interface') throw new Error('internal: collected a non-object');
      const where = t.paths.map((p) => `\`${p}\``);
      const note =
        where.length === 1
          ? `${where[0]} of {@link ${k.kind}}.`
          : `${where[0]} of {@link ${k.kind}}; also ${where.slice(1).join(', ')}.`;
      out += `\n${docComment('', [{ raw: note }])}`;
      out += `export interface ${t.name} {\n`;
      out += this.#members(shape.properties, shape.required, t.kind, t.paths[0]!);
      out += '}\n';
    }
    return out;
  }
}

/**
 * Converts the `openAPIV3Schema` of each kind into TypeScript interfaces: `<Kind>` with a literal
 * `apiVersion` and `kind` and `metadata: ObjectMeta`, a named interface per nested object, and
 * `API_VERSIONS`, `CapiObject` and `CapiKind` over all kinds. Throws when a schema uses a
 * construct it cannot map (unknown `type`, `oneOf`, `$ref`, ...).
 */
export function generateTypes(kinds: readonly KindSchema[], options: GenerateOptions = {}): string {
  if (kinds.length === 0) throw new Error('no kinds to generate');
  const emitter = new Emitter(kinds);
  let out = (options.header ?? ['Generated by scripts/generate-types.ts. Do not edit.'])
    .map((line) => (line === '' ? '//\n' : `// ${line}\n`))
    .join('');
  out += `\nimport type { ObjectMeta } from ${quote(options.objectsModule ?? '../objects.js')};\n\n`;
  out += '/** The `apiVersion` (`group/version`) the SDK emits for each kind. */\n';
  out += 'export const API_VERSIONS: {\n';
  for (const k of kinds) out += `  readonly ${k.kind}: ${quote(k.apiVersion)};\n`;
  out += '} = {\n';
  for (const k of kinds) out += `  ${k.kind}: ${quote(k.apiVersion)},\n`;
  out += '} as const;\n\n';
  out += '/** Any of the Cluster API objects the SDK emits. */\n';
  out += `export type CapiObject = ${kinds.map((k) => k.kind).join(' | ')};\n\n`;
  out += '/** The `kind` of a {@link CapiObject}. */\n';
  out += "export type CapiKind = CapiObject['kind'];\n";
  for (const k of kinds) out += `\n${emitter.kind(k)}`;
  return out;
}

if (import.meta.main) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const target = join(root, 'src/generated/types.ts');
  const check = process.argv.includes('--check');
  const width = Math.max(...CRD_SOURCES.map((s) => s.kind.length));
  const versionWidth = Math.max(...CRD_SOURCES.map((s) => s.apiVersion.length));
  const moduleWidth = Math.max(...CRD_SOURCES.map((s) => s.module.length));
  const header = [
    'Generated by packages/capi/scripts/generate-types.ts. Do not edit: change the script (or the',
    'CRD list in scripts/crds.ts) and run `pnpm --filter @ocne/capi run generate`.',
    '',
    'Sources (kind, apiVersion, Go module, CRD file in it; test-utils/tools/versions.json pins them):',
    ...CRD_SOURCES.map(
      (s) =>
        `  ${s.kind.padEnd(width)}  ${s.apiVersion.padEnd(versionWidth)}  ${s.module.padEnd(moduleWidth)}  ${s.path}`,
    ),
    "with Oracle's ignition.variant and ignition.version fields added to KubeadmControlPlane and",
    'KubeadmConfigTemplate by scripts/oracle-ignition-fields.ts.',
  ];
  const text = generateTypes(
    CRD_SOURCES.map((s) => ({ kind: s.kind, apiVersion: s.apiVersion, schema: crdSchema(s) })),
    { header },
  );
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current === text) {
    if (!check) console.log(`${target} is up to date`);
  } else if (check) {
    console.error(
      `${target} is not current: run \`pnpm --filter @ocne/capi run generate\` and commit the result.`,
    );
    process.exit(1);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
