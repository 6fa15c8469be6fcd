// Runs api-extractor for every package. Without --local it fails when a package's public
// API differs from its committed report (packages/<p>/review/<p>.api.md); with --local it
// rewrites the reports, to be reviewed and committed with the change that caused them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const local = process.argv.includes('--local');
const failed: string[] = [];
for (const name of readdirSync('packages').sort()) {
  const dir = join('packages', name);
  if (!existsSync(join(dir, 'api-extractor.json'))) continue;
  mkdirSync(join(dir, 'review'), { recursive: true });
  const args = ['exec', 'api-extractor', 'run', '--config', 'api-extractor.json'];
  if (local) args.push('--local');
  const result = spawnSync('pnpm', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) {
    failed.push(name);
    process.stderr.write(`${result.stdout}${result.stderr}`);
  }
}
if (failed.length > 0) {
  console.error(
    `API report out of date or broken for: ${failed.join(', ')}. Run \`pnpm api:update\`, review packages/*/review/*.api.md and commit it.`,
  );
  process.exit(1);
}
console.log(`API reports match for ${readdirSync('packages').length} packages.`);
