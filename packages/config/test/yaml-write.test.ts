/**
 * The YAML writer against `yaml` itself: for each option set our commands use, on random JSON-like
 * trees full of hostile strings, `writeYaml` either declines (`undefined`) or writes exactly the
 * bytes `yaml`'s `stringify` writes; and on realistic data it practically never declines.
 */
import { stringifyYaml, writeYaml, type YamlWriteOptions, yamlStringifyOptions } from '@ocne/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

// OCNE_PROPERTY_RUNS raises the number of runs for a longer search.
const NUM_RUNS = Number(process.env.OCNE_PROPERTY_RUNS ?? 400);
const TIMEOUT = Math.max(30_000, NUM_RUNS * 5);

/** The option sets of the call sites, with the exact `yaml` options each call site passed. */
const OPTION_SETS: readonly { name: string; writer: YamlWriteOptions; yaml: object }[] = [
  {
    name: 'template (YAML 1.1, literal blocks, no aliases)',
    writer: { version: '1.1', blockQuote: 'literal', aliasDuplicateObjects: false },
    yaml: { version: '1.1', lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false },
  },
  {
    name: 'kubeadm (indent 4, nullStr)',
    writer: { indent: 4, nullStr: 'null' },
    yaml: { indent: 4, indentSeq: true, lineWidth: 0, nullStr: 'null' },
  },
  { name: 'oci-ccm (indent 4)', writer: { indent: 4 }, yaml: { indent: 4, lineWidth: 0 } },
];

/** Words some YAML schema reads as something else than a string, in the cases YAML 1.1 knows. */
const KEYWORDS = [
  'y',
  'Y',
  'n',
  'N',
  'yes',
  'Yes',
  'YES',
  'yEs',
  'no',
  'No',
  'NO',
  'on',
  'On',
  'ON',
  'oN',
  'off',
  'Off',
  'OFF',
  'true',
  'True',
  'TRUE',
  'tRue',
  'false',
  'False',
  'FALSE',
  'null',
  'Null',
  'NULL',
  'nULL',
  '~',
  '',
  '.inf',
  '-.inf',
  '+.Inf',
  '.INF',
  '.nan',
  '.NaN',
  '.NAN',
  '.Nan',
  '<<',
  '=',
  '0',
  '-0',
  '+1',
  '007',
  '0755',
  '0o17',
  '0o8',
  '0x1F',
  '0xg',
  '-0x1',
  '0b101',
  '+0b1_0',
  '1_000',
  '_1',
  '1.5',
  '.5',
  '5.',
  'e0',
  'E+3',
  '.e5',
  '_e1',
  '1e3',
  '1E+3',
  '-1.2e-3',
  '1_0.5',
  '.e1',
  '1:30',
  '-1:30:00',
  '1:60',
  '1:30.5',
  '190:20:30',
  '2024-01-01',
  '2001-12-14t21:59:43.10-05:00',
  '2001-12-14 21:59:43.10 -5',
  '2002-12-14',
  '2024-1-1',
  '1.10',
  'v1.33',
  '10.0.0.1',
  '0.0.0.0:10249',
  '::1',
  '[::1]:6443',
  'sha256:abc',
  '---',
  '...',
  '%YAML',
  '--- a',
  '...x',
  '%x',
];
const INDICATORS = '-?:,[]{}#&*!|>\'"%@`=<~ \t\n\\';
const SPECIAL = [
  '\u0000',
  '\u0007',
  '\u000b',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udc00',
  'é',
  '😀',
  '\r',
  '\u0001',
  '\u009f',
  '\ufeff',
];

/** Strings made to break quoting rules: keywords, indicators, blanks and breaks in every place. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...KEYWORDS),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...KEYWORDS),
        fc.constantFrom(...INDICATORS.split('')),
        fc.constantFrom(
          ': ',
          ' #',
          '\n',
          '\n\n',
          ' \n',
          '\n ',
          '\t',
          '- ',
          '? ',
          '\n---\n',
          '"',
          "'",
          '\\n',
          ...SPECIAL,
        ),
        fc.string({ maxLength: 6 }),
        fc.constantFrom('a', 'b', 'key', 'value', ' '),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 12 }),
  // Long texts with breaks: double-quoted ones are broken into lines at 40 characters.
  fc
    .array(fc.constantFrom('line', ' ', '\n', '\n\n', '\u0001', 'x'.repeat(20), '"', "'"), { maxLength: 20 })
    .map((p) => p.join('')),
);

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-0, 1e21, 1e-7, 0.1, Number.MAX_SAFE_INTEGER + 2),
);

const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('seq')),
  map: fc.dictionary(hostileString, fc.oneof(tie('node'), fc.constant(undefined)), { maxKeys: 5 }),
  seq: fc.array(tie('node'), { maxLength: 4 }),
})).node;

/** Documents with one object in several places: `yaml` anchors it (`&a1`) and aliases it (`*a1`). */
const sharing = fc
  .tuple(
    fc.array(fc.tuple(hostileString, fc.nat(3), tree), { maxLength: 6 }),
    fc.oneof(fc.dictionary(hostileString, tree, { maxKeys: 3 }), fc.array(tree, { maxLength: 3 })),
    fc.oneof(fc.dictionary(hostileString, tree, { maxKeys: 2 }), fc.array(tree, { maxLength: 2 })),
  )
  .map(([entries, shared, other]) =>
    Object.fromEntries(
      entries.map(([key, how, value]) => [
        key,
        [value, shared, [shared, other, { k: shared }], { k: other, l: [other] }][how],
      ]),
    ),
  );

