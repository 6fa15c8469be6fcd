// The SDK's main job on the bundled examples. For now that is configuration: load every
// example cluster file over examples/defaults.yaml, validate it, and print each resolved value
// with the layer, file and line it came from. Run with `npm run demo` from the repository root.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIssue, isOcneError, loadConfig, type ValueSource } from '@ocne/config';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const examples = [join(here, 'byo/byo.yaml'), join(here, 'oci/capi.yaml')];

function where(source: ValueSource): string {
  const file = source.source.startsWith('<') ? source.source : relative(root, source.source);
  const line = source.line !== undefined ? `:${source.line}:${source.column}` : '';
  return source.layer === 'derived' ? `derived (${source.note})` : `${source.layer} ${file}${line}`;
}

// A throwaway home, so the demo never reads or writes the user's own ~/.ocne or ~/.ssh.
const home = mkdtempSync(join(tmpdir(), 'ocne-demo-'));
let failed = false;
try {
  for (const configPath of examples) {
    process.stdout.write(`\n# ${relative(root, configPath)} (defaults: examples/defaults.yaml)\n`);
    try {
      const resolved = await loadConfig({ configPath, defaults: join(here, 'defaults.yaml'), home });
      const entries = resolved.provenance.entries().filter(([path]) => !/\[\d+\]$/.test(path));
      const builtins = entries.filter(([, source]) => source.layer === 'builtin').length;
      const rows = entries
        .filter(([, source]) => source.layer !== 'builtin')
        .map(([path, source]) => {
          const value = path
            .split(/\.|\[|\]/)
            .filter(Boolean)
            .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], resolved.cluster);
          return [path, JSON.stringify(value), where(source)] as const;
        });
      const w0 = Math.max(...rows.map((r) => r[0].length));
      const w1 = Math.min(60, Math.max(...rows.map((r) => r[1].length)));
      for (const [path, value, source] of rows) {
        process.stdout.write(`  ${path.padEnd(w0)}  ${value.padEnd(w1)}  ${source}\n`);
      }
      process.stdout.write(`  … and ${builtins} more values from the built-in defaults\n`);
      for (const warning of resolved.warnings) process.stdout.write(`  warning: ${formatIssue(warning)}\n`);
      process.stdout.write(
        `  valid: provider ${resolved.cluster.provider}, Kubernetes ${resolved.cluster.kubernetesVersion}\n`,
      );
    } catch (error) {
      failed = true;
      process.stdout.write(
        `  invalid: ${isOcneError(error) ? `${error.code} ${error.message}` : String(error)}\n`,
      );
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
