/**
 * A disk memo of pure reads (a YAML file's parsed layer, the cluster cache's entries, a
 * kubeconfig's CA hashes), keyed by the exact text read, for short-lived processes such as the
 * `ocne` CLI: a cold command then skips the YAML parser when its files did not change since the
 * last command.
 *
 * It is off unless a program turns it on ({@link enableParseMemo}); a library embedding the SDK
 * never writes it. Each entry is named by a 128-bit hash of the code's identity, the kind of read and
 * the text, so a new build or an edited file can never be served an old result, and the folder
 * may be deleted at any time. An entry is written atomically with mode 0600 (a configuration can
 * hold secrets), and one that cannot be read back exactly is a miss, never an error: the memo can
 * only save time, not change a result. Only values it can rebuild exactly are kept: JSON-like
 * trees of plain objects (with their prototype, `Object.prototype` or none), arrays, `Map`s,
 * strings, finite numbers, booleans, `null` and `undefined`, each object once.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Where the memo lives and which code it is for. */
export interface ParseMemoOptions {
  /** The folder of the entries (created with mode 0700). */
  directory: string;
  /**
   * What identifies the running code (for a bundle, a hash of its entry file): entries of other
   * code are never read.
   */
  codeId: string;
  /** Entries kept at most; the oldest go first. @defaultValue `256` */
  maxEntries?: number;
}

/** Texts and encoded values larger than this are not memoized: the memo is for small files. */
const MAX_BYTES = 4 * 1024 * 1024;
const FORMAT = 3;

let memo: Required<ParseMemoOptions> | undefined;
let written = 0;

/**
 * Turns the memo on for this process (or off, with `undefined`). Programs call it once at start,
 * as they would `module.enableCompileCache`.
 */
export function enableParseMemo(options: ParseMemoOptions | undefined): void {
  memo = options === undefined ? undefined : { maxEntries: 256, ...options };
}

/**
 * The result of `compute(text)`, from the memo when an entry for this code, `kind` and exact
 * `text` exists, else computed (and kept when it can be rebuilt exactly). `compute` must be a pure
 * function of `text` and `kind`; what it throws is thrown, and not kept. A value that is not plain
 * data is kept through `codec`.
 */
export function memoized<T>(kind: string, text: string, compute: () => T, codec?: MemoCodec<T>): T {
  const m = memo;
  if (m === undefined || text.length > MAX_BYTES) return compute();
  const key = memoKey(m.codeId, kind, text);
  const path = join(m.directory, `${key}.json`);
  const found = readEntry(path, kind, text.length);
  if (found.hit) {
    if (codec === undefined) return found.value as T;
    try {
      return codec.load(found.value);
    } catch {
      // an entry the codec cannot read back is a miss
    }
  }
  const value = compute();
  const saved = codec === undefined ? value : codec.save(value);
  const encoded = saved === undefined ? undefined : encodeValue(saved);
  if (encoded !== undefined) writeEntry(m, path, kind, text.length, encoded);
  return value;
}

/**
 * How a memoized value that is more than plain data (class instances, references between its
 * parts) is kept: `save` turns it into what the memo can keep exactly (or `undefined`: not kept),
 * `load` rebuilds the value from that. `load(save(v))` must be indistinguishable from `v`; a
 * `load` that throws makes the entry a miss.
 */
export interface MemoCodec<T> {
  /** What the memo keeps of `value` (plain data), or `undefined` to keep nothing. */
  save(value: T): unknown;
  /** The value rebuilt from what `save` returned. */
  load(saved: unknown): T;
}

/**
 * {@link memoized} for a computation over a value rather than a text (a layer given as an object,
 * layers to merge): the key is the value's exact encoding. A value the memo cannot encode, or a
 * memo that is off, just computes.
 */
export function memoizedFor<T>(kind: string, input: unknown, compute: () => T, codec?: MemoCodec<T>): T {
  if (memo === undefined) return compute();
  const encoded = encodeValue(input);
  if (encoded === undefined) return compute();
  return memoized(kind, JSON.stringify(encoded), compute, codec);
}

