// The data URL of a file is the shortest of its three forms (escaped, base64, gzip'd), exactly as
// when all three are made in full: makeDataUrl measures the first two and gzips only when that
// could be shorter; whatever it picks decodes to the bytes given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDataUrl, makeDataUrl } from '../src/data-url.js';

const root = join(import.meta.dirname, '../../..');
/** Texts like those an Ignition carries: scripts, YAML, unit files, the sources here. */
const realFiles = [
  'examples/byo/byo.yaml',
  'examples/oci/capi.yaml',
  'packages/ignition/src/node.ts',
  'packages/ignition/src/data-url.ts',
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
    const gz = `data:;base64,${gzipSync(bytes, { level: 9 }).toString('base64')}`;
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
