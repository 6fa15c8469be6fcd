// The parse memo: off unless turned on; with it on, a second read of the same text gives back
// exactly what the first computed (prototypes, Maps, `__proto__` keys and `undefined` included)
// without computing it, and anything else (a changed text, other code, a damaged entry) computes.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableParseMemo, memoized } from '@ocne/core';
import { sameValue as same } from '@ocne/test-hostile';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encodeValue, memoKey } from '../src/memo.js';

const folders: string[] = [];
afterEach(() => {
  enableParseMemo(undefined);
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

function memoFolder(): string {
  const base = mkdtempSync(join(tmpdir(), 'ocne-memo-'));
  folders.push(base);
  return join(base, 'memo');
}

/** JSON-like trees as the readers make them: both prototypes, hostile keys, Maps, undefined. */
const tree = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.integer(),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
  ),
  key: fc.oneof(
    fc.string(),
    fc.constantFrom('__proto__', 'constructor', 'toString', '0', '10', 'hasOwnProperty'),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    tie('array'),
    tie('object'),
    tie('nullObject'),
    tie('map'),
  ),
  array: fc.array(tie('node'), { maxLength: 5 }),
  entries: fc.array(fc.tuple(tie('key') as fc.Arbitrary<string>, tie('node')), { maxLength: 5 }),
  object: (tie('entries') as fc.Arbitrary<[string, unknown][]>).map((entries) => build({}, entries)),
  nullObject: (tie('entries') as fc.Arbitrary<[string, unknown][]>).map((entries) =>
    build(Object.create(null), entries),
  ),
  map: (tie('entries') as fc.Arbitrary<[string, unknown][]>).map((entries) => new Map(entries)),
}));

function build(target: Record<string, unknown>, entries: [string, unknown][]): Record<string, unknown> {
  for (const [k, v] of entries)
    Object.defineProperty(target, k, { value: v, writable: true, enumerable: true, configurable: true });
  return target;
}

