/**
 * A small YAML writer for the documents our commands print and write (`ocne cluster template`, the
 * kubeadm configuration in a node's Ignition, the oci-ccm settings): the same bytes the `yaml`
 * package (2.9) writes for the few option sets we use, without loading it. Loading and evaluating
 * `yaml` is a sizeable part of a cold `ocne cluster template` or `join`, and its general stringifier
 * (a node tree per value, a schema lookup per scalar) is most of what `template` spends writing.
 *
 * The writer covers plain JSON-like data (plain objects, arrays, strings, numbers, booleans, null;
 * `undefined` properties dropped) with `lineWidth: 0` (nothing folded) and `indentSeq: true`. Where
 * it is not certain to match `yaml` byte for byte (a top-level scalar, a cycle, a key longer than an
 * implicit key may be, anything not JSON-like) it
 * returns `undefined`, and the caller falls back to `yaml` itself (`stringifyYaml` in
 * `yaml-stringify.ts` does both). The property tests compare it with `yaml` on hostile strings.
 *
 * The rules below are the YAML specification's (which plain scalars read back as strings, the
 * escapes of double-quoted scalars, block scalar headers) as `yaml` applies them, including its
 * choices where YAML leaves one: double quotes unless the text has `"` and no `'`, literal block
 * scalars for multi-line strings, a `2` indentation indicator for block scalars that start with a
 * space whatever the indent, and a double-quoted style that breaks long strings at their newlines.
 * This module must not import `yaml`: the point is not loading it.
 */

/** Options of {@link writeYaml}: the subset of `yaml`'s `stringify` options the writer follows. */
export interface YamlWriteOptions {
  /**
   * The YAML version whose implicit types decide which strings need quotes: `'1.1'` also quotes
   * `yes`, `on`, `0755`, `1:30`, `2024-01-01`…; default `'1.2'` (the core schema), as `yaml`'s.
   */
  version?: '1.1' | '1.2';
  /** Spaces per nesting level of mappings; default 2. Sequence items always take 2 more. */
  indent?: number;
  /** What a `null` is written as; default `null`. */
  nullStr?: string;
  /**
   * As `yaml`'s option: `true` (the default) writes an object met again as an alias (`*a1`) of its
   * first place (`&a1`); `false` writes it again each time.
   */
  aliasDuplicateObjects?: boolean;
  /**
   * As `yaml`'s option, for multi-line strings: `'literal'` or `true` (the default). With
   * `lineWidth: 0` both mean a literal block scalar (`|`), which is all the writer supports.
   */
  blockQuote?: true | 'literal';
}

interface Style {
  readonly v11: boolean;
  /** One level of mapping indentation. */
  readonly step: string;
  readonly nullStr: string;
  /**
   * With `aliasDuplicateObjects`: the anchor name of each object met more than once (`a1`, `a2`…,
   * numbered in the order `yaml` meets their second reference), and the ones written so far.
   */
  readonly anchors: ReadonlyMap<object, string> | undefined;
  readonly written: Set<object>;
}

/**
 * A collection as the writer places it: `inline` on the line of its key or `- ` (an empty one in
 * flow style, an alias, an anchored empty one), or a block `body` whose first line the caller
 * places, with `props` (its anchor) before it when it has one.
 */
type Placed = { inline: string } | { props: string; body: string };

/** Deeper than this, the data is more likely a cycle than a configuration: leave it to `yaml`. */
const MAX_DEPTH = 256;

/**
 * An implicit key longer than this is written as an explicit `? key` by `yaml` (YAML limits implicit
 * keys to 1024 characters); the writer leaves those to it.
 */
const MAX_IMPLICIT_KEY = 1024;

/** Strings of at least this many characters (quotes included, as JSON) break at their newlines when double-quoted. */
const DOUBLE_QUOTED_MULTI_LINE_MIN = 40;

/**
 * Characters only a double-quoted scalar can hold: C0 controls but tab and line feed, DEL, the C1
 * controls, and unpaired surrogates (paired ones are one code point under the `u` flag).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const NEEDS_DOUBLE_QUOTES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{d800}-\u{dfff}]/u;

/**
 * Text that cannot be a plain scalar wherever it stands: an indicator character first (`- ` and
 * `? ` only with a space or alone), `: ` or a line break followed by a blank, a blank before a line
 * break, ` #` (a comment), or a blank or `:` last.
 */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-](?:[ \t]|$)|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;

/** A line starting a directive, a document or its end: `%`, `---`, `...`. */
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/m;

