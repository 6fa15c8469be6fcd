// The cold path stays lean: the `ocne` bin as published (the bundle of scripts/bundle.ts, built
// here into a folder of its own) runs `cluster join -w 1` and `cluster template`, a resolve hook
// lists every module Node loads, and esbuild's metafile says which sources each loaded chunk
// holds. No timing: what is bounded is what is loaded.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../scripts/bundle.js';
import { byoConfig, root } from './cli-process.js';

const work = mkdtempSync(join(tmpdir(), 'ocne-cold-'));
const dist = join(work, 'dist');
const home = join(work, 'home');
const hook = join(work, 'modules.mjs');
const bin = join(dist, 'bin.js');

/** Which sources each output file of the bundle holds, by file name. */
let sources: Map<string, string[]>;

beforeAll(async () => {
  await bundleCli(dist);
  const meta = JSON.parse(readFileSync(join(dist, 'bin.meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  sources = new Map(
    Object.entries(meta.outputs).map(([file, out]) => [file.replace(/.*\//, ''), Object.keys(out.inputs)]),
  );
  writeFileSync(
    hook,
    [
      "import { registerHooks } from 'node:module';",
      "import { writeFileSync } from 'node:fs';",
      'const seen = new Set();',
      // A load hook: the bin resolves its own chunks itself (src/bin.ts), so a resolve hook would not see them.
      'registerHooks({ load(url, c, next) { seen.add(url); return next(url, c); } });',
      // Built-ins come from process.getBuiltinModule in the bundle, which no hook sees: those Node
      // loaded after this hook (public ones, not its internals) are listed as node: URLs.
      'const before = new Set(process.moduleLoadList);',
      "const builtins = () => process.moduleLoadList.filter((m) => !before.has(m) && /^NativeModule (?!internal\\/)/.test(m)).map((m) => 'node:' + m.slice(13));",
      "process.on('exit', () => writeFileSync(process.env.OCNE_MODULES, JSON.stringify([...new Set([...seen, ...builtins()])])));",
    ].join('\n'),
  );
  execFileSync(process.execPath, [bin, 'cluster', 'start', '-c', byoConfig], {
    env: { PATH: process.env.PATH ?? '', HOME: home },
    stdio: 'ignore',
  });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The modules a run of the bin loads: Node's built-ins by name, the bundle's files by file name. */
function loaded(...argv: string[]): { builtins: string[]; files: string[]; packages: Set<string> } {
  const list = join(work, 'modules.json');
  // A first run fills the parse memo, as a user's first command does; the second is measured.
  execFileSync(process.execPath, [bin, ...argv], {
    env: { PATH: process.env.PATH ?? '', HOME: home },
    stdio: 'ignore',
  });
  execFileSync(process.execPath, ['--import', hook, bin, ...argv], {
    env: { PATH: process.env.PATH ?? '', HOME: home, OCNE_MODULES: list },
    stdio: 'ignore',
  });
  const urls = (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((u) => u !== `file://${hook}`);
  const builtins = urls.filter((u) => u.startsWith('node:')).sort();
  const files = urls
    .filter((u) => !u.startsWith('node:'))
    .map((u) => {
      const path = fileURLToPath(u);
      // Everything comes from the bundle: nothing from node_modules or a package's own dist.
      expect(path.startsWith(`${dist}/`), path).toBe(true);
      return path.slice(dist.length + 1);
    });
  // The workspace package or npm package of every source in the loaded chunks.
  const packages = new Set(
    files.flatMap((file) =>
      (sources.get(file) ?? []).map((input) => {
        const npm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input);
        if (npm) return npm[1] as string;
        const workspace = /^(?:\.\.\/)*(?:packages\/)?([^/]+)\/src\//.exec(
          input.replace(/^src\//, 'cli/src/'),
        );
        return workspace ? `@ocne/${workspace[1]}` : input;
      }),
    ),
  );
  return { builtins, files, packages };
}

describe('the cold path of the bundled bin', () => {
  it('cluster join -w 1 loads its own command, the byo provider and nothing that talks to a cluster', () => {
    const { builtins, files, packages } = loaded('cluster', 'join', '-w', '1', '-c', byoConfig);
    expect([...packages].sort()).toEqual([
      '@ocne/cli',
      '@ocne/cluster',
      '@ocne/config',
      '@ocne/core',
      '@ocne/ignition',
      '@ocne/provider-byo',
    ]);
    // A plain command line is parsed by the CLI itself (src/fast.ts): commander is not loaded.
    // One chunk per command: none of the other commands' code.
    expect(files.filter((f) => /^ocne-(start|show|list|delete|template)-/.test(f))).toEqual([]);
    expect(files.length).toBeLessThanOrEqual(16);
    expect(builtins.length).toBeLessThanOrEqual(4);
    // Nothing of what an ES module of a built-in would load besides (streams for stdin, workers,
    // child processes): the bundle gets built-ins from process.getBuiltinModule.
    expect(builtins.filter((b) => /child_process|worker_threads|stream|dgram/.test(b))).toEqual([]);
    // Nor what only talks to a network: addresses are checked without node:net, and the Oracle
    // Cloud clients (TLS, the request context) load only for a start or a lookup.
    expect(builtins.filter((b) => /^node:(net|tls|https?|async_hooks|dns)/.test(b))).toEqual([]);
    // Nor node:crypto, the costliest of them: the parse memo hashes in JS and a token's random
    // bytes come from /dev/urandom (the memo is warm here: the same command ran before).
    expect(builtins).not.toContain('node:crypto');
    // Nor what a file read or the output would load by the way: fs/promises (readline, watchers),
    // os, the global performance (perf_hooks), and tty for a stderr that is /dev/null; small files
    // are read with synchronous calls, the output is written to the descriptors.
    expect(builtins.filter((b) => /^node:(fs\/promises|os|perf_hooks|tty|readline)$/.test(b))).toEqual([]);
  }, 60_000);

  it('cluster template loads the pure template of @ocne/capi and the oci provider, no Kubernetes client', () => {
    const { builtins, files, packages } = loaded(
      'cluster',
      'template',
      '-c',
      join(root, 'examples/oci/capi.yaml'),
    );
    expect([...packages].sort()).toEqual([
      '@ocne/capi',
      '@ocne/cli',
      '@ocne/cluster',
      '@ocne/config',
      '@ocne/core',
      '@ocne/ignition',
      '@ocne/provider-oci',
    ]);
    expect(files.filter((f) => /^ocne-(start|show|list|delete|join)-/.test(f))).toEqual([]);
    expect(files.length).toBeLessThanOrEqual(17);
    expect(builtins.length).toBeLessThanOrEqual(4);
    expect(builtins.filter((b) => /child_process|worker_threads|stream|dgram/.test(b))).toEqual([]);
    // Nor what only talks to a network: addresses are checked without node:net, and the Oracle
    // Cloud clients (TLS, the request context) load only for a start or a lookup.
    expect(builtins.filter((b) => /^node:(net|tls|https?|async_hooks|dns)/.test(b))).toEqual([]);
    // Nor node:crypto, the costliest of them: the parse memo hashes in JS and a token's random
    // bytes come from /dev/urandom (the memo is warm here: the same command ran before).
    expect(builtins).not.toContain('node:crypto');
    // Nor what a file read or the output would load by the way: fs/promises (readline, watchers),
    // os, the global performance (perf_hooks), and tty for a stderr that is /dev/null; small files
    // are read with synchronous calls, the output is written to the descriptors.
    expect(builtins.filter((b) => /^node:(fs\/promises|os|perf_hooks|tty|readline)$/.test(b))).toEqual([]);
  }, 60_000);
});

describe('eager compilation with the compile cache', () => {
  /** The public built-ins a run of `--version` loads in `runHome`. */
  const builtinsOf = (runHome: string): string[] => {
    const list = join(work, 'modules-version.json');
    execFileSync(process.execPath, ['--import', hook, bin, '--version'], {
      env: { PATH: process.env.PATH ?? '', HOME: runHome, OCNE_MODULES: list },
      stdio: 'ignore',
    });
    return (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((u) => u.startsWith('node:'));
  };

  it('is left to V8 on a first run (a fresh home), and asked for (node:v8, --no-lazy) once the cache is there', () => {
    const fresh = join(work, 'home-fresh');
    expect(builtinsOf(fresh)).not.toContain('node:v8');
    expect(existsSync(join(fresh, '.cache', 'ocne', 'node-compile-cache'))).toBe(true);
    expect(builtinsOf(fresh)).toContain('node:v8');
  }, 60_000);
});

describe('the parse memo of the bundled bin', () => {
  const run = (home: string, env: Record<string, string>, ...argv: string[]): string =>
    execFileSync(process.execPath, [bin, ...argv], {
      env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  const memoOf = (home: string) => join(home, '.cache', 'ocne', 'parse-memo');

  it('gives the output of a run without it, follows an edited file, and can be turned off', () => {
    const config = join(work, 'capi.yaml');
    writeFileSync(config, readFileSync(join(root, 'examples/oci/capi.yaml')));
    const withMemo = join(work, 'home-memo');
    const withoutMemo = join(work, 'home-no-memo');
    const off = run(withoutMemo, { OCNE_DISABLE_PARSE_MEMO: '1' }, 'cluster', 'template', '-c', config);
    expect(existsSync(memoOf(withoutMemo))).toBe(false);
    const first = run(withMemo, {}, 'cluster', 'template', '-c', config);
    const entries = readdirSync(memoOf(withMemo));
    expect(entries.length).toBeGreaterThan(0);
    expect(statSync(memoOf(withMemo)).mode & 0o777).toBe(0o700);
    for (const entry of entries) expect(statSync(join(memoOf(withMemo), entry)).mode & 0o777).toBe(0o600);
    const second = run(withMemo, {}, 'cluster', 'template', '-c', config);
    expect(first).toBe(off);
    expect(second).toBe(off);
    // An edit between two runs is seen: entries are for exact texts.
    const name = /^name: (.*)$/m.exec(readFileSync(config, 'utf8'))?.[1] as string;
    writeFileSync(config, readFileSync(config, 'utf8').replace(`name: ${name}`, 'name: edited-between-runs'));
    const edited = run(withMemo, {}, 'cluster', 'template', '-c', config);
    expect(edited).toContain('name: edited-between-runs');
    expect(edited).not.toContain(`name: ${name}\n`);
  }, 60_000);

  it('serves a join its cluster cache and kubeconfig from the memo after the first run', () => {
    const before = readdirSync(memoOf(home)).length;
    run(home, {}, 'cluster', 'join', '-w', '1', '-c', byoConfig);
    const after = readdirSync(memoOf(home));
    const again = run(home, {}, 'cluster', 'join', '-w', '1', '-c', byoConfig);
    // The second join read nothing new: the cache, the configuration and the CA were all served.
    expect(readdirSync(memoOf(home))).toEqual(after);
    expect(after.length).toBeGreaterThanOrEqual(before);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect((JSON.parse(again) as { ignition: { version: string } }).ignition.version).toMatch(/^3\./);
  }, 60_000);
});

describe('the yaml package on the cold path', () => {
  /** The functions of the yaml package that ran in one run of the bin, and how many it has. */
  function yamlFunctionsRun(home: string, argv: string[]): { ran: string[]; seen: number } {
    const coverage = mkdtempSync(join(work, 'coverage-'));
    execFileSync(process.execPath, [bin, ...argv], {
      env: { PATH: process.env.PATH ?? '', HOME: home, NODE_V8_COVERAGE: coverage },
      stdio: 'ignore',
    });
    const ran: string[] = [];
    let seen = 0;
    for (const file of readdirSync(coverage)) {
      const { result } = JSON.parse(readFileSync(join(coverage, file), 'utf8')) as {
        result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
      };
      for (const script of result) {
        if (!script.url.startsWith(`file://${dist}/`)) continue;
        for (const fn of script.functions) {
          // esbuild names each wrapped CommonJS module by its path: yaml's modules are these.
          if (!fn.functionName.includes('/node_modules/yaml/')) continue;
          seen++;
          if ((fn.ranges[0]?.count ?? 0) > 0) ran.push(fn.functionName);
        }
      }
    }
    return { ran, seen };
  }

  it('is neither loaded nor run when the parse memo serves the files (the bundle loads it on first use)', () => {
    const memoHome = join(work, 'home-yaml');
    const commands = [
      ['cluster', 'template', '-c', join(root, 'examples/oci/capi.yaml')],
      ['cluster', 'join', '-w', '1', '-c', byoConfig],
    ];
    execFileSync(process.execPath, [bin, 'cluster', 'start', '-c', byoConfig], {
      env: { PATH: process.env.PATH ?? '', HOME: memoHome },
      stdio: 'ignore',
    });
    for (const argv of commands) {
      // The first run parses (and runs yaml); the second is served by the memo.
      const first = yamlFunctionsRun(memoHome, argv);
      expect(first.ran.length, argv.join(' ')).toBeGreaterThan(0);
      expect(first.seen, argv.join(' ')).toBeGreaterThan(10);
      // Served by the memo, the run does not even load the chunk of the yaml package.
      const second = yamlFunctionsRun(memoHome, argv);
      expect(second.seen, argv.join(' ')).toBe(0);
      expect(second.ran, argv.join(' ')).toEqual([]);
    }
  }, 60_000);
});
