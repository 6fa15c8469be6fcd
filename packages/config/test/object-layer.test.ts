/**
 * An object layer (the overrides of every CLI command, a `config` object) is read from the
 * object's nodes, not from YAML text written for it and parsed again (issue 13: a tenth of a cold
 * `ocne cluster join`). It must read exactly as that text reads: the same data and the same
 * issues, for objects of any shape, configuration keys or not.
 */
import { clusterConfigSchema, defaultsConfigSchema } from '@ocne/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Document } from 'yaml';
import { type ReadOptions, readYaml, readYamlObject } from '../src/schema-walk.js';

/** What the reader did before: the object written as YAML and that text read, without positions. */
function throughText(object: object, options: ReadOptions): unknown {
  const result = readYaml(new Document(object).toString(), options);
  for (const issue of result.issues) {
    delete issue.line;
    delete issue.column;
  }
  return { value: result.value, issues: result.issues };
}

function direct(object: object, options: ReadOptions): unknown {
  const result = readYamlObject(object, options);
  expect(result.positions.size).toBe(0);
  return { value: result.value, issues: result.issues };
}

const cluster: ReadOptions = {
  file: '<cluster overrides>',
  schema: clusterConfigSchema,
  unknownKeys: 'warning',
  ignoredKeys: new Set(['headlessfake']),
};
const defaults: ReadOptions = {
  file: '<config overrides>',
  schema: defaultsConfigSchema,
  unknownKeys: 'error',
};

// Keys of the schemas, so that generated objects reach typed fields of every kind.
const KEYS = [
  ...Object.keys(clusterConfigSchema.properties ?? {}),
  'libvirt',
  'oci',
  'byo',
  'uri',
  'memory',
  'cpu',
  'httpsProxy',
  'shape',
  'ocpus',
  '<<',
  '__proto__',
  '1',
  '',
  'x y',
];
const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '1.30',
    'true',
    'null',
    '~',
    '- a',
    '#',
    'a: b',
    '&a',
    '*a',
    '\n',
    ' x ',
    'yes',
    '0x10',
    '1e3',
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 60, -0, 1e21, Number.NaN),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('tree'), { maxKeys: 6 }),
  ),
}));
const top = fc.dictionary(fc.constantFrom(...KEYS), tree, { maxKeys: 8 });

describe('an object layer', () => {
  it('reads as the YAML text written for it reads, for any object', () => {
    fc.assert(
      fc.property(top, fc.boolean(), (object, asCluster) => {
        const options = asCluster ? cluster : defaults;
        expect(direct(object, options)).toEqual(throughText(object, options));
      }),
      { numRuns: Number(process.env.OCNE_HOSTILE_RUNS ?? 500) },
    );
  }, 120_000);

  it('reads the overrides of the CLI and objects shared or nested deep as that text reads', () => {
    const shared = { httpsProxy: 'x' };
    const cycle: Record<string, unknown> = { name: 'a' };
    cycle.proxy = cycle;
    let deep: Record<string, unknown> = { name: 'a' };
    for (let i = 0; i < 120; i++) deep = { providers: deep };
    const objects: object[] = [
      { workerNodes: 1 },
      { name: 'c', controlPlaneNodes: 3, workerNodes: 2, kubernetesVersion: '1.31', provider: 'byo' },
      { proxy: shared, providers: { oci: { proxy: shared } } },
      cycle,
      deep,
      { kubernetesVersion: 1.3, workerNodes: '2', headless: 'yes', proxy: [1] },
      { name: 'x'.repeat(2 * 1024 * 1024) },
      { name: new Date(0), proxy: new Map([['a', 1]]) },
    ];
    for (const object of objects) {
      expect(direct(object, cluster)).toEqual(throughText(object, cluster));
      expect(direct(object, defaults)).toEqual(throughText(object, defaults));
    }
  });
});