/** One regular expression matching what any of `patterns` matches: one compilation, one run. */
function oneOf(patterns: readonly RegExp[]): RegExp {
  return new RegExp(patterns.map((p) => `(?:${p.source})`).join('|'));
}

/**
 * Whether `text` may read as something else than a string in either schema: every implicit type
 * starts with a digit, a sign, `.`, `~`, the first letter of `null`, `true`, `false`, `y`, `n`, `on`,
 * `off`, or `e` (YAML 1.1's floats may lack digits before the exponent: `e0`), or is empty. Most
 * names fail this first-character test, which spares them the patterns.
 */
function mayBeImplicit(text: string): boolean {
  if (text === '') return true;
  const c = text.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || '+-.~nNtTfFyYoOeE'.includes(text[0] as string);
}

/**
 * Plain scalars the YAML 1.2 core schema reads as something else than a string: null, booleans,
 * integers (decimal, `0o` octal, `0x` hex), floats, `.inf` and `.nan`.
 */
const CORE_IMPLICIT = oneOf([
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/,
  /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
]);

/**
 * The same for YAML 1.1: its wider booleans (`y`, `yes`, `on`, `off`… in three cases), integers in
 * binary, old-style octal (`0755`), hex and decimal with `_`, sexagesimal numbers (`1:30`), floats
 * with `_` and timestamps. (`yaml` leaves the merge key `<<` plain: it only merges when asked to.)
 */
const YAML11_IMPLICIT = oneOf([
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON|N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
  /^[-+]?(?:0b[01_]+|0[0-7_]+|[0-9][0-9_]*|0x[0-9a-fA-F_]+)$/,
  /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/,
  /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:[ \t]*(?:Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$/,
]);

/**
 * `value` as YAML, byte-identical to what `yaml`'s `stringify` writes with these options plus
 * `lineWidth: 0` and `indentSeq: true`, or `undefined` when the writer is not certain to match it
 * (then call `yaml`).
 *
 * @param value - A plain object or array of JSON-like data.
 * @example
 * ```ts
 * writeYaml({ kind: 'Secret', data: { a: 'on' } }, { version: '1.1' }); // 'kind: Secret\ndata:\n  a: "on"\n'
 * ```
 */
export function writeYaml(value: unknown, options: YamlWriteOptions = {}): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // `yaml` takes more than this (any indent, folded blocks, other versions); the writer only what
  // its options type says, also when called from JavaScript.
  const { indent, version, blockQuote } = options;
  if (indent !== undefined && !(Number.isInteger(indent) && indent >= 1 && indent <= 8)) return undefined;
  if (version !== undefined && version !== '1.1' && version !== '1.2') return undefined;
  if (blockQuote !== undefined && blockQuote !== true && blockQuote !== 'literal') return undefined;
  let anchors: Map<object, string> | undefined;
  if (options.aliasDuplicateObjects !== false) {
    anchors = new Map();
    if (!findRepeats(value, new Set(), new Set(), anchors, 0)) return undefined;
  }
  const style: Style = {
    v11: version === '1.1',
    step: ' '.repeat(indent ?? 2),
    nullStr: options.nullStr ?? 'null',
    anchors,
    written: new Set(),
  };
  // The top has no anchor: one would need a cycle.
  const placed = collection(value, '', style, 0);
  if (placed === undefined) return undefined;
  return 'inline' in placed ? `${placed.inline}\n` : `${placed.body}\n`;
}

/**
 * Names the anchors `yaml` gives objects met again, walking the data in the order it builds its
 * nodes (keys in `Object.keys` order, `undefined` values skipped, nothing under a repeat); false
 * for a cycle (an object inside itself), which is left to `yaml`.
 */
function findRepeats(
  value: object,
  open: Set<object>,
  done: Set<object>,
  anchors: Map<object, string>,
  depth: number,
): boolean {
  if (open.has(value) || depth > MAX_DEPTH) return false;
  if (done.has(value)) {
    if (!anchors.has(value)) anchors.set(value, `a${anchors.size + 1}`);
    return true;
  }
  open.add(value);
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    if (typeof child === 'object' && child !== null && !findRepeats(child, open, done, anchors, depth + 1)) {
      return false;
    }
  }
  open.delete(value);
  done.add(value);
  return true;
}

/**
 * A mapping or sequence whose block lines (but the first) are at indentation `indent`, or
 * `undefined` when `value` is neither or holds something the writer leaves to `yaml`.
 */
