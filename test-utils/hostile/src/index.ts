/**
 * @ocne/test-hostile (test-only): a generator of hostile configuration files for the tests of the
 * configuration reader and the cluster cache, and the fuzz run `packages/config/bench/fuzz.ts`: YAML with anchors and aliases in every position (keys,
 * values, list items, merge sources, inside the collection they name), merge keys (cyclic and
 * exponential ones too), prototype keys, deep nesting, huge scalars and keys, many keys, many bad
 * lines, files over the size limit, and damage to the bytes (invalid UTF-8, CR-only line ends,
 * byte order marks, NULs, truncation). Each input is the bytes of a file.
 */
import fc from 'fast-check';

/** One generated file: what kind of document it started as, and its bytes. */
export interface HostileInput {
  kind: string;
  bytes: Uint8Array;
}

const encoder = new TextEncoder();

/** Keys of both configuration formats, so that random documents often reach deep checks. */
const CONFIG_KEYS = [
  'name',
  'provider',
  'providers',
  'libvirt',
  'oci',
  'byo',
  'controlPlaneShape',
  'ocpus',
  'controlPlaneNode',
  'workerNode',
  'cpu',
  'memory',
  'networkInterface',
  'workerNodes',
  'controlPlaneNodes',
  'virtualIp',
  'podSubnet',
  'kubernetesVersion',
  'kubeApiServerBindPort',
  'osRegistry',
  'applications',
  'config',
  'release',
  'proxy',
  'httpsProxy',
  'catalog',
  'headless',
  'ephemeralCluster',
  'node',
  'password',
  'clusterDefinitionInline',
  'segment',
  'enabled',
  'subnet',
];

/** Keys that name properties of every JavaScript object. */
export const PROTOTYPE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
  'isPrototypeOf',
];

const plainKey = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...CONFIG_KEYS) },
  { weight: 4, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('"__proto__"', "'constructor'", '? __proto__', '1.10', '~') },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
);

const scalar = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom(
      'byo',
      'oci',
      'libvirt',
      'demo',
      '10.244.0.0/16',
      '198.18.0.0/24',
      '192.168.122.230',
      'enp1s0',
      '1.33',
      '1.30',
      '20Gi',
      'ocid1.vcn.oc1..aaaa',
      'http://proxy:3128',
      'true',
      'false',
      'null',
      '~',
      '""',
    ),
  },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '99999999999999999999999',
      '-99999999999999999999999',
      '9007199254740993',
      '1e+23',
      '-5',
      '0',
      '3',
      '0x1F',
      '0o17',
      '.inf',
      '-.inf',
      '.nan',
      '1.5',
      '-0',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '"a\\x41\\u00e9\\U0001F600"',
      '"\\ud800"',
      "'it''s'",
      '!!binary aGVsbG8=',
      '!!str 1',
      '!!int "7"',
      '!!map {}',
      '!custom x',
      '"unterminated',
      '[',
      '{a: 1',
      '@reserved',
      '`tick',
      '%TAG',
    ),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 50_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => `"${'y'.repeat(n)}"`) },
);

/** A YAML tree whose anchors and aliases are placed when it is written out. */
type Tree =
  | { t: 'scalar'; text: string; anchor: boolean }
  | { t: 'alias'; pick: number }
  | { t: 'map'; entries: Entry[]; flow: boolean; anchor: boolean }
  | { t: 'seq'; items: Tree[]; flow: boolean; anchor: boolean };
type Entry =
  | { k: 'plain'; key: string; anchor: boolean; value: Tree }
  | { k: 'alias'; pick: number; value: Tree }
  | { k: 'merge'; picks: number[] };

/** Anchors on one node in four. */
const anchored = fc.nat(3).map((n) => n === 0);

const trees = fc.letrec<{ tree: Tree; entry: Entry; map: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    {
      weight: 4,
      arbitrary: fc.record({ t: fc.constant('scalar' as const), text: scalar, anchor: anchored }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('alias' as const), pick: fc.nat(40) }) },
    { weight: 3, arbitrary: tie('map') },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('seq' as const),
        items: fc.array(tie('tree'), { maxLength: 4 }),
        flow: fc.boolean(),
        anchor: anchored,
      }),
    },
  ) as fc.Arbitrary<Tree>,
  map: fc.record({
    t: fc.constant('map' as const),
    entries: fc.array(tie('entry'), { maxLength: 6 }),
    flow: fc.boolean(),
    anchor: anchored,
  }) as fc.Arbitrary<Tree>,
  entry: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        k: fc.constant('plain' as const),
        key: plainKey,
        anchor: anchored,
        value: tie('tree'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('alias' as const), pick: fc.nat(40), value: tie('tree') }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('merge' as const),
        picks: fc.array(fc.nat(40), { maxLength: 4 }),
      }),
    },
  ) as fc.Arbitrary<Entry>,
}));

