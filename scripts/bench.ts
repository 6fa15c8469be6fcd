// `pnpm bench`: runs every packages/*/bench/*.bench.ts in its own Node process, from source, then
// prints the rows the benches reported (`tableRow` of @ocne/test-bench): each measurement beside
// its yardstick, with the ratio, all from this one run. `pnpm bench <part of a path>` runs some.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const only = process.argv[2];
let failed = false;
const rowsDir = mkdtempSync(join(tmpdir(), 'ocne-bench-'));
const rowsFile = join(rowsDir, 'rows.jsonl');
try {
  for (const pkg of readdirSync('packages').sort()) {
    const dir = join('packages', pkg, 'bench');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .sort()) {
      if (only && !join(dir, file).includes(only)) continue;
      console.log(`\n## ${join(dir, file)}`);
      const r = spawnSync(process.execPath, ['--import', './scripts/source-hooks.mjs', join(dir, file)], {
        stdio: 'inherit',
        env: { ...process.env, OCNE_BENCH_ROWS: rowsFile },
      });
      if (r.status !== 0) failed = true;
    }
  }
  const rows = existsSync(rowsFile)
    ? readFileSync(rowsFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<'what' | 'ours' | 'peer' | 'ratio' | 'goal', string>)
    : [];
  if (rows.length > 0) {
    console.log('\n## summary: each row measured in this run, ours beside its yardstick\n');
    console.log('| what | ocne | yardstick | ratio | goal |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.what} | ${r.ours} | ${r.peer} | ${r.ratio} | ${r.goal} |`);
  }
} finally {
  rmSync(rowsDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