describe('the encoding', () => {
  it('gives back every JSON-like tree exactly, through JSON text', () => {
    fc.assert(
      fc.property(tree.node, (value) => {
        const encoded = encodeValue(value);
        expect(encoded).not.toBeUndefined();
        const back = decode(JSON.parse(JSON.stringify(encoded)));
        expect(same(back, value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a __proto__ key an own property, and never changes a prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const back = decode(JSON.parse(JSON.stringify(encodeValue(value)))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses what would not come back the same', () => {
    const twice = { a: 1 };
    class Point {
      x = 1;
    }
    for (const value of [
      { twice, again: twice },
      new Point(),
      new Date(0),
      { f: () => 1 },
      { n: Number.NaN },
      { n: -0 },
      { n: Number.POSITIVE_INFINITY },
      { [Symbol('s')]: 1 },
      Object.defineProperty({}, 'x', { get: () => 1, enumerable: true }),
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is refused
      [1, , 3],
      1n,
    ]) {
      expect(encodeValue(value)).toBeUndefined();
    }
  });
});

describe('memoized', () => {
  it('is off by default: it computes every time and writes nothing', () => {
    let runs = 0;
    expect(memoized('k', 'text', () => ++runs)).toBe(1);
    expect(memoized('k', 'text', () => ++runs)).toBe(2);
  });

  it('computes a text once, then gives its result back from the folder (0700, entries 0600)', () => {
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1' });
    let runs = 0;
    const compute = () => {
      runs++;
      return {
        value: Object.assign(Object.create(null), { name: 'a' }),
        positions: new Map([['name', { line: 1 }]]),
      };
    };
    const first = memoized('config', 'name: a\n', compute);
    const second = memoized('config', 'name: a\n', compute);
    expect(runs).toBe(1);
    expect(same(second, first)).toBe(true);
    expect(second).not.toBe(first);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const [entry] = readdirSync(directory);
    expect(statSync(join(directory, entry as string)).mode & 0o777).toBe(0o600);
  });

  it('computes again for another text, another kind or other code', () => {
    const directory = memoFolder();
    let runs = 0;
    const compute = () => ++runs;
    enableParseMemo({ directory, codeId: 'build-1' });
    memoized('config', 'a', compute);
    memoized('config', 'a ', compute);
    memoized('cache', 'a', compute);
    enableParseMemo({ directory, codeId: 'build-2' });
    expect(memoized('config', 'a', compute)).toBe(4);
    enableParseMemo({ directory, codeId: 'build-1' });
    expect(memoized('config', 'a', compute)).toBe(1);
  });

  it('takes a damaged or foreign entry for a miss, and replaces it', () => {
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1' });
    memoized('config', 'a', () => 'first');
    const [entry] = readdirSync(directory);
    const path = join(directory, entry as string);
    for (const damage of [
      '{"format":1,"kind":"config","value":{"o":[1,2]}}',
      '{',
      '',
      '{"format":1,"kind":"other","value":"x"}',
    ]) {
      writeFileSync(path, damage);
      expect(memoized('config', 'a', () => 'computed')).toBe('computed');
      expect(memoized('config', 'a', () => 'again')).toBe('computed');
    }
  });

  it('throws what the computation throws, and keeps nothing of it', () => {
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1' });
    expect(() =>
      memoized('config', 'bad', () => {
        throw new Error('not valid');
      }),
    ).toThrow('not valid');
    expect(memoized('config', 'bad', () => 'now valid')).toBe('now valid');
  });

  it('keeps a value it cannot rebuild out of the folder, and still returns it', () => {
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1' });
    const date = new Date(0);
    expect(memoized('config', 'a', () => date)).toBe(date);
    expect(() => readdirSync(directory)).toThrow();
  });

  it('works on when the folder cannot be written', () => {
    const directory = memoFolder();
    writeFileSync(join(directory, '..', 'blocker'), '');
    enableParseMemo({ directory: join(directory, '..', 'blocker', 'memo'), codeId: 'build-1' });
    let runs = 0;
    memoized('config', 'a', () => ++runs);
    expect(memoized('config', 'a', () => ++runs)).toBe(2);
    chmodSync(join(directory, '..', 'blocker'), 0o600);
  });

  it('keeps a class instance through a codec, and takes an entry the codec refuses for a miss', () => {
    class Point {
      readonly x: number;
      readonly y: number;
      constructor(x: number, y: number) {
        this.x = x;
        this.y = y;
      }
    }
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1' });
    let runs = 0;
    let refuse = false;
    const codec = {
      save: (p: Point) => (p.x < 0 ? undefined : [p.x, p.y]),
      load: (saved: unknown) => {
        if (refuse) throw new Error('cannot read it');
        const [x, y] = saved as [number, number];
        return new Point(x, y);
      },
    };
    const compute = () => new Point(++runs, 2);
    memoized('point', 'p', compute, codec);
    const served = memoized('point', 'p', compute, codec);
    expect(runs).toBe(1);
    expect(served).toBeInstanceOf(Point);
    expect(served).toEqual(new Point(1, 2));
    refuse = true;
    expect(memoized('point', 'p', compute, codec)).toEqual(new Point(2, 2));
    refuse = false;
    // What save refuses is not kept: computed every time.
    const negative = () => new Point(-++runs, 0);
    memoized('point', 'n', negative, codec);
    memoized('point', 'n', negative, codec);
    expect(runs).toBe(4);
  });

  it('keeps at most maxEntries entries, removing the oldest', () => {
    const directory = memoFolder();
    enableParseMemo({ directory, codeId: 'build-1', maxEntries: 8 });
    for (let i = 0; i < 30; i++) memoized('cache', `version ${i}`, () => i);
    const count = readdirSync(directory).length;
    expect(count).toBeLessThanOrEqual(8);
    expect(memoized('cache', 'version 29', () => -1)).toBe(29);
  });
});

describe('memoKey', () => {
  it('names different inputs differently: 100,000 texts, and the same characters split otherwise', () => {
    const keys = new Set<string>();
    const texts = fc.sample(fc.string({ unit: 'binary', maxLength: 64 }), 100_000);
    const distinct = new Set(texts);
    for (const text of distinct) keys.add(memoKey('build', 'config', text));
    expect(keys.size).toBe(distinct.size);
    // One character apart, and the kind/text boundary moved.
    expect(memoKey('b', 'config', 'name: a')).not.toBe(memoKey('b', 'config', 'name: b'));
    expect(memoKey('b', 'configx', 'y')).not.toBe(memoKey('b', 'config', 'xy'));
    expect(memoKey('b1', 'config', 'x')).not.toBe(memoKey('b', '1config', 'x'));
    expect(memoKey('b', 'config', 'x')).toBe(memoKey('b', 'config', 'x'));
    expect(memoKey('b', 'config', 'x')).toMatch(/^[0-9a-f]{32}$/);
  });
});
