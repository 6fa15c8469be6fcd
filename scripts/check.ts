// The whole test suite, in the order a failure is cheapest to find: generated files
// current, lint, types, build, API reports, API docs, then every vitest project. The reference
// schemas come first, since the capi type generator reads the CRDs (a few seconds on a fresh
// machine, nothing once cached); the reference tools, whose first build takes long, only before
// the tests that run them.
// Closes with one line `tests: N passed, N failed, N skipped` counted from vitest's JSON report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ci = process.env.CI === 'true';

function step(title: string, command: string, args: string[]): void {
  const started = performance.now();
  process.stderr.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stderr.write(`== ${title}: FAILED after ${seconds}s\n`);
    process.exit(1);
  }
  process.stderr.write(`== ${title}: ok (${seconds}s)\n`);
}

step('reference schemas (fetched, cached)', 'bash', ['scripts/test-tools.sh', 'schemas']);
step('generated files are current', 'pnpm', ['run', '--silent', 'generate', '--check']);
step('lint and format (biome)', 'pnpm', ['exec', 'biome', 'ci', '--colors=off', '.']);
step('types (tsc)', 'pnpm', ['exec', 'tsc', '-p', 'tsconfig.json', '--noEmit']);
step('build (tsup)', 'pnpm', ['run', '--silent', 'build']);
step('API reports (api-extractor)', 'node', ['scripts/api-report.ts']);
step('API docs (typedoc)', 'pnpm', ['exec', 'typedoc', '--logLevel', 'Warn']);
step('system packages (apt, once per machine)', 'bash', ['scripts/system-packages.sh']);
step('reference tools (Go-built, cached)', 'bash', ['scripts/test-tools.sh']);

const dir = mkdtempSync(join(tmpdir(), 'ocne-vitest-'));
const report = join(dir, 'report.json');
const started = performance.now();
process.stderr.write('\n== tests (vitest)\n');
const run = spawnSync(
  'pnpm',
  ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed = json.numPassedTests;
  failed = json.numFailedTests;
  skipped = json.numPendingTests + json.numTodoTests;
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stderr.write(`== tests (vitest): ${run.status === 0 ? 'ok' : 'FAILED'} (${seconds}s)\n`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (run.status !== 0 || failed > 0 || passed === 0) process.exit(1);
if (ci && skipped > 0) {
  console.error('CI runs every test: skipped or todo tests are not allowed here.');
  process.exit(1);
}
