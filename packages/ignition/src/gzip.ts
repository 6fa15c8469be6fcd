/**
 * gzip (RFC 1952) of one DEFLATE stream (RFC 1951), in JavaScript, for the files of an Ignition
 * config: a few kilobytes each, where loading `node:zlib` (and the stream modules it needs) cost a
 * cold command more than all its compression. It searches as zlib's best level does (hash
 * chains, lazy matching) and writes one block with Huffman codes built for the data
 * (length-limited by package-merge), or a fixed-code or stored block when that is shorter.
 * Butane's `MakeDataURL` compresses with Go's own DEFLATE, whose bytes differ from zlib's anyway:
 * what matters is valid gzip of about zlib's size.
 */

const WINDOW = 32_768;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
/** How many earlier positions with the same three bytes are tried (zlib's best level: 4096). */
const MAX_CHAIN = 4096;
/** A match this long is taken without looking further (zlib's best level: 258). */
const NICE_MATCH = 258;
/** A match at least this long is not deferred to look for a longer one at the next byte. */
const MAX_LAZY = 258;
/** A match of three bytes further back than this is not taken (zlib's TOO_FAR). */
const TOO_FAR = 4096;
const HASH_BITS = 15;
const HASH_SIZE = 1 << HASH_BITS;

/** Length codes 257..285: base length and extra bits. */
const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/** Distance codes 0..29: base distance and extra bits. */
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
/** The order in which code-length code lengths are written. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** The length code (index into LENGTH_BASE) of each match length 3..258. */
const LENGTH_CODE = new Uint8Array(MAX_MATCH + 1);
for (let code = 0; code < LENGTH_BASE.length; code++) {
  const base = LENGTH_BASE[code] as number;
  const end = code === LENGTH_BASE.length - 1 ? MAX_MATCH : base + (1 << (LENGTH_EXTRA[code] as number)) - 1;
  for (let length = base; length <= end; length++) LENGTH_CODE[length] = code;
}
// 258 has its own code (285), not the last of 227..258 of code 284.
LENGTH_CODE[MAX_MATCH] = LENGTH_BASE.length - 1;