/** Writes a tree as YAML, block or flow style, naming anchors as it goes. */
class Writer {
  readonly #anchors: string[] = [];

  #anchor(on: boolean): string {
    if (!on) return '';
    const name = `a${this.#anchors.length}`;
    this.#anchors.push(name);
    return `&${name} `;
  }

  /** An alias to an anchor written so far (an ancestor too), or now and then to one never written. */
  #alias(pick: number): string {
    if (this.#anchors.length === 0 || pick % 11 === 10) return '*nowhere';
    return `*${this.#anchors[pick % this.#anchors.length]}`;
  }

  #sources(picks: number[]): string {
    if (picks.length === 1) return this.#alias(picks[0]!);
    return `[${picks.map((p) => this.#alias(p)).join(', ')}]`;
  }

  flow(tree: Tree): string {
    switch (tree.t) {
      case 'scalar':
        return this.#anchor(tree.anchor) + tree.text;
      case 'alias':
        return this.#alias(tree.pick);
      case 'seq':
        return `${this.#anchor(tree.anchor)}[${tree.items.map((i) => this.flow(i)).join(', ')}]`;
      case 'map': {
        const head = this.#anchor(tree.anchor);
        const parts = tree.entries.map((e) => {
          if (e.k === 'merge') return `<<: ${this.#sources(e.picks)}`;
          const key = e.k === 'alias' ? `${this.#alias(e.pick)} ` : this.#anchor(e.anchor) + e.key;
          return `${key}: ${this.flow(e.value)}`;
        });
        return `${head}{${parts.join(', ')}}`;
      }
    }
  }

  /** The text after `key:` or `- ` for a value at `indent`. */
  value(tree: Tree, indent: number): string {
    if (tree.t === 'map' && !tree.flow && tree.entries.length > 0) {
      const head = this.#anchor(tree.anchor);
      return ` ${head}\n${this.block(tree, indent + 2)}`;
    }
    if (tree.t === 'seq' && !tree.flow && tree.items.length > 0) {
      const head = this.#anchor(tree.anchor);
      const pad = ' '.repeat(indent + 2);
      return ` ${head}\n${tree.items.map((i) => `${pad}-${this.value(i, indent + 2)}`).join('\n')}`;
    }
    return ` ${this.flow(tree)}`;
  }

  /** A block mapping's entries at `indent` (the anchor of the mapping itself is written by the caller). */
  block(tree: Tree & { t: 'map' }, indent: number): string {
    const pad = ' '.repeat(indent);
    return tree.entries
      .map((e) => {
        if (e.k === 'merge') return `${pad}<<: ${this.#sources(e.picks)}`;
        const key = e.k === 'alias' ? `${this.#alias(e.pick)} ` : this.#anchor(e.anchor) + e.key;
        return `${pad}${key}:${this.value(e.value, indent)}`;
      })
      .join('\n');
  }

  document(tree: Tree): string {
    if (tree.t === 'map' && !tree.flow)
      return `${this.#anchor(tree.anchor).trimEnd()}\n${this.block(tree, 0)}\n`;
    return `${this.flow(tree)}\n`;
  }
}

const written = trees.tree.map((tree) => new Writer().document(tree));

/** Documents shaped like real configuration, with anchors, aliases and merge keys in them. */
const shaped = fc
  .record({
    provider: fc.constantFrom('byo', 'oci', 'libvirt'),
    top: trees.map,
    proxy: trees.map,
    node: trees.map,
    config: trees.tree,
  })
  .map(({ provider, top, proxy, node, config }) => {
    const w = new Writer();
    return [
      `provider: ${provider}`,
      'virtualIp: 192.168.122.230',
      w.block(top as Tree & { t: 'map' }, 0),
      `proxy:${w.value(proxy, 0)}`,
      'providers:',
      '  byo:',
      '    networkInterface: enp1s0',
      '  libvirt:',
      `    controlPlaneNode:${w.value(node, 4)}`,
      'applications:',
      '  - name: app',
      `    config:${w.value(config, 4)}`,
      '',
    ].join('\n');
  });

