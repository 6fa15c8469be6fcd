// Cold CLI cost (`pnpm bench cli`): the `ocne` bin as published (the bundle, built here from the
// current sources) runs `cluster join -w 1` and `cluster template`, each process timed from spawn
// to exit beside `node -e ''` on the same Node, the three interleaved so that a busy machine
// slows them alike; the ratio is of the medians. Then the modules each command loads. The compile
// cache and the parse memo are warm (the first runs fill them), as they are for a user after the
// first command; the "parse memo off" rows show what a first run or an edited file costs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableRow } from '@ocne/test-bench';
import { bundleCli } from '../scripts/bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
await bundleCli();
const bin = join(root, 'packages/cli/dist/bin.js');
const home = mkdtempSync(join(tmpdir(), 'ocne-cli-bench-'));
const env = { PATH: process.env.PATH ?? '', HOME: home };
const byo = join(root, 'examples/byo/byo.yaml');
const oci = join(root, 'examples/oci/capi.yaml');

const COMMANDS = {
  "node -e ''": ['-e', ''],
  'ocne --version': [bin, '--version'],
  'ocne cluster join -w 1 -c examples/byo/byo.yaml': [bin, 'cluster', 'join', '-w', '1', '-c', byo],
  'ocne cluster template -c examples/oci/capi.yaml': [bin, 'cluster', 'template', '-c', oci],
  // The same with the parse memo off: what a first run (or a changed file) costs.
  'join, parse memo off': [bin, 'cluster', 'join', '-w', '1', '-c', byo],
  'template, parse memo off': [bin, 'cluster', 'template', '-c', oci],
} as const;
type Name = keyof typeof COMMANDS;
const MEMO_OFF = { ...env, OCNE_DISABLE_PARSE_MEMO: '1' };

function once(name: Name): number {
  const args = COMMANDS[name];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {
    env: name.includes('memo off') ? MEMO_OFF : env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

/** Modules a run loads: Node's built-ins, and files (the bundle's chunks). */
function modules(args: readonly string[], runEnv: NodeJS.ProcessEnv): { builtins: number; files: number } {
  const hook = join(home, 'count.mjs');
  const list = join(home, 'modules.json');
  writeFileSync(
    hook,
    // The bundle gets built-ins with process.getBuiltinModule, which no resolve hook sees: the
    // public ones Node loaded after the hook are taken from process.moduleLoadList.
    [
      "import { registerHooks } from 'node:module';",
      "import { writeFileSync } from 'node:fs';",
      'const seen = new Set();',
      'const before = new Set(process.moduleLoadList);',
      'registerHooks({ load(url, c, n) { seen.add(url); return n(url, c); } });',
      "const builtins = () => process.moduleLoadList.filter((m) => !before.has(m) && /^NativeModule (?!internal\\/)/.test(m)).map((m) => 'node:' + m.slice(13));",
      `process.on('exit', () => writeFileSync(${JSON.stringify(list)}, JSON.stringify([...new Set([...seen, ...builtins()])])));`,
      '',
    ].join('\n'),
  );
  spawnSync(process.execPath, ['--import', hook, ...args], { env: runEnv });
  const urls = JSON.parse(readFileSync(list, 'utf8')) as string[];
  const builtins = urls.filter((u) => u.startsWith('node:')).length;
  return { builtins, files: urls.length - builtins };
}

try {
  if (spawnSync(process.execPath, [bin, 'cluster', 'start', '-c', byo], { env }).status !== 0)
    throw new Error('start failed');
  const names = Object.keys(COMMANDS) as Name[];
  for (const name of names) for (let i = 0; i < 3; i++) once(name); // warm the compile cache and the memo
  const runs = 21;
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  for (let i = 0; i < runs; i++) for (const name of names) times[name].push(once(name));
  const median = (name: Name) => {
    const sorted = [...times[name]].sort((a, b) => a - b);
    return sorted[Math.floor(runs / 2)] as number;
  };
  const base = median("node -e ''");
  console.log(
    `\ncold CLI, ${runs} runs each, interleaved: median (min) wall time, ratio of medians to node -e ''`,
  );
  for (const name of names) {
    const count =
      name === "node -e ''" ? undefined : modules(COMMANDS[name], name.includes('memo off') ? MEMO_OFF : env);
    console.log(
      `  ${name.padEnd(48)} ${median(name).toFixed(0).padStart(5)} ms (${Math.min(...times[name]).toFixed(0)} ms)  ${(median(name) / base).toFixed(2)}x` +
        (count ? `  modules: ${count.files} files of the bundle + ${count.builtins} node: built-ins` : ''),
    );
    if (name.startsWith('ocne cluster') || name.includes('memo off')) {
      tableRow({
        what: name.startsWith('ocne')
          ? `cold \`${name}\` (process start to exit)`
          : `cold ${name} (every file parsed)`,
        ours: `${median(name).toFixed(0)} ms, ${count?.files} bundle files + ${count?.builtins} built-ins loaded`,
        peer: `node -e '': ${base.toFixed(0)} ms`,
        ratio: `${(median(name) / base).toFixed(2)}x`,
        // The goal is for a user's repeated commands; a first run is shown, not held to it.
        goal: name.includes('memo off') ? '(first run: none)' : '<= 2.0x',
      });
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