const document = fc.oneof(
  fc.dictionary(hostileString, tree, { maxKeys: 6 }),
  fc.array(tree, { maxLength: 5 }),
  sharing,
);

describe('writeYaml writes what yaml writes, or declines', () => {
  for (const set of OPTION_SETS) {
    it(
      set.name,
      () => {
        let written = 0;
        fc.assert(
          fc.property(document, (doc) => {
            const ours = writeYaml(doc, set.writer);
            if (ours === undefined) return;
            written++;
            expect(ours).toBe(stringify(doc, set.yaml));
          }),
          { numRuns: NUM_RUNS },
        );
        // The writer declines only rare shapes: it must write most random documents itself.
        expect(written).toBeGreaterThan(NUM_RUNS * 0.9);
      },
      TIMEOUT,
    );

    it(`${set.name}: the options stringifyYaml gives yaml are the call site's`, () => {
      const sample = { a: [1, { b: 'x\ny', c: null }], on: 'no', d: [] };
      expect(stringify(sample, yamlStringifyOptions(set.writer))).toBe(stringify(sample, set.yaml));
    });
  }

  it('declines what only yaml writes: top-level scalars, cycles, non-JSON values, long keys', () => {
    const shared = { a: 1 };
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [
      'text',
      42,
      null,
      cycle,
      [cycle],
      { a: [1, undefined] },
      // biome-ignore lint/suspicious/noSparseArray: a hole is what this checks
      [1, , 2],
      { d: new Date(0) },
      { m: new Map() },
      { f: () => 1 },
      { b: 1n },
      { ['k'.repeat(1100)]: 1 },
    ]) {
      expect(writeYaml(value)).toBeUndefined();
    }
    expect(writeYaml(cycle, { aliasDuplicateObjects: false })).toBeUndefined();
    // Options outside the writer's, as JavaScript could pass them.
    for (const options of [{ indent: 0 }, { indent: 2.5 }, { version: '1.0' }, { blockQuote: 'folded' }]) {
      expect(writeYaml({ a: 'x\ny' }, options as YamlWriteOptions)).toBeUndefined();
    }
    // Without aliases a repeated object is written again, as yaml does.
    const twice = { a: shared, b: shared };
    expect(writeYaml(twice, { aliasDuplicateObjects: false })).toBe(
      stringify(twice, { aliasDuplicateObjects: false, lineWidth: 0 }),
    );
  });

  it('stringifyYaml falls back to yaml for what the writer declines', () => {
    const doc = { a: [1, undefined], d: new Date(0) };
    expect(stringifyYaml(doc, { indent: 4 })).toBe(stringify(doc, { indent: 4, lineWidth: 0 }));
    expect(stringifyYaml('on', { version: '1.1' })).toBe(stringify('on', { version: '1.1', lineWidth: 0 }));
  });
});

/** Realistic configuration-like data: names, versions, addresses, paths, certificates, scripts. */
const realisticString = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  fc.stringMatching(/^v?1\.[0-9]{1,2}(\.[0-9]{1,2})?$/),
  fc.ipV4(),
  fc.stringMatching(/^\/[a-z/._-]{1,30}$/),
  fc.stringMatching(/^ocid1\.[a-z]+\.oc1\.[a-z0-9.]{10,30}$/),
  fc.stringMatching(/^[A-Za-z0-9+/]{20,60}={0,2}$/),
  fc
    .array(fc.stringMatching(/^[ -~]{0,50}$/), { minLength: 2, maxLength: 8 })
    .map((lines) => `${lines.join('\n')}\n`),
);
const realisticTree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    realisticString,
    fc.nat(65535),
    fc.boolean(),
    tie('map'),
    tie('seq'),
  ),
  map: fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9.-]{0,15}$/), tie('node'), { maxKeys: 6 }),
  seq: fc.array(tie('node'), { maxLength: 4 }),
})).node;

describe('on realistic data the writer does not decline', () => {
  for (const set of OPTION_SETS) {
    it(set.name, () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z]{0,12}$/), realisticTree, { maxKeys: 8 }),
          (doc) => {
            const ours = writeYaml(doc, set.writer);
            expect(ours).toBe(stringify(doc, set.yaml));
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});