/**
 * An entry's name: a 128-bit hash of the code, the kind and the text. Not SHA-256: loading
 * `node:crypto` costs a cold command about 6 ms, more than the parse it saves in some commands.
 * The hash only has to tell apart the few hundred texts one home reads, not to resist someone who
 * can already write the user's memo folder (who could write any entry); the entry also records the
 * text's length, checked on every read.
 */
export function memoKey(codeId: string, kind: string, text: string): string {
  // One pass over the parts joined by a separator that cannot occur in a kind or a build id, with
  // the lengths of the first three closing the header, so ("ab", "c") and ("a", "bc") differ.
  const input = `${FORMAT}\u0000${codeId}\u0000${kind}\u0000${codeId.length}:${kind.length}\u0000${text}`;
  // The UTF-16 code units as 32-bit words (Buffer's native copy, zero-padded to whole stripes of
  // four words), then four lanes, each a multiply-rotate per word of its own stripe column
  // (xxHash's layout): this runs cold, in V8's interpreter, where a loop step costs more than its
  // arithmetic, so each step takes eight code units.
  const n = input.length;
  const bytes = Buffer.alloc(Math.ceil((2 * n) / 16) * 16);
  bytes.write(input, 'utf16le');
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  let h1 = 0x243f6a88;
  let h2 = 0x85a308d3;
  let h3 = 0x13198a2e;
  let h4 = 0x03707344;
  for (let i = 0; i < words.length; i += 4) {
    let x = h1 ^ (words[i] as number);
    h1 = (Math.imul((x << 13) | (x >>> 19), 0xcc9e2d51) + 0x6b43a9b5) | 0;
    x = h2 ^ (words[i + 1] as number);
    h2 = (Math.imul((x << 17) | (x >>> 15), 0x1b873593) + 0x3c6ef372) | 0;
    x = h3 ^ (words[i + 2] as number);
    h3 = (Math.imul((x << 11) | (x >>> 21), 0x85ebca6b) + 0xa54ff53a) | 0;
    x = h4 ^ (words[i + 3] as number);
    h4 = (Math.imul((x << 19) | (x >>> 13), 0xc2b2ae35) + 0x510e527f) | 0;
  }
  // The length: zero padding is not the same as trailing NULs.
  h1 ^= n;
  h2 ^= n;
  h3 ^= n;
  h4 ^= n;
  h1 = fmix(h1 + h2 + h3 + h4);
  h2 = fmix(h2 + h1);
  h3 = fmix(h3 + h1);
  h4 = fmix(h4 + h1);
  h1 = fmix(h1 + h2 + h3 + h4);
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}

function fmix(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function readEntry(
  path: string,
  kind: string,
  length: number,
): { hit: true; value: unknown } | { hit: false } {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return { hit: false };
  }
  try {
    const entry = JSON.parse(raw) as { format?: unknown; kind?: unknown; length?: unknown; value?: unknown };
    if (entry.format !== FORMAT || entry.kind !== kind || entry.length !== length || !('value' in entry))
      return { hit: false };
    return { hit: true, value: decode(entry.value) };
  } catch {
    return { hit: false };
  }
}

