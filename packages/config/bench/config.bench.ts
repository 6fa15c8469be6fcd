// What loading a configuration costs, on the bundled examples (`pnpm bench`).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseClusterConfig, parseDefaultsConfig, resolveConfig } from '@ocne/config';
import { group } from '@ocne/test-bench';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const home = mkdtempSync(join(tmpdir(), 'ocne-bench-'));
const defaultsPath = join(examples, 'defaults.yaml');
const byo = join(examples, 'byo/byo.yaml');
const oci = join(examples, 'oci/capi.yaml');
const byoText = readFileSync(byo, 'utf8');
const layers = [
  parseDefaultsConfig(readFileSync(defaultsPath, 'utf8'), { file: defaultsPath }).layer,
  parseClusterConfig(byoText, { file: byo }).layer,
];

try {
  await group('config load + merge + validate (per configuration)', [
    {
      name: 'loadConfig byo.yaml over defaults.yaml (read, parse, layer, derive, validate)',
      fn: () => loadConfig({ configPath: byo, defaults: defaultsPath, home, env: {} }),
    },
    {
      name: 'loadConfig capi.yaml over defaults.yaml (read, parse, layer, derive, validate)',
      fn: () => loadConfig({ configPath: oci, defaults: defaultsPath, home, env: {} }),
    },
    {
      name: 'parseClusterConfig byo.yaml (YAML and schema check only)',
      fn: () => parseClusterConfig(byoText, { file: byo }),
    },
    {
      name: 'resolveConfig byo layers (layering, derivation, validation only)',
      fn: () => resolveConfig(layers),
    },
  ]);
} finally {
  rmSync(home, { recursive: true, force: true });
}