/** The distance code (0..29) of a distance 1..32768: two codes per power of two past 4. */
function distCode(distance: number): number {
  const d = distance - 1;
  if (d < 4) return d;
  const bits = 31 - Math.clz32(d);
  return 2 * bits + ((d >> (bits - 1)) & 1);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as gzip's trailer has it). */
export function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    // Each entry from those of single bits (entry i ^ j = entry i ^ entry j): 255 steps, not 2,048.
    crcTable = new Uint32Array(256);
    let c = 1;
    for (let bit = 128; bit > 0; bit >>= 1) {
      c = (c >>> 1) ^ (c & 1 ? 0xedb88320 : 0);
      for (let j = 0; j < 256; j += 2 * bit) crcTable[bit + j] = (c ^ (crcTable[j] as number)) >>> 0;
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++)
    crc = (table[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The LZ77 parse, as zlib's `deflate_slow` makes it: literals as their byte (0..255), matches as
 * `256 + length` followed by the distance, in one Int32Array with the count of entries used.
 */
function lz77(data: Uint8Array): { tokens: Int32Array; count: number } {
  const n = data.length;
  const tokens = new Int32Array(n * 2 + 2);
  let count = 0;
  // Tables sized to the input: a command's files are a few kilobytes, and zeroing 256 KiB of
  // tables per file would cost more than compressing it.
  let hashBits = 8;
  while (hashBits < HASH_BITS && 1 << hashBits < n) hashBits++;
  const hashMask = (1 << hashBits) - 1;
  const head = new Int32Array(1 << hashBits).fill(-1);
  const prevSize = Math.min(n, WINDOW);
  const prev = new Int32Array(Math.max(1, prevSize));
  // Plain locals (no closures, no arrays returned): this runs cold, in V8's interpreter.
  let matchLength = MIN_MATCH - 1;
  let matchDistance = 0;
  let matchAvailable = false;
  let i = 0;
  while (i < n) {
    // Index position i and take the chain of earlier positions with the same three bytes.
    let first = -1;
    if (i + MIN_MATCH <= n) {
      const h = ((data[i] as number) << 10) ^ ((data[i + 1] as number) << 5) ^ (data[i + 2] as number);
      first = head[h & hashMask] as number;
      prev[i % prevSize] = first;
      head[h & hashMask] = i;
    }
    const prevLength = matchLength;
    const prevDistance = matchDistance;
    matchLength = MIN_MATCH - 1;
    matchDistance = 0;
    if (first >= 0 && prevLength < MAX_LAZY) {
      // The longest match at i longer than the one found at i - 1.
      let best = prevLength;
      const limit = Math.min(MAX_MATCH, n - i);
      let candidate = first;
      let chain = MAX_CHAIN;
      while (candidate >= 0 && i - candidate < WINDOW && chain-- > 0) {
        // Quick reject: the byte that would make this match longer than the best must agree.
        if (data[candidate + best] === data[i + best] && data[candidate] === data[i]) {
          let length = 1;
          while (length < limit && data[candidate + length] === data[i + length]) length++;
          if (length > best) {
            best = length;
            matchDistance = i - candidate;
            if (length >= NICE_MATCH || length === limit) break;
          }
        }
        const next = prev[candidate % prevSize] as number;
        if (next >= candidate) break; // the slot holds a later position now
        candidate = next;
      }
      if (matchDistance > 0) matchLength = best;
      // A three-byte match far back costs more than its literals (zlib's TOO_FAR).
      if (matchLength === MIN_MATCH && matchDistance > TOO_FAR) matchLength = MIN_MATCH - 1;
    }
    if (prevLength >= MIN_MATCH && matchLength <= prevLength) {
      // The match at i - 1 stands: emit it, and index the positions it covers.
      tokens[count++] = 256 + prevLength;
      tokens[count++] = prevDistance;
      const end = i - 1 + prevLength;
      for (let j = i + 1; j < end; j++) {
        if (j + MIN_MATCH > n) break;
        const h = ((data[j] as number) << 10) ^ ((data[j + 1] as number) << 5) ^ (data[j + 2] as number);
        prev[j % prevSize] = head[h & hashMask] as number;
        head[h & hashMask] = j;
      }
      matchAvailable = false;
      matchLength = MIN_MATCH - 1;
      i = end;
    } else if (matchAvailable) {
      tokens[count++] = data[i - 1] as number;
      i++;
    } else {
      matchAvailable = true;
      i++;
    }
  }
  if (matchAvailable) tokens[count++] = data[n - 1] as number;
  return { tokens, count };
}

/**
 * Code lengths of at most `limit` bits for the symbols' frequencies: Huffman's, computed in place
 * on typed arrays (Moffat and Katajainen's method); when a length would pass the limit,
 * package-merge (the optimal length-limited code). Unused symbols get 0; a single used symbol 1.
 */
export function codeLengths(freqs: ArrayLike<number>, limit: number): Uint8Array {
  const lengths = new Uint8Array(freqs.length);
  const used: number[] = [];
  for (let s = 0; s < freqs.length; s++) if ((freqs[s] as number) > 0) used.push(s);
  const n = used.length;
  if (n === 0) return lengths;
  if (n === 1) {
    lengths[used[0] as number] = 1;
    return lengths;
  }
  // Least frequent first, then by symbol: one native sort of frequency * 1024 + symbol (exact
  // below 2^53, so for any input under 8 TiB), no comparator called from the interpreter.
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const symbol = used[k] as number;
    keys[k] = (freqs[symbol] as number) * 1024 + symbol;
  }
  keys.sort();
  for (let k = 0; k < n; k++) used[k] = (keys[k] as number) % 1024;
  const a = new Float64Array(n);
  for (let k = 0; k < n; k++) a[k] = freqs[used[k] as number] as number;
  // Phase 1: internal node weights, each leaf or node pointing to its parent.
  a[0] = (a[0] as number) + (a[1] as number);
  let root = 0;
  let leaf = 2;
  for (let next = 1; next < n - 1; next++) {
    if (leaf >= n || (a[root] as number) < (a[leaf] as number)) {
      a[next] = a[root] as number;
      a[root++] = next;
    } else a[next] = a[leaf++] as number;
    if (leaf >= n || (root < next && (a[root] as number) < (a[leaf] as number))) {
      a[next] = (a[next] as number) + (a[root] as number);
      a[root++] = next;
    } else a[next] = (a[next] as number) + (a[leaf++] as number);
  }
  // Phase 2: the depth of each internal node.
  a[n - 2] = 0;
  for (let next = n - 3; next >= 0; next--) a[next] = (a[a[next] as number] as number) + 1;
  // Phase 3: the depth of each leaf.
  let available = 1;
  let usedAtDepth = 0;
  let depth = 0;
  root = n - 2;
  let next = n - 1;
  while (available > 0) {
    while (root >= 0 && a[root] === depth) {
      usedAtDepth++;
      root--;
    }
    while (available > usedAtDepth) {
      a[next--] = depth;
      available--;
    }
    available = 2 * usedAtDepth;
    depth++;
    usedAtDepth = 0;
  }
  // a[k] is now the length of the k-th least frequent symbol.
  if ((a[0] as number) <= limit) {
    for (let k = 0; k < n; k++) lengths[used[k] as number] = a[k] as number;
    return lengths;
  }
  return packageMerge(freqs, used, limit);
}

/** Package-merge over the used symbols, least frequent first: optimal lengths of at most `limit` bits. */
function packageMerge(freqs: ArrayLike<number>, used: readonly number[], limit: number): Uint8Array {
  const lengths = new Uint8Array(freqs.length);
  // A node is a leaf (its symbol) or a package of two nodes; weights alongside.
  type Node = { weight: number; symbol: number; left?: Node; right?: Node };
  const leaves: Node[] = used.map((symbol) => ({ weight: freqs[symbol] as number, symbol }));
  let list: Node[] = leaves;
  for (let level = 1; level < limit; level++) {
    const packages: Node[] = [];
    for (let k = 0; k + 1 < list.length; k += 2) {
      const left = list[k] as Node;
      const right = list[k + 1] as Node;
      packages.push({ weight: left.weight + right.weight, symbol: -1, left, right });
    }
    // Merge leaves and packages by weight (leaves first on ties).
    const merged: Node[] = [];
    let a = 0;
    let b = 0;
    while (a < leaves.length || b < packages.length) {
      if (
        b >= packages.length ||
        (a < leaves.length && (leaves[a] as Node).weight <= (packages[b] as Node).weight)
      )
        merged.push(leaves[a++] as Node);
      else merged.push(packages[b++] as Node);
    }
    list = merged;
  }
  const count = (node: Node): void => {
    if (node.symbol >= 0) lengths[node.symbol] = (lengths[node.symbol] as number) + 1;
    else {
      count(node.left as Node);
      count(node.right as Node);
    }
  };
  for (let k = 0; k < 2 * used.length - 2; k++) count(list[k] as Node);
  return lengths;
}

/** Each byte with its bits in reverse order. */
const REVERSED = new Uint8Array(256);
for (let b = 1; b < 256; b++) REVERSED[b] = ((REVERSED[b >> 1] as number) >> 1) | ((b & 1) << 7);

/** Canonical codes for code lengths (RFC 1951 3.2.2), bit-reversed for LSB-first writing. */
function canonicalCodes(lengths: Uint8Array): Uint16Array {
  const countOf = new Uint16Array(16);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s] as number;
    if (l > 0) countOf[l] = (countOf[l] as number) + 1;
  }
  // Unused symbols (length 0) are not counted: countOf[0] stays 0, as the RFC's algorithm needs.
  const next = new Uint16Array(16);
  let code = 0;
  for (let bits = 1; bits < 16; bits++) {
    code = (code + (countOf[bits - 1] as number)) << 1;
    next[bits] = code;
  }
  const codes = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s] as number;
    if (l === 0) continue;
    const c = next[l] as number;
    next[l] = c + 1;
    codes[s] = (((REVERSED[c & 0xff] as number) << 8) | (REVERSED[c >> 8] as number)) >> (16 - l);
  }
  return codes;
}

