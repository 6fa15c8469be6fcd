/**
 * Property tests of the loader: whatever text it is given, as the cluster file or as the defaults
 * file, it either resolves or rejects with an OcneError whose issues all name a file and, when
 * they have a line, a line inside the text. Never another exception.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigIssue, loadConfig } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

// OCNE_PROPERTY_RUNS raises the number of runs for a longer search.
const NUM_RUNS = Number(process.env.OCNE_PROPERTY_RUNS ?? 300);
const TIMEOUT = Math.max(30_000, NUM_RUNS * 100);

const home = mkdtempSync(join(tmpdir(), 'ocne-property-'));
const defaultsFile = join(home, 'defaults.yaml');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const byoExample = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'byo', 'byo.yaml'),
  'utf8',
);

/** Lines of a text as an editor counts them (the last one may be empty). */
function lineCount(text: string): number {
  return text.split(/\r\n|\r|\n/).length;
}

/** Checks the outcome of one load; returns a description of what is wrong, or `undefined`. */
function problem(outcome: { ok: true } | { ok: false; error: unknown }, text: string): string | undefined {
  if (outcome.ok) return undefined;
  const { error } = outcome;
  if (!isOcneError(error)) {
    return `rejected with something other than an OcneError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  const e = error as { issues?: readonly ConfigIssue[]; line?: number; message: string };
  if (!Array.isArray(e.issues) || e.issues.length === 0) return `OcneError without issues: ${e.message}`;
  if (e.message.includes('    at ')) return `a stack trace in the message: ${e.message}`;
  const max = lineCount(text) + 1;
  for (const issue of [e, ...e.issues] as Array<Partial<ConfigIssue>>) {
    if (issue !== e && (typeof issue.file !== 'string' || issue.file === '')) {
      return `issue without a file: ${JSON.stringify(issue)}`;
    }
    if (issue.line !== undefined && !(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= max)) {
      return `line ${issue.line} outside 1..${max}: ${JSON.stringify(issue)}`;
    }
    if (issue.column !== undefined && !(Number.isInteger(issue.column) && issue.column >= 1)) {
      return `column ${issue.column} is not a positive whole number: ${JSON.stringify(issue)}`;
    }
  }
  return undefined;
}

async function outcome(load: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await load();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

async function checkAsCluster(text: string): Promise<void> {
  const result = await outcome(() => loadConfig({ config: text, defaults: false, home }));
  const p = problem(result, text);
  expect(p, `cluster text ${JSON.stringify(text)}`).toBeUndefined();
}

async function checkAsDefaults(text: string): Promise<void> {
  writeFileSync(defaultsFile, text);
  const result = await outcome(() =>
    loadConfig({ defaults: defaultsFile, config: { provider: 'libvirt' }, home }),
  );
  const p = problem(result, text);
  expect(p, `defaults text ${JSON.stringify(text)}`).toBeUndefined();
}

// Keys of both formats, at every level, so that random documents often reach deep checks.
const CONFIG_KEYS = [
  'name',
  'provider',
  'providers',
  'libvirt',
  'oci',
  'byo',
  'olvm',
  'none',
  'compartment',
  'images',
  'amd64',
  'arm64',
  'vcn',
  'loadBalancer',
  'subnet1',
  'subnet2',
  'controlPlaneShape',
  'workerShape',
  'shape',
  'ocpus',
  'bootVolumeSizeInGBs',
  'networkInterface',
  'automaticTokenCreation',
  'controlPlaneNode',
  'workerNode',
  'memory',
  'cpu',
  'storage',
  'uri',
  'workerNodes',
  'controlPlaneNodes',
  'virtualIp',
  'podSubnet',
  'serviceSubnet',
  'kubernetesVersion',
  'kubeApiServerBindPort',
  'kubeApiServerBindPortAlt',
  'kubeProxyMode',
  'osRegistry',
  'osTag',
  'bootVolumeContainerImage',
  'registry',
  'catalog',
  'communityCatalog',
  'headless',
  'password',
  'sshPublicKey',
  'sshPublicKeyPath',
  'applications',
  'catalogs',
  'release',
  'version',
  'namespace',
  'config',
  'configFrom',
  'proxy',
  'httpsProxy',
  'noProxy',
  'clusterDefinition',
  'clusterDefinitionInline',
  'extraIgnition',
  'directory',
  'cni',
  'autoStartUI',
  'quiet',
  'kubeconfig',
  'ephemeralCluster',
  'node',
  'preserve',
  'certificateInformation',
  'country',
  'catalogfake',
  '<<',
];

const key = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...CONFIG_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

// Values that look like real settings (so validation runs deep) and values of every other kind.
const realistic = fc.constantFrom(
  'oci',
  'byo',
  'libvirt',
  'olvm',
  'aws',
  '10.244.0.0/16',
  '10.96.0.0/12,fd00::/108',
  '10.0.0.0/33',
  '192.168.122.230',
  'ocid1.image.oc1.phx.aaaa',
  'ocid1.vcn.oc1..aaaa',
  'ocne/dev',
  '1.33',
  '1.30',
  'v1.33',
  '1.33.0',
  '4GB',
  '20Gi',
  'VM.Standard.E4.Flex',
  'iptables',
  'container-registry.oracle.com/olcne/ock-ostree:1.33',
  '$6$salt$hash',
  'true',
  'false',
  '',
);
const scalar = fc.oneof(
  { weight: 4, arbitrary: realistic },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
const tree = fc.letrec<{ value: unknown; map: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    tie('map'),
  ),
  map: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
}));

/** A value for a real setting: mostly a plausible one, rarely anything. */
const setting = fc.oneof({ weight: 30, arbitrary: realistic }, { weight: 1, arbitrary: tree.value });
const count = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 7 }) },
  { weight: 1, arbitrary: tree.value },
);
const optional = <T>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(shape, { requiredKeys: [] }) as fc.Arbitrary<Partial<T>>;
const node = optional({ memory: setting, cpu: count, storage: setting });
const shape = optional({ shape: setting, ocpus: count, bootVolumeSizeInGBs: setting });
/** Documents shaped like real configuration, so that more of them reach the value checks. */
const shaped = optional({
  name: setting,
  provider: setting,
  kubernetesVersion: setting,
  podSubnet: setting,
  serviceSubnet: setting,
  virtualIp: setting,
  loadBalancer: setting,
  controlPlaneNodes: count,
  workerNodes: count,
  kubeApiServerBindPort: fc.oneof(count, fc.constantFrom(6443, 6444, 70000)),
  osRegistry: setting,
  password: setting,
  autoStartUI: setting,
  providers: optional({
    libvirt: optional({ controlPlaneNode: node, workerNode: node }),
    oci: optional({
      compartment: setting,
      vcn: setting,
      images: optional({ amd64: setting, arm64: setting }),
      loadBalancer: optional({ subnet1: setting, subnet2: setting }),
      controlPlaneShape: shape,
      workerShape: shape,
    }),
    byo: optional({ networkInterface: setting }),
  }),
  ephemeralCluster: optional({ node }),
  applications: fc.array(optional({ name: setting, config: tree.value }), { maxLength: 2 }),
});

/** (a) YAML made from random data whose keys are mostly real configuration keys. */
const yamlDocument = fc
  .oneof(
    { weight: 4, arbitrary: tree.map },
    { weight: 4, arbitrary: shaped },
    { weight: 1, arbitrary: tree.value },
  )
  .map((value) => stringify(value));

/** (b) Random text: any Unicode, printable text, and text made of YAML punctuation and words. */
const punctuation = fc.string({
  unit: fc.constantFrom(
    ...': -?[]{},#&*!|>\'"%@`\t\n\r\\~.0129aZ'.split(''),
    '\n  ',
    '\n- ',
    '---\n',
    '...\n',
    'name: ',
    'providers:\n  ',
    'oci: ',
    'podSubnet: ',
    '&a ',
    '*a',
    '<<: ',
    '!!str ',
    '\uFEFF',
  ),
  maxLength: 40,
});
const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ maxLength: 60 }),
  punctuation,
);

