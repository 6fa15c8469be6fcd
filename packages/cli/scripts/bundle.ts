/**
 * Builds the `ocne` bin: one ESM bundle (`dist/bin.js`) of the CLI and everything it runs, from the
 * workspace's sources, split into chunks that load on first use: the command table and commander
 * first, then only the command the command line names, the facade, the one provider a cluster
 * uses, and the Kubernetes client only for what talks to a cluster. A cold command reads a few
 * files instead of a hundred modules, and Node's compile cache (the bin enables it) keeps their
 * compiled code between runs.
 *
 * `node scripts/bundle.ts`: the package's `build` runs it after tsup (the library entry), and
 * `bin/ocne` in a checkout runs it when a source is newer than the bundle.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What src/bin.ts holds in place of the bundle's identity; the same length as what replaces it. */
const BUILD_ID_PLACEHOLDER = 'ocne-build-id-placeholder-0000000000000000';
/** The bundle's files among tsup's in `dist/`: the entry, its map and metafile, the chunks. */
const ours = (name: string): boolean => /^(bin\.|ocne-)/.test(name);

/** commander's `node:child_process` is `src/lazy-child-process.ts`, which loads it on first use. */
const lazyChildProcessForCommander: Plugin = {
  name: 'ocne-lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]lib[\\/]command\.js$/.test(args.importer)
        ? { path: join(pkg, 'src', 'lazy-child-process.ts') }
        : undefined,
    );
  },
};

/**
 * A builtin imported the ESM way costs more than its code: Node makes an ES module of it and
 * reads every export, which runs each lazy getter (`process.stdin`, `fs.promises`,
 * `util.parseArgs`...): streams, readline, workers, half of `ocne --version`. The chunks' import
 * statements of builtins become `process.getBuiltinModule()` (the same objects, read when used);
 * each keeps its lines, so the source maps stay right. A namespace whose `default` is read stays
 * an import.
 */