/** Writes bits LSB first into a byte array of a known size (plain fields: this runs cold). */
class BitWriter {
  readonly bytes: Uint8Array;
  length = 0;
  bits = 0;
  count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  write(value: number, bits: number): void {
    this.bits |= value << this.count;
    this.count += bits;
    while (this.count >= 8) {
      this.bytes[this.length++] = this.bits & 0xff;
      this.bits >>>= 8;
      this.count -= 8;
    }
  }

  /** Pads to a byte boundary with zero bits. */
  align(): void {
    if (this.count > 0) this.write(0, 8 - this.count);
  }

  pushBytes(data: Uint8Array): void {
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
}

let fixedCodeLengths: { litlen: Uint8Array; dist: Uint8Array } | undefined;

/** The fixed Huffman code lengths of RFC 1951 3.2.6 (made once). */
function fixedLengths(): { litlen: Uint8Array; dist: Uint8Array } {
  if (fixedCodeLengths === undefined) {
    const litlen = new Uint8Array(288);
    litlen.fill(8, 0, 144);
    litlen.fill(9, 144, 256);
    litlen.fill(7, 256, 280);
    litlen.fill(8, 280, 288);
    fixedCodeLengths = { litlen, dist: new Uint8Array(30).fill(5) };
  }
  return fixedCodeLengths;
}

/** Run-length encoding of the two code-length lists (symbols 0..18 with their extra bits). */
function runLengths(lengths: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < lengths.length) {
    const l = lengths[i] as number;
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === l) run++;
    i += run;
    if (l === 0) {
      while (run >= 11) {
        const r = Math.min(run, 138);
        out.push([18, r - 11]);
        run -= r;
      }
      if (run >= 3) {
        out.push([17, run - 3]);
        run = 0;
      }
    } else {
      out.push([l, 0]);
      run--;
      while (run >= 3) {
        const r = Math.min(run, 6);
        out.push([16, r - 3]);
        run -= r;
      }
    }
    for (; run > 0; run--) out.push([l, 0]);
  }
  return out;
}