/** `<<` and aliases that multiply: `levels` levels of `fanout` references each. */
const bombs = fc
  .record({
    levels: fc.integer({ min: 2, max: 12 }),
    fanout: fc.integer({ min: 2, max: 10 }),
    merge: fc.boolean(),
    where: fc.constantFrom('top', 'proxy', 'config', 'list'),
  })
  .map(({ levels, fanout, merge, where }) => {
    const lines = ['x-0: &b0 {httpsProxy: x, unknown: y}'];
    for (let i = 1; i <= levels; i++) {
      const refs = Array.from({ length: fanout }, () => `*b${i - 1}`).join(', ');
      lines.push(merge ? `x-${i}: &b${i}\n  <<: [${refs}]` : `x-${i}: &b${i} [${refs}]`);
    }
    const last = `*b${levels}`;
    if (where === 'top') lines.push(merge ? `<<: ${last}` : `podSubnet: ${last}`);
    if (where === 'proxy') lines.push(`proxy: ${last}`);
    if (where === 'config') lines.push(`applications:\n  - name: a\n    config: ${last}`);
    if (where === 'list')
      lines.push(`applications: [${Array.from({ length: fanout }, () => last).join(', ')}]`);
    return `${lines.join('\n')}\n`;
  });

/** Merge keys and aliases that name the collection they stand in. */
const cycles = fc.constantFrom(
  'proxy: &p\n  httpsProxy: x\n  <<: *p\n',
  'proxy: &p\n  <<: [*p, *p]\n',
  '&top\n<<: *top\nname: x\n',
  'a: &a\n  b: &b\n    <<: *a\nproxy: *b\n',
  'a: &a\n  <<: *b\nb: &b\n  <<: *a\nproxy: *a\n',
  'applications: &l\n  - name: x\n    config: *l\n',
  'applications:\n  - name: x\n    config: &c\n      k: *c\n',
  'applications:\n  - name: x\n    config: &c\n      <<: *c\n      k: 1\n',
  'providers: &p\n  libvirt:\n    controlPlaneNode: *p\n',
  '&k key: *k\n',
  '? &k [a, *k]\n: 1\n',
);

/** Prototype keys in every layer's position, including under `byo`, which runs the most checks. */
const prototypes = fc
  .record({
    key: fc.constantFrom(...PROTOTYPE_KEYS),
    inner: fc.constantFrom(
      'controlPlaneNodes: three',
      'podSubnet: [1]',
      'name: UPPER',
      'provider: nope',
      'networkInterface: [x]',
    ),
    at: fc.constantFrom('', '  ', '    '),
  })
  .map(({ key, inner, at }) => {
    const body = `${key}:\n  ${at}${inner}\n`;
    if (at === '')
      return `provider: byo\nvirtualIp: 10.0.0.1\nproviders:\n  byo:\n    networkInterface: e\n${body}`;
    if (at === '  ')
      return `provider: byo\nvirtualIp: 10.0.0.1\nproviders:\n  byo:\n    networkInterface: e\n  ${key}:\n    ${inner}\n`;
    return `provider: byo\nvirtualIp: 10.0.0.1\napplications:\n  - name: a\n    config:\n      ${key}:\n        ${inner}\n`;
  });

/** Nesting far deeper than any configuration: flow, block mappings and compact lists. */
const deep = fc
  .record({
    depth: fc.integer({ min: 50, max: 3000 }),
    style: fc.constantFrom('flow', 'map', 'seq', 'config'),
  })
  .map(({ depth, style }) => {
    if (style === 'flow') return `applications: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    if (style === 'seq') return `podSubnet:\n${'- '.repeat(depth)}x\n`;
    if (style === 'config')
      return `applications:\n  - config: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`;
    const n = Math.min(depth, 400);
    return `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k:`).join('\n')}\n`;
  });

/** Many keys, long keys, long values and many bad lines. */
const large = fc.oneof(
  fc
    .record({ n: fc.integer({ min: 100, max: 2000 }), proto: fc.boolean() })
    .map(({ n, proto }) =>
      Array.from({ length: n }, (_, i) =>
        proto ? `${PROTOTYPE_KEYS[i % PROTOTYPE_KEYS.length]}${i}: ${i}` : `workerNode${i}: ${i}`,
      ).join('\n'),
    ),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => `workerNode${'s'.repeat(n)}: 1\n`),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => `name: ${'A'.repeat(n)}\n`),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => `podSubnet: "${'1'.repeat(n)}/16"\n`),
  fc
    .integer({ min: 10, max: 1000 })
    .map((n) => Array.from({ length: n }, (_, i) => `k${i}: "bad`).join('\n')),
  fc
    .integer({ min: 10, max: 1000 })
    .map((n) => Array.from({ length: n }, (_, i) => ` k${i}: x\n- y`).join('\n')),
  fc
    .integer({ min: 10, max: 500 })
    .map((n) => Array.from({ length: n }, (_, i) => `k${i}: [1, 2`).join('\n')),
  fc.constantFrom(1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024).map((n) => `# ${'z'.repeat(n)}\nname: x\n`),
  fc
    .integer({ min: 50, max: 500 })
    .map((n) => `applications:\n${'  - {name: a, config: {k: v}}\n'.repeat(n)}`),
);

