// What rendering the OCI template costs (`pnpm bench`), on examples/oci/capi.yaml: the node
// Ignition alone, the seven objects, and the objects printed as YAML (what `ocne cluster template`
// writes). Then the YAML writing itself, `@ocne/config`'s writer beside `yaml`'s `stringify` with the
// options objectsToYaml used to pass it: warm (in this process), and cold (a fresh Node process
// that loads the module and writes the objects once, as a cold `ocne cluster template` does).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig, writeYaml } from '@ocne/config';
import { group } from '@ocne/test-bench';
import { stringify } from 'yaml';
import { objectsToYaml, ociAdditionalConfig, ociTemplate } from '../src/templates.ts';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '../../../examples');
const YAML_OPTIONS = {
  version: '1.1',
  lineWidth: 0,
  blockQuote: 'literal',
  aliasDuplicateObjects: false,
} as const;

/**
 * Milliseconds from a fresh process's `import()` of `module` to the objects in `objectsFile`
 * written once through `call` (`m` is the module, `o` an object), the median of `runs`
 * processes, interleaved by the caller.
 */
function coldOnce(module: string, call: string, objectsFile: string): number {
  const script = [
    `const objects = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(objectsFile)}, 'utf8'));`,
    'const t0 = performance.now();',
    `import(${JSON.stringify(module)}).then((m) => {`,
    `  const text = objects.map((o) => ${call}).join('---\\n');`,
    '  if (text.length < 1000) throw new Error(text);',
    '  process.stdout.write(String(performance.now() - t0));',
    '});',
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
}
const home = mkdtempSync(join(tmpdir(), 'ocne-bench-'));
try {
  const { cluster } = await loadConfig({
    configPath: join(examples, 'oci/capi.yaml'),
    defaults: false,
    home,
    env: {},
  });
  const template = await ociTemplate(cluster);
  await group('OCI template of examples/oci/capi.yaml', [
    {
      name: 'node Ignition for additionalConfig (ociAdditionalConfig)',
      fn: () => ociAdditionalConfig(cluster),
    },
    { name: 'the seven objects (ociTemplate)', fn: () => ociTemplate(cluster) },
    {
      name: 'the seven objects as YAML (ociTemplate + objectsToYaml)',
      fn: async () => objectsToYaml((await ociTemplate(cluster)).objects),
    },
  ]);
  console.log(
    `  YAML ${objectsToYaml(template.objects).length} bytes; additionalConfig ${template.additionalConfig.length} of 32768 characters`,
  );

  const writer = { version: '1.1', blockQuote: 'literal', aliasDuplicateObjects: false } as const;
  await group('the seven objects as YAML, warm', [
    {
      name: "yaml's stringify (what objectsToYaml called before)",
      fn: () => template.objects.map((o) => stringify(o, YAML_OPTIONS)),
    },
    {
      name: 'writeYaml of @ocne/config (what it calls now)',
      fn: () => template.objects.map((o) => writeYaml(o, writer)),
    },
  ]);

  const objectsFile = join(home, 'objects.json');
  writeFileSync(objectsFile, JSON.stringify(template.objects));
  const yamlUrl = pathToFileURL(createRequire(join(here, '../package.json')).resolve('yaml')).href;
  // The writer as the bundle holds it, plain JavaScript: importing the .ts source would time Node's
  // type stripping (its loader) instead.
  const writerFile = join(home, 'yaml-write.mjs');
  writeFileSync(
    writerFile,
    stripTypeScriptTypes(readFileSync(join(here, '../../config/src/yaml-write.ts'), 'utf8')),
  );
  const writerUrl = pathToFileURL(writerFile).href;
  const cold = {
    yaml: { module: yamlUrl, call: `m.stringify(o, ${JSON.stringify(YAML_OPTIONS)})`, ms: [] as number[] },
    writeYaml: { module: writerUrl, call: `m.writeYaml(o, ${JSON.stringify(writer)})`, ms: [] as number[] },
  };
  const runs = 15;
  for (let i = 0; i < runs; i++) {
    for (const c of Object.values(cold)) c.ms.push(coldOnce(c.module, c.call, objectsFile));
  }
  const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)] as number;
  console.log(
    `\nthe seven objects as YAML, cold: a fresh process imports the module and writes them once (median of ${runs})`,
  );
  for (const [name, c] of Object.entries(cold))
    console.log(`  ${name.padEnd(10)} ${median(c.ms).toFixed(2)} ms`);
  console.log(`  ratio      ${(median(cold.yaml.ms) / median(cold.writeYaml.ms)).toFixed(1)}x`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