const EXTRA_OF_CL = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];

/**
 * DEFLATE (RFC 1951) of `data`: one final block, whichever of dynamic, fixed or stored is
 * shortest; `undefined` when that is longer than `maxBytes` (found before anything is written).
 */
export function deflateRaw(
  data: Uint8Array,
  maxBytes: number = Number.POSITIVE_INFINITY,
): Uint8Array | undefined {
  const { tokens, count } = lz77(data);
  const litFreq = new Uint32Array(286);
  const distFreq = new Uint32Array(30);
  for (let k = 0; k < count; k++) {
    const t = tokens[k] as number;
    if (t < 256) litFreq[t] = (litFreq[t] as number) + 1;
    else {
      const lc = 257 + (LENGTH_CODE[t - 256] as number);
      litFreq[lc] = (litFreq[lc] as number) + 1;
      const dc = distCode(tokens[++k] as number);
      distFreq[dc] = (distFreq[dc] as number) + 1;
    }
  }
  litFreq[256] = 1; // end of block

  // Dynamic codes: at least one distance code is sent even when no match was found.
  const litLengths = codeLengths(litFreq, 15);
  const distLengths = codeLengths(distFreq, 15);
  let distances = 0;
  for (let d = 0; d < 30; d++) distances += distFreq[d] as number;
  if (distances === 0) distLengths[0] = 1;
  let hlit = 286;
  while (hlit > 257 && litLengths[hlit - 1] === 0) hlit--;
  let hdist = 30;
  while (hdist > 1 && distLengths[hdist - 1] === 0) hdist--;
  const all = new Uint8Array(hlit + hdist);
  all.set(litLengths.subarray(0, hlit));
  all.set(distLengths.subarray(0, hdist), hlit);
  const runs = runLengths(all);
  const clFreq = new Uint32Array(19);
  for (const [symbol] of runs) clFreq[symbol] = (clFreq[symbol] as number) + 1;
  // Inflaters refuse an incomplete code-length code: it gets at least two codes, as zlib's do.
  let clUsed = 0;
  for (let c = 0; c < 19; c++) if ((clFreq[c] as number) > 0) clUsed++;
  for (let c = 0; clUsed < 2; c++) {
    if (clFreq[c] === 0) {
      clFreq[c] = 1;
      clUsed++;
    }
  }
  const clLengths = codeLengths(clFreq, 7);
  let hclen = 19;
  while (hclen > 4 && clLengths[CODE_LENGTH_ORDER[hclen - 1] as number] === 0) hclen--;

  const bodyBits = (lit: Uint8Array, dist: Uint8Array): number => {
    let bits = 0;
    for (let s = 0; s < 286; s++)
      bits +=
        (litFreq[s] as number) * ((lit[s] as number) + (s > 256 ? (LENGTH_EXTRA[s - 257] as number) : 0));
    for (let s = 0; s < 30; s++)
      bits += (distFreq[s] as number) * ((dist[s] as number) + (DIST_EXTRA[s] as number));
    return bits;
  };
  let dynamicBits = 3 + 5 + 5 + 4 + hclen * 3 + bodyBits(litLengths, distLengths);
  for (const [symbol] of runs) dynamicBits += (clLengths[symbol] as number) + (EXTRA_OF_CL[symbol] as number);
  const fixed = fixedLengths();
  const fixedBits = 3 + bodyBits(fixed.litlen, fixed.dist);
  // Stored blocks hold at most 65535 bytes each.
  const storedBits = Math.max(1, Math.ceil(data.length / 65_535)) * 40 + data.length * 8 + 8;

  const size = Math.ceil(Math.min(dynamicBits, fixedBits, storedBits) / 8);
  if (size > maxBytes) return undefined;
  const out = new BitWriter(size + 8);
  if (storedBits <= dynamicBits && storedBits <= fixedBits) {
    let at = 0;
    do {
      const size = Math.min(65_535, data.length - at);
      out.write(at + size >= data.length ? 1 : 0, 1);
      out.write(0, 2);
      out.align();
      out.write(size & 0xff, 8);
      out.write(size >>> 8, 8);
      out.write(~size & 0xff, 8);
      out.write((~size >>> 8) & 0xff, 8);
      out.pushBytes(data.subarray(at, at + size));
      at += size;
    } while (at < data.length);
    return out.bytes.slice(0, out.length);
  }
  let lit: Uint8Array;
  let dist: Uint8Array;
  if (dynamicBits < fixedBits) {
    out.write(1, 1);
    out.write(2, 2);
    out.write(hlit - 257, 5);
    out.write(hdist - 1, 5);
    out.write(hclen - 4, 4);
    for (let k = 0; k < hclen; k++) out.write(clLengths[CODE_LENGTH_ORDER[k] as number] as number, 3);
    const clCodes = canonicalCodes(clLengths);
    for (const [symbol, extra] of runs) {
      out.write(clCodes[symbol] as number, clLengths[symbol] as number);
      if (symbol >= 16) out.write(extra, EXTRA_OF_CL[symbol] as number);
    }
    lit = litLengths;
    dist = distLengths;
  } else {
    out.write(1, 1);
    out.write(1, 2);
    lit = fixed.litlen;
    dist = fixed.dist;
  }
  const litCodes = canonicalCodes(lit);
  const distCodes = canonicalCodes(dist);
  for (let k = 0; k < count; k++) {
    const t = tokens[k] as number;
    if (t < 256) {
      out.write(litCodes[t] as number, lit[t] as number);
      continue;
    }
    const length = t - 256;
    const lc = LENGTH_CODE[length] as number;
    out.write(litCodes[257 + lc] as number, lit[257 + lc] as number);
    if ((LENGTH_EXTRA[lc] as number) > 0)
      out.write(length - (LENGTH_BASE[lc] as number), LENGTH_EXTRA[lc] as number);
    const distance = tokens[++k] as number;
    const dc = distCode(distance);
    out.write(distCodes[dc] as number, dist[dc] as number);
    if ((DIST_EXTRA[dc] as number) > 0)
      out.write(distance - (DIST_BASE[dc] as number), DIST_EXTRA[dc] as number);
  }
  out.write(litCodes[256] as number, lit[256] as number);
  out.align();
  return out.bytes.slice(0, out.length);
}

/**
 * gzip of `data` at the best compression: a header without name or time (so the bytes depend
 * only on the data), the DEFLATE stream, CRC-32 and size. `undefined` when it would be longer than
 * `maxBytes` (nothing is written then).
 */
export function gzip(data: Uint8Array, maxBytes: number = Number.POSITIVE_INFINITY): Uint8Array | undefined {
  const body = deflateRaw(data, maxBytes - 18);
  if (body === undefined) return undefined;
  const out = new Uint8Array(10 + body.length + 8);
  // ID1 ID2, CM deflate, no flags, MTIME 0, XFL 2 (best compression), OS 3 (Unix), as zlib writes it.
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  out.set(body, 10);
  const view = new DataView(out.buffer);
  view.setUint32(10 + body.length, crc32(data), true);
  view.setUint32(14 + body.length, data.length >>> 0, true);
  return out;
}
