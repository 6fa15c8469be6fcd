// The gzip of the data URLs (src/gzip.ts), against zlib as the reference: whatever the input, zlib
// reads back exactly the bytes given; the output is about as small as zlib's best level; and the
// data URL of every file is the shortest form, as it was with zlib's gzip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync, crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDataUrl, makeDataUrl } from '../src/data-url.js';
import { codeLengths, crc32, deflateRaw, gzip } from '../src/gzip.js';

const root = join(import.meta.dirname, '../../..');
/** Texts like those an Ignition carries: scripts, YAML, unit files, the sources here. */
const realFiles = [
  'examples/byo/byo.yaml',
  'examples/oci/capi.yaml',
  'packages/ignition/src/node.ts',
  'packages/ignition/src/gzip.ts',
  'packages/config/src/generated/schemas.ts',
  'pnpm-lock.yaml',
].map((path) => readFileSync(join(root, path)));

/** Bytes with the repetition real files have: runs, repeated words, random bytes, long texts. */
const data = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc
    .array(fc.constantFrom('set -e\n', 'kubeadm ', 'ocne', '  - name: x\n', '\t', '{"a":1}', 'é', '\0'), {
      maxLength: 600,
    })
    .map((parts) => new TextEncoder().encode(parts.join(''))),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 2000 }))
    .map(([unit, times]) => {
      const out = new Uint8Array(unit.length * times);
      for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
      return out;
    }),
  fc.constantFrom(...realFiles),
);

describe('gzip', () => {
  it('gives back exactly the bytes through zlib, for any input', () => {
    fc.assert(
      fc.property(data, (bytes) => {
        const gz = gzip(bytes) as Uint8Array;
        expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(bytes))).toBe(true);
        // The header zlib writes at its best level: no name, no time, Unix.
        expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
      }),
      { numRuns: 400 },
    );
  });

  it('compresses real files to within 3% of zlib at level 9 (and these sources, in total, within 2%)', () => {
    let ours = 0;
    let zlibs = 0;
    for (const file of realFiles) {
      const mine = (gzip(file) as Uint8Array).length;
      const theirs = gzipSync(file, { level: 9 }).length;
      expect(mine / theirs, `${file.length} bytes`).toBeLessThan(1.03);
      ours += mine;
      zlibs += theirs;
    }
    expect(ours / zlibs).toBeLessThan(1.02);
  });

  it('is undefined exactly when the result would be longer than maxBytes', () => {
    fc.assert(
      fc.property(data, fc.integer({ min: -5, max: 400 }), (bytes, slack) => {
        const full = gzip(bytes) as Uint8Array;
        const limit = full.length + slack - 200;
        const bounded = gzip(bytes, limit);
        if (full.length <= limit) expect(bounded).toEqual(full);
        else expect(bounded).toBeUndefined();
      }),
      { numRuns: 200 },
    );
    expect(deflateRaw(new Uint8Array(0), 0)).toBeUndefined();
  });

  it('computes the CRC-32 zlib computes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        expect(crc32(bytes)).toBe(zlibCrc32(bytes));
      }),
    );
  });
});

describe('codeLengths', () => {
  /** Kraft's sum of the lengths: 1 for a complete prefix code. */
  const kraft = (lengths: Uint8Array) => lengths.reduce((sum, l) => sum + (l > 0 ? 2 ** -l : 0), 0);

  it('makes complete prefix codes within the limit, optimal when the limit does not bind', () => {
    const freqs = fc.oneof(
      fc.array(fc.nat({ max: 1000 }), { minLength: 2, maxLength: 286 }),
      // Fibonacci-like weights: Huffman lengths would pass 15 bits, package-merge keeps them to the limit.
      fc.integer({ min: 20, max: 40 }).map((n) => {
        const f = [1, 1];
        while (f.length < n) f.push((f.at(-1) as number) + (f.at(-2) as number));
        return f;
      }),
    );
    fc.assert(
      fc.property(freqs, fc.constantFrom(7, 15), (f, limit) => {
        const used = f.filter((x) => x > 0).length;
        fc.pre(used <= 2 ** limit);
        const lengths = codeLengths(f, limit);
        for (let s = 0; s < f.length; s++) {
          expect(lengths[s] === 0).toBe(f[s] === 0);
          expect(lengths[s]).toBeLessThanOrEqual(limit);
        }
        if (used >= 2) expect(kraft(lengths)).toBeCloseTo(1, 12);
        else if (used === 1) expect(lengths.filter((l) => l > 0)).toEqual(new Uint8Array([1]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('makeDataUrl', () => {
  /** The rule: the escaped form, else base64 when strictly shorter, else gzip when strictly shorter by more than 'gzip'. */
  function reference(bytes: Uint8Array): { source: string; compression: string } {
    let escaped = '';
    for (const b of bytes)
      escaped += /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    let source = `data:,${escaped}`;
    const base64 = `data:;base64,${Buffer.from(bytes).toString('base64')}`;
    if (base64.length < source.length) source = base64;
    const gz = `data:;base64,${Buffer.from(gzip(bytes) as Uint8Array).toString('base64')}`;
    if (gz.length + 'gzip'.length < source.length) return { source: gz, compression: 'gzip' };
    return { source, compression: '' };
  }

  it('picks the shortest form, as when every form was made in full, and decodes to the bytes', () => {
    fc.assert(
      fc.property(data, (bytes) => {
        const url = makeDataUrl(bytes);
        expect(url).toEqual(reference(bytes));
        expect(
          Buffer.from(decodeDataUrl(url.source, url.compression) as Uint8Array).equals(Buffer.from(bytes)),
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