function collection(value: object, indent: string, style: Style, depth: number): Placed | undefined {
  if (depth > MAX_DEPTH) return undefined;
  // Without aliases a repeated object is written again (a cycle ends at MAX_DEPTH).
  const anchor = style.anchors?.get(value);
  if (anchor !== undefined) {
    if (style.written.has(value)) return { inline: `*${anchor}` };
    style.written.add(value);
  }
  let body: string | undefined;
  if (Array.isArray(value)) {
    body = sequence(value, indent, style, depth);
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return undefined;
    body = mapping(value as Record<string, unknown>, indent, style, depth);
  }
  if (body === undefined) return undefined;
  // An empty collection is written in flow style, on the line of its key or `- `.
  const empty = body === '' ? (Array.isArray(value) ? '[]' : '{}') : undefined;
  if (anchor === undefined) return empty !== undefined ? { inline: empty } : { props: '', body };
  return empty !== undefined ? { inline: `&${anchor} ${empty}` } : { props: `&${anchor}`, body };
}

/** The items of a sequence, `''` when there are none. */
function sequence(
  items: readonly unknown[],
  indent: string,
  style: Style,
  depth: number,
): string | undefined {
  if (Object.getPrototypeOf(items) !== Array.prototype) return undefined;
  // Items sit two columns in, after `- `, whatever the mapping indent.
  const itemIndent = `${indent}  `;
  let out = '';
  for (let i = 0; i < items.length; i++) {
    // A hole or `undefined` becomes an empty node in `yaml`; not ours.
    if (!(i in items)) return undefined;
    const item = items[i];
    let text: string;
    if (typeof item === 'object' && item !== null) {
      const placed = collection(item, itemIndent, style, depth + 1);
      if (placed === undefined) return undefined;
      // A block collection starts on the line of `- `; its anchor, though, has a line of its own.
      text =
        'inline' in placed
          ? placed.inline
          : placed.props === ''
            ? placed.body
            : `${placed.props}\n${itemIndent}${placed.body}`;
    } else {
      const v = scalar(item, itemIndent, style);
      if (v === undefined) return undefined;
      text = v;
    }
    out += i === 0 ? `- ${text}` : `\n${indent}- ${text}`;
  }
  return out;
}

/** The pairs of a mapping, `''` when there are none. */
function mapping(
  object: Record<string, unknown>,
  indent: string,
  style: Style,
  depth: number,
): string | undefined {
  const inner = indent + style.step;
  let out = '';
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    const k = scalarString(key, inner, style, true);
    if (k === undefined || k.length > MAX_IMPLICIT_KEY) return undefined;
    let pair: string;
    if (typeof value === 'object' && value !== null) {
      const placed = collection(value, inner, style, depth + 1);
      if (placed === undefined) return undefined;
      // A block collection starts on the next line; its anchor stays on the key's line.
      pair =
        'inline' in placed
          ? `${k}: ${placed.inline}`
          : placed.props === ''
            ? `${k}:\n${inner}${placed.body}`
            : `${k}: ${placed.props}\n${inner}${placed.body}`;
    } else {
      const v = scalar(value, inner, style);
      if (v === undefined) return undefined;
      pair = `${k}: ${v}`;
    }
    out += out === '' ? pair : `\n${indent}${pair}`;
  }
  return out;
}

function scalar(value: unknown, indent: string, style: Style): string | undefined {
  switch (typeof value) {
    case 'string':
      return scalarString(value, indent, style, false);
    case 'number':
      if (Number.isNaN(value)) return '.nan';
      if (!Number.isFinite(value)) return value < 0 ? '-.inf' : '.inf';
      return Object.is(value, -0) ? '-0' : JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? style.nullStr : undefined;
    default:
      return undefined;
  }
}

/**
 * A string as a key (`key`: on one line, no block scalar) or a value at `indent` (the indentation of
 * its continuation lines).
 */
function scalarString(text: string, indent: string, style: Style, key: boolean): string | undefined {
  if (NEEDS_DOUBLE_QUOTES.test(text)) return doubleQuoted(text, indent, key);
  const multiLine = text.includes('\n');
  if (key) {
    if (multiLine || NOT_PLAIN.test(text)) return quoted(text, indent, key);
    // A top-level key that looks like a document marker would end the document when read back.
    if (indent === style.step && DOCUMENT_MARKER.test(text)) return quoted(text, indent, key);
  } else if (multiLine) {
    return literalBlock(text, indent);
  } else if (NOT_PLAIN.test(text)) {
    return quoted(text, indent, key);
  }
  if (mayBeImplicit(text) && (style.v11 ? YAML11_IMPLICIT : CORE_IMPLICIT).test(text)) {
    return quoted(text, indent, key);
  }
  return text;
}