/** Byte sequences that are not UTF-8: a stray continuation, overlong forms, surrogates, truncation. */
const BAD_BYTES: readonly number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

const damage = fc.record({
  invalid: fc.array(fc.record({ at: fc.nat(), bytes: fc.constantFrom(...BAD_BYTES) }), { maxLength: 3 }),
  lineEnds: fc.constantFrom('lf', 'lf', 'lf', 'cr', 'crlf', 'mixed'),
  bom: fc.boolean(),
  nul: fc.option(fc.nat(), { nil: undefined }),
  truncate: fc.option(fc.nat(), { nil: undefined }),
  tab: fc.option(fc.nat(), { nil: undefined }),
});

function damaged(text: string, d: typeof damage extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  let t = text;
  if (d.lineEnds === 'cr') t = t.replace(/\n/g, '\r');
  else if (d.lineEnds === 'crlf') t = t.replace(/\n/g, '\r\n');
  else if (d.lineEnds === 'mixed')
    t = t.replace(/\n/g, (_, i: number) => (i % 3 === 0 ? '\r' : i % 3 === 1 ? '\r\n' : '\n'));
  if (d.tab !== undefined && t.length > 0) {
    const i = d.tab % t.length;
    t = `${t.slice(0, i)}\t${t.slice(i)}`;
  }
  if (d.bom) t = `\uFEFF${t}`;
  let bytes = encoder.encode(t);
  if (d.truncate !== undefined && bytes.length > 0) bytes = bytes.subarray(0, d.truncate % bytes.length);
  const insert = (at: number, extra: readonly number[]) => {
    const i = bytes.length === 0 ? 0 : at % (bytes.length + 1);
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes.subarray(0, i));
    out.set(extra, i);
    out.set(bytes.subarray(i), i + extra.length);
    bytes = out;
  };
  if (d.nul !== undefined) insert(d.nul, [0]);
  for (const { at, bytes: extra } of d.invalid) insert(at, extra);
  return bytes;
}

/** A document, named by its kind, and sometimes damaged. */
const documents = fc.oneof(
  { weight: 6, arbitrary: written.map((text) => ({ kind: 'random tree', text })) },
  { weight: 6, arbitrary: shaped.map((text) => ({ kind: 'shaped config', text })) },
  { weight: 2, arbitrary: bombs.map((text) => ({ kind: 'alias or merge bomb', text })) },
  { weight: 2, arbitrary: cycles.map((text) => ({ kind: 'cycle', text })) },
  { weight: 2, arbitrary: prototypes.map((text) => ({ kind: 'prototype keys', text })) },
  { weight: 1, arbitrary: deep.map((text) => ({ kind: 'deep nesting', text })) },
  { weight: 1, arbitrary: large.map((text) => ({ kind: 'large', text })) },
);

/** A hostile configuration file: one of the documents above, its bytes damaged one time in three. */
export const hostileInput: fc.Arbitrary<HostileInput> = fc
  .tuple(
    documents,
    fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: damage }),
  )
  .map(([{ kind, text }, d]) => ({
    kind: d === undefined ? kind : `${kind}, damaged`,
    bytes: d === undefined ? encoder.encode(text) : damaged(text, d),
  }));

/**
 * Whether two values are the same tree: equal primitives (`Object.is`), the same prototype for
 * every object (a plain object is not a null-prototype one), the same own keys in the same order
 * (`__proto__` and symbols included), Maps entry by entry. What a reader gives back must pass this
 * against a fresh read, not only look equal as JSON.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    const x = [...a];
    const y = [...b];
    return (
      x.length === y.length && x.every(([k, v], i) => sameValue(k, y[i]?.[0]) && sameValue(v, y[i]?.[1]))
    );
  }
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  const at = (o: object, k: PropertyKey): unknown => Object.getOwnPropertyDescriptor(o, k)?.value;
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameValue(at(a, k), at(b, k)));
}