export function getBuiltinsDirectly(code: string): string {
  return code.replace(/^import\s+([^;"']*?)\s*from\s*"([^"]+)";/gm, (whole, clause: string, spec: string) => {
    if (!isBuiltin(spec)) return whole;
    const get = `globalThis.process.getBuiltinModule(${JSON.stringify(spec)})`;
    const lines = '\n'.repeat(whole.split('\n').length - 1);
    const ns = /^\*\s*as\s+([\w$]+)$/.exec(clause.trim());
    if (ns) return code.includes(`${ns[1]}.default`) ? whole : `const ${ns[1]} = ${get};${lines}`;
    const parts = /^(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\})?$/.exec(clause.trim());
    if (!parts) return whole;
    let statement = '';
    let from = get;
    if (parts[1] !== undefined) {
      statement = `const ${parts[1]} = ${get};`;
      from = parts[1];
    }
    const named = (parts[2] ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .map((n) => n.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'));
    if (named.some((n) => n.startsWith('default'))) return whole;
    if (named.length > 0) statement += ` const { ${named.join(', ')} } = ${from};`;
    return `${statement.trim()}${lines}`;
  });
}

/**
 * CommonJS packages whose code runs when first used rather than when a chunk that imports them
 * loads. `yaml`: a command whose files the parse memo serves (see src/bin.ts) never parses or
 * writes YAML with it (our writer writes), yet every chunk of the configuration reader imports
 * it, and running its modules was a tenth of a cold `cluster join`. Only packages whose loading
 * has no side effects may be listed.
 */
const LAZY_PACKAGES: readonly string[] = ['yaml'];

/** For each chunk file name: the `require_*` function it exports for each lazy package's entry. */
export function lazyRequires(
  metafile: { outputs: Record<string, { inputs: Record<string, unknown>; exports: string[] }> },
  packages: readonly string[],
): Map<string, string> {
  const found = new Map<string, string>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const inputs = Object.keys(output.inputs);
    if (!packages.some((p) => inputs.some((i) => i.includes(`/node_modules/${p}/`)))) continue;
    const requires = output.exports.filter((e) => e.startsWith('require_'));
    // One wrapper per chunk is all this can tell apart safely; a chunk with more stays as it is.
    if (requires.length === 1) found.set(file.replace(/.*\//, ''), requires[0] as string);
  }
  return found;
}

/**
 * Rewrites a chunk's `var import_x = __toESM(require_x(), 1);` of a lazy package into a proxy that
 * runs `require_x()` on the first property read (esbuild reads every import as `import_x.name`).
 * When that was all the chunk took from the package's chunk, its import goes too and the proxy
 * loads that chunk itself (`require()` of an ES module, synchronous, the same module instance as
 * an import), so a command that never uses the package does not even read its file. Each rewrite
 * stays on its lines, so the source maps stay right.
 */
export function evaluateOnFirstUse(code: string, lazy: ReadonlyMap<string, string>): string {
  let out = code;
  let changed = false;
  for (const [chunk, exported] of lazy) {
    // A bare import (esbuild keeps one for evaluation order) of a chunk whose top level only
    // defines the package's lazy wrappers does nothing a first use would not do.
    const bare = new RegExp(`^import "\\./${chunk.replace(/[.]/g, '\\.')}";$`, 'gm');
    if (bare.test(out)) {
      out = out.replace(bare, '');
      changed = true;
    }
    const imported = new RegExp(
      `import\\s*\\{([^}]*)\\}\\s*from\\s*"\\./${chunk.replace(/[.]/g, '\\.')}";`,
    ).exec(out);
    if (!imported) continue;
    const bindings = (imported[1] as string)
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
    for (const binding of bindings) {
      const [name, local = name] = binding.split(/\s+as\s+/) as [string, string?];
      if (name !== exported || local === undefined) continue;
      const call = new RegExp(
        `^var ([\\w$]+) = __toESM\\(${local.replace(/\$/g, '\\$')}\\(\\), 1\\);$`,
        'gm',
      );
      let rewritten = out.replace(
        call,
        (_, variable: string) => `var ${variable} = __ocneOnFirstUse(() => __toESM(${local}(), 1));`,
      );
      if (rewritten === out) continue;
      changed = true;
      // The package's chunk read on first use too: only when nothing else of this chunk names it.
      const rest = rewritten.replace(imported[0], '');
      const named = new RegExp(`(?<![\\w$.])${local.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
      const uses = rest.match(named)?.length ?? 0;
      const lazyUses = rest.split(`__toESM(${local}(), 1)`).length - 1;
      if (bindings.length === 1 && uses === lazyUses) {
        const load = `require(${JSON.stringify(`./${chunk}`)}).${exported}`;
        rewritten = rewritten
          .replace(imported[0], '\n'.repeat(imported[0].split('\n').length - 1))
          .replaceAll(
            `__ocneOnFirstUse(() => __toESM(${local}(), 1))`,
            `__ocneOnFirstUse(() => __toESM(${load}(), 1))`,
          );
      }
      out = rewritten;
    }
  }
  if (!changed) return out;
  const helper =
    'const __ocneOnFirstUse = (load) => { let m; const get = () => (m ??= load()); return new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get(), ownKeys: () => Reflect.ownKeys(get()), getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(get(), k); return d && { ...d, configurable: true }; } }); };';
  // On the banner's line: every other line keeps its number.
  if (!out.includes('__ocneOnFirstUse')) return out;
  const firstLineEnd = out.indexOf('\n');
  if (!out.startsWith('const require = '))
    throw new Error('a chunk to rewrite does not start with the banner');
  return `${out.slice(0, firstLineEnd)} ${helper}${out.slice(firstLineEnd)}`;
}

/**
 * Bundles the CLI into `dist` (the package's `dist/` unless told otherwise; the module-graph test
 * bundles into a folder of its own). `dist/bin.meta.json` is esbuild's metafile: which sources
 * each chunk holds.
 */
export async function bundleCli(dist: string = join(pkg, 'dist')): Promise<void> {
  mkdirSync(dist, { recursive: true });
  // Built beside dist/ and moved in, the entry last: a CLI started meanwhile (another bin/ocne that
  // found the bundle stale too) runs the old bundle or the new one, never half of one.
  const staging = mkdtempSync(join(dirname(dist), '.bundle-'));
  try {
    const result = await build({
      absWorkingDir: pkg,
      entryPoints: { bin: 'src/bin.ts' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      outdir: staging,
      // Beside the entry (`../package.json` is the manifest from each chunk); `ocne-` tells them from
      // tsup's chunks, `[name]` keeps them recognizable in a profile.
      chunkNames: 'ocne-[name]-[hash]',
      // Workspace packages from their sources, as the tests and the benchmarks run them.
      conditions: ['@ocne/source'],
      // CommonJS dependencies (yaml, the Kubernetes client) call require() for Node's built-ins.
      banner: {
        js: "const require = globalThis.process.getBuiltinModule('node:module').createRequire(import.meta.url);",
      },
      plugins: [lazyChildProcessForCommander],
      legalComments: 'none',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
    });
    writeFileSync(join(staging, 'bin.meta.json'), JSON.stringify(result.metafile));
    const built = readdirSync(staging);
    const lazy = lazyRequires(result.metafile, LAZY_PACKAGES);
    for (const name of built.filter((n) => n.endsWith('.js'))) {
      const file = join(staging, name);
      writeFileSync(file, evaluateOnFirstUse(getBuiltinsDirectly(readFileSync(file, 'utf8')), lazy));
    }
    // The bundle's identity, for the parse memo (src/bin.ts): a hash of every chunk as written.
    const id = createHash('sha256');
    for (const name of built.filter((n) => n.endsWith('.js')).sort()) {
      id.update(`${name}\0`);
      id.update(readFileSync(join(staging, name)));
    }
    const binFile = join(staging, 'bin.js');
    const bin = readFileSync(binFile, 'utf8');
    if (!bin.includes(BUILD_ID_PLACEHOLDER)) throw new Error('src/bin.ts lost its build id placeholder');
    writeFileSync(
      binFile,
      bin.replaceAll(BUILD_ID_PLACEHOLDER, id.digest('hex').slice(0, BUILD_ID_PLACEHOLDER.length)),
    );
    const entry = ['bin.js', 'bin.js.map'];
    for (const name of [...built.filter((n) => !entry.includes(n)), ...entry]) {
      renameSync(join(staging, name), join(dist, name));
    }
    // Chunks of earlier builds (names carry a hash of their content).
    for (const name of readdirSync(dist)) if (ours(name) && !built.includes(name)) rmSync(join(dist, name));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli();