function writeEntry(
  m: Required<ParseMemoOptions>,
  path: string,
  kind: string,
  length: number,
  value: unknown,
): void {
  const body = JSON.stringify({ format: FORMAT, kind, length, value });
  if (body.length > MAX_BYTES) return;
  // Unique among writers (the process and a counter), and 'wx' refuses a leftover of the same name.
  const temporary = `${path}.${process.pid}.${++written}.tmp`;
  try {
    mkdirSync(m.directory, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, body, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch {
    // A memo that cannot be written only costs the parse next time.
    try {
      unlinkSync(temporary);
    } catch {
      // not made
    }
    return;
  }
  prune(m, path);
}

/** Keeps the folder at `maxEntries`: a changing file (the cluster cache) makes a new entry per version. */
function prune(m: Required<ParseMemoOptions>, written: string): void {
  try {
    const names = readdirSync(m.directory).filter(
      (n) => n.endsWith('.json') && join(m.directory, n) !== written,
    );
    if (names.length < m.maxEntries) return;
    const aged = names
      .map((name) => {
        try {
          return { name, at: statSync(join(m.directory, name)).mtimeMs };
        } catch {
          return { name, at: 0 };
        }
      })
      .sort((a, b) => a.at - b.at);
    // Down to three quarters (the entry just written among them), so a prune is rare.
    for (const { name } of aged.slice(0, names.length + 1 - Math.floor(m.maxEntries * 0.75))) {
      try {
        unlinkSync(join(m.directory, name));
      } catch {
        // another process removed it
      }
    }
  } catch {
    // the folder went away: nothing to prune
  }
}

// --- the encoding: JSON with tags, so prototypes, Maps and undefined come back as they were ---

type Encoded =
  | null
  | boolean
  | number
  | string
  | { u: 1 }
  | { a: Encoded[] }
  | { o: Encoded[]; n?: 1 }
  | { m: Encoded[] };

/**
 * The encoding of `value`, or `undefined` when it holds anything that would not come back
 * exactly (a class instance, a function, a symbol key, an accessor, -0, NaN, an object twice).
 */
export function encodeValue(value: unknown): unknown {
  const seen = new Set<object>();
  const encode = (v: unknown): Encoded => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (v === undefined) return { u: 1 };
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) throw NOT_KEPT;
      return v;
    }
    if (typeof v !== 'object') throw NOT_KEPT;
    if (seen.has(v)) throw NOT_KEPT;
    seen.add(v);
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype || Object.keys(v).length !== v.length) throw NOT_KEPT;
      const items: Encoded[] = [];
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) throw NOT_KEPT; // a hole would come back as undefined
        items.push(encode(v[i]));
      }
      return { a: items };
    }
    if (v instanceof Map) {
      if (Object.getPrototypeOf(v) !== Map.prototype) throw NOT_KEPT;
      const pairs: Encoded[] = [];
      for (const [key, item] of v) pairs.push(encode(key), encode(item));
      return { m: pairs };
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw NOT_KEPT;
    if (Object.getOwnPropertySymbols(v).length > 0) throw NOT_KEPT;
    const pairs: Encoded[] = [];
    const descriptors = Object.getOwnPropertyDescriptors(v);
    for (const key of Object.getOwnPropertyNames(v)) {
      const d = descriptors[key] as PropertyDescriptor;
      if (!('value' in d) || !d.enumerable || !d.writable || !d.configurable) throw NOT_KEPT;
      pairs.push(key, encode(d.value));
    }
    return proto === null ? { o: pairs, n: 1 } : { o: pairs };
  };
  try {
    return encode(value);
  } catch (error) {
    if (error === NOT_KEPT) return undefined;
    throw error;
  }
}

const NOT_KEPT = Symbol('not kept');

/** Rebuilds a value {@link encodeValue} encoded. Throws on anything it did not write. */
export function decode(e: unknown): unknown {
  if (e === null || typeof e === 'boolean' || typeof e === 'string' || typeof e === 'number') return e;
  if (typeof e !== 'object') throw new TypeError('not an encoded value');
  const tagged = e as Partial<Record<'u' | 'a' | 'o' | 'm' | 'n', unknown>>;
  if (tagged.u === 1) return undefined;
  if (Array.isArray(tagged.a)) return tagged.a.map(decode);
  if (Array.isArray(tagged.m)) {
    const map = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < tagged.m.length; i += 2) map.set(decode(tagged.m[i]), decode(tagged.m[i + 1]));
    return map;
  }
  if (Array.isArray(tagged.o)) {
    const out: Record<string, unknown> = tagged.n === 1 ? Object.create(null) : {};
    for (let i = 0; i + 1 < tagged.o.length; i += 2) {
      const key = tagged.o[i];
      if (typeof key !== 'string') throw new TypeError('not an encoded key');
      // defineProperty: a `__proto__` key stays an own property, as the reader made it.
      Object.defineProperty(out, key, {
        value: decode(tagged.o[i + 1]),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw new TypeError('not an encoded value');
}
