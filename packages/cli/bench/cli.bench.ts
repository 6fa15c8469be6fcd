// Cold CLI cost (`pnpm bench`): `ocne cluster join -w 1` from the built package, as a ratio to
// `node -e ''` on the same Node, and how many modules it loads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
if (!existsSync(bin)) spawnSync('pnpm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
const home = mkdtempSync(join(tmpdir(), 'ocne-cli-bench-'));
const env = { PATH: process.env.PATH ?? '', HOME: home };
const config = join(root, 'examples/byo/byo.yaml');

function wall(args: string[], runs: number): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)]!, min: times[0]! };
}

try {
  if (spawnSync(process.execPath, [bin, 'cluster', 'start', '-c', config], { env }).status !== 0)
    throw new Error('start failed');
  const runs = 15;
  const baseline = wall(['-e', ''], runs);
  const version = wall([bin, '--version'], runs);
  const join1 = wall([bin, 'cluster', 'join', '-w', '1', '-c', config], runs);
  const template = wall([bin, 'cluster', 'template', '-c', join(root, 'examples/oci/capi.yaml')], runs);
  console.log(`\ncold CLI, ${runs} runs each, median (min) wall time; ratio of medians to node -e ''`);
  for (const [name, t] of [
    ["node -e ''", baseline],
    ['ocne --version', version],
    ['ocne cluster join -w 1 -c examples/byo/byo.yaml', join1],
    ['ocne cluster template -c examples/oci/capi.yaml', template],
  ] as const) {
    console.log(
      `  ${name.padEnd(48)} ${t.median.toFixed(0).padStart(5)} ms (${t.min.toFixed(0)} ms)  ${(t.median / baseline.median).toFixed(2)}x`,
    );
  }
  // Modules: a resolve hook counts every module the join resolves.
  const hook = join(home, 'count.mjs');
  const list = join(home, 'modules.json');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';\nimport { writeFileSync } from 'node:fs';\nconst seen = new Set();\nregisterHooks({ resolve(s, c, n) { const r = n(s, c); seen.add(r.url); return r; } });\nprocess.on('exit', () => writeFileSync(${JSON.stringify(list)}, JSON.stringify([...seen])));\n`,
  );
  spawnSync(process.execPath, ['--import', hook, bin, 'cluster', 'join', '-w', '1', '-c', config], { env });
  const modules = JSON.parse(readFileSync(list, 'utf8')) as string[];
  const builtin = modules.filter((m) => m.startsWith('node:')).length;
  const ours = modules.filter((m) => m.includes('/packages/')).length;
  console.log(
    `  modules loaded by the join: ${modules.length} (${builtin} node: built-ins, ${ours} of this SDK, ${modules.length - builtin - ours} third-party)`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
