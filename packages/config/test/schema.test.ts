// The published JSON Schemas are what editors use on capi.yaml and defaults.yaml: the bundled
// examples must validate against them, and typical mistakes must not.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterConfigSchema, defaultsConfigSchema } from '@ocne/config';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '../../../examples');
const ajv = new Ajv({ allErrors: true, strict: false });
const cluster = ajv.compile(clusterConfigSchema);
const defaults = ajv.compile(defaultsConfigSchema);

describe('published JSON Schemas', () => {
  it('match the files shipped in schema/', () => {
    const file = JSON.parse(readFileSync(join(here, '../schema/cluster-config.schema.json'), 'utf8'));
    expect(file).toEqual(clusterConfigSchema);
  });

  it.each(['byo/byo.yaml', 'oci/capi.yaml'])(
    'examples/%s validates as a cluster file and names its schema',
    (name) => {
      const text = readFileSync(join(examples, name), 'utf8');
      expect(text).toMatch(/^# yaml-language-server: \$schema=.*cluster-config\.schema\.json$/m);
      expect(cluster(parse(text)), JSON.stringify(cluster.errors)).toBe(true);
    },
  );

  it('examples/defaults.yaml validates as a defaults file', () => {
    expect(
      defaults(parse(readFileSync(join(examples, 'defaults.yaml'), 'utf8'))),
      JSON.stringify(defaults.errors),
    ).toBe(true);
  });

  it.each([
    [{ workerNodes: 'two' }, '/workerNodes'],
    [{ providers: { oci: { compartmnt: 'x' } } }, '/providers/oci'],
    [{ kubeApiServerBindPort: 70000 }, '/kubeApiServerBindPort'],
    [{ headless: 'yes' }, '/headless'],
  ])('flags %j at %s', (value, at) => {
    expect(cluster(value)).toBe(false);
    expect(cluster.errors?.map((e) => e.instancePath)).toContain(at);
  });

  it('rejects cluster-only keys in the defaults file', () => {
    expect(defaults({ name: 'x' })).toBe(false);
  });
});