/** (c) The byo example with random characters deleted, inserted or replaced. */
const edit = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'replace'),
  at: fc.nat(),
  text: fc.oneof(
    fc.constantFrom(...': -[]{}#&*!|>\'"%@`\t\n\\'.split(''), '  ', '\n  ', ': x', '- ', '---'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
  ),
});
const mutatedExample = fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
  let text = byoExample;
  for (const { kind, at, text: piece } of edits) {
    const i = at % (text.length + 1);
    if (kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
    else if (kind === 'insert') text = text.slice(0, i) + piece + text.slice(i);
    else text = text.slice(0, i) + piece + text.slice(i + 1);
  }
  return text;
});

describe('the property checker', () => {
  it('rejects other exceptions, issues without a file and lines outside the text', () => {
    const text = 'name: demo\n';
    const issue = { code: 'OCNE_CONFIG_TYPE' as const, message: 'm', severity: 'error' as const, file: 'f' };
    expect(problem({ ok: true }, text)).toBeUndefined();
    expect(
      problem({ ok: false, error: new ConfigError([{ ...issue, line: 3, column: 1 }]) }, text),
    ).toBeUndefined();
    expect(problem({ ok: false, error: new TypeError('boom') }, text)).toMatch(/other than an OcneError/);
    expect(problem({ ok: false, error: new ConfigError([{ ...issue, line: 4 }]) }, text)).toMatch(
      /outside 1\.\.3/,
    );
    expect(problem({ ok: false, error: new ConfigError([{ ...issue, line: 0 }]) }, text)).toMatch(/outside/);
    expect(problem({ ok: false, error: new ConfigError([{ ...issue, file: '' }]) }, text)).toMatch(
      /without a file/,
    );
  });
});

describe('loadConfig never throws anything but an OcneError with sane locations', () => {
  it('the example used for mutations loads as it is', async () => {
    await expect(loadConfig({ config: byoExample, defaults: false, home })).resolves.toBeDefined();
  });

  it(
    '(a) YAML documents of random data with configuration keys, as the cluster file',
    async () => {
      await fc.assert(fc.asyncProperty(yamlDocument, checkAsCluster), { numRuns: NUM_RUNS });
    },
    TIMEOUT,
  );

  it(
    '(b) random text as the cluster file',
    async () => {
      await fc.assert(fc.asyncProperty(randomText, checkAsCluster), { numRuns: NUM_RUNS });
    },
    TIMEOUT,
  );

  it(
    '(c) mutations of examples/byo/byo.yaml as the cluster file',
    async () => {
      await fc.assert(fc.asyncProperty(mutatedExample, checkAsCluster), { numRuns: NUM_RUNS });
    },
    TIMEOUT,
  );

  it(
    '(d) the same texts as the defaults file',
    async () => {
      await fc.assert(fc.asyncProperty(fc.oneof(yamlDocument, randomText, mutatedExample), checkAsDefaults), {
        numRuns: NUM_RUNS,
      });
    },
    TIMEOUT,
  );
});
