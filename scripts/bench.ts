// `pnpm bench`: runs every packages/*/bench/*.bench.ts in its own Node process, from source.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
let failed = false;
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
    });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