/** Single quotes when the text has `"` but no `'` (no escaping needed), else double quotes. */
function quoted(text: string, indent: string, key: boolean): string {
  if (text.includes('"') && !text.includes("'")) {
    // Blanks around a line break would be lost in single quotes, and a key is one line.
    if ((key && text.includes('\n')) || /[ \t]\n|\n[ \t]/.test(text)) return doubleQuoted(text, indent, key);
    return `'${text.replace(/'/g, "''").replace(/\n+/g, (breaks) => `${breaks}\n${indent}`)}'`;
  }
  return doubleQuoted(text, indent, key);
}

/** Escapes YAML has of its own for characters JSON writes as `\uXXXX`. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '0000': '\\0',
  '0007': '\\a',
  '000b': '\\v',
  '001b': '\\e',
  '0085': '\\N',
  '00a0': '\\_',
  '2028': '\\L',
  '2029': '\\P',
};

/**
 * A double-quoted scalar: JSON's escapes turned into YAML's (`\x01` for `\u0001`), a blank before a
 * line break escaped (`\ `) so reading does not trim it, and, for a value of 40 characters or more,
 * each run of line breaks (but a final one) written as real line breaks (a folded line break, one
 * more than the run, then `indent`, and `\` before a space that starts the next line).
 */
function doubleQuoted(text: string, indent: string, key: boolean): string {
  const json = JSON.stringify(text);
  const breakLines = !key && json.length >= DOUBLE_QUOTED_MULTI_LINE_MIN;
  // The units of the JSON text between its quotes: an escape sequence or one character.
  const units: string[] = [];
  for (let i = 1; i < json.length - 1; ) {
    const width = json[i] !== '\\' ? 1 : json[i + 1] === 'u' ? 6 : 2;
    units.push(json.slice(i, i + width));
    i += width;
  }
  let out = '"';
  for (let i = 0; i < units.length; i++) {
    const unit = units[i] as string;
    if (unit.length === 1) {
      out += unit === ' ' && units[i + 1] === '\\n' ? '\\ ' : unit;
    } else if (unit.length === 6) {
      const code = unit.slice(2);
      out += SHORT_ESCAPES[code] ?? (code.startsWith('00') ? `\\x${code.slice(2)}` : unit);
    } else if (unit === '\\n' && breakLines && i < units.length - 1) {
      out += '\n\n';
      while (units[i + 1] === '\\n' && i + 1 < units.length - 1) {
        out += '\n';
        i++;
      }
      out += indent;
      if (units[i + 1] === ' ') out += '\\';
    } else {
      out += unit;
    }
  }
  return `${out}"`;
}

/**
 * A multi-line string as a literal block scalar at `indent`, with `yaml`'s header: chomping from the
 * trailing blanks and breaks (`-` none, clip one, `+` more or only blanks), and an indentation
 * indicator (always `2`) when the text starts with a space. Text ending in a line of only blanks is
 * double-quoted instead, as those blanks would not survive a block scalar.
 */
function literalBlock(text: string, indent: string): string {
  if (/\n[\t ]+$/.test(text)) return quoted(text, indent, false);
  let bodyEnd = text.length;
  while (bodyEnd > 0 && /[\n\t ]/.test(text[bodyEnd - 1] as string)) bodyEnd--;
  let tail = text.slice(bodyEnd);
  const tailBreak = tail.indexOf('\n');
  const chomp = tailBreak === -1 ? '-' : bodyEnd === 0 || tailBreak !== tail.length - 1 ? '+' : '';
  let body = text.slice(0, bodyEnd);
  if (tail !== '') {
    if (tail.endsWith('\n')) tail = tail.slice(0, -1);
    // Indent the breaks inside the tail, not the ones that end it.
    tail = tail.replace(/\n+(?!\n|$)/g, (breaks) => breaks + indent);
  }
  // Leading spaces and line breaks, up to the last break before the first other character.
  let lead = 0;
  let lastBreak = -1;
  let startsWithSpace = false;
  for (; lead < body.length; lead++) {
    const c = body[lead];
    if (c === ' ') startsWithSpace = true;
    else if (c === '\n') lastBreak = lead;
    else break;
  }
  let head = body.slice(0, lastBreak < lead ? lastBreak + 1 : lead);
  if (head !== '') {
    body = body.slice(head.length);
    head = head.replace(/\n+/g, (breaks) => breaks + indent);
  }
  const header = `${startsWithSpace ? '2' : ''}${chomp}`;
  return `|${header}\n${indent}${head}${body.replace(/\n+/g, (breaks) => breaks + indent)}${tail}`;
}
