// Tests stay in their rooms: a test, bench or test util reaches another package only by its name
// (so through its package.json exports and a declared dependency), never by a relative path into
// that package's src/ or test/; SDK source never imports a test util; and no test util depends on
// a package whose tests use it. Checked on the workspace, and on a small planted tree to show that
// each rule does catch what it is for.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** The folders of `packages/*` or `test-utils/*` below `root` that hold a package.json. */
function packageDirs(root: string, group: 'packages' | 'test-utils'): string[] {
  const dir = join(root, group);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((d) => existsSync(join(d, 'package.json')))
    .sort();
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Every `*.ts` file below `dir` (none when it does not exist), node_modules and dist left out. */
function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.split(sep).some((p) => p === 'node_modules' || p === 'dist'))
    .map((f) => join(dir, f))
    .sort();
}

/** The module specifiers a file imports or re-exports, dynamic imports included, comments not. */
const specifiers = (file: string): string[] =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);

const outside = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
};

/** What breaks the rules in the workspace at `root`, one line each, naming file and import. */
function boundaryViolations(root: string): string[] {
  const found: string[] = [];
  const name = (file: string) => relative(root, file).split(sep).join('/');
  const packages = packageDirs(root, 'packages');
  const testUtils = packageDirs(root, 'test-utils');

  // Tests, benches and test utils: a relative import stays inside its own package.
  const scanned = [
    ...packages.flatMap((dir) => [join(dir, 'test'), join(dir, 'bench')].map((sub) => ({ dir, sub }))),
    ...testUtils.map((dir) => ({ dir, sub: dir })),
  ];
  for (const { dir, sub } of scanned) {
    for (const file of tsFiles(sub)) {
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.') && outside(dir, join(dirname(file), spec))) {
          found.push(`${name(file)} imports '${spec}', outside ${name(dir)}: import the package by name`);
        }
      }
    }
  }

  // SDK source: no test util, by name or by path.
  const utilNames = testUtils.map((dir) => manifest(dir).name);
  for (const dir of packages) {
    for (const file of tsFiles(join(dir, 'src'))) {
      for (const spec of specifiers(file)) {
        const byName = utilNames.some((util) => spec === util || spec.startsWith(`${util}/`));
        const byPath =
          spec.startsWith('.') && testUtils.some((util) => !outside(util, join(dirname(file), spec)));
        if (byName || byPath) found.push(`${name(file)} imports the test util '${spec}'`);
      }
    }
  }

  // No test util depends, through its dependencies, on a package that depends (dev or not) on it.
  const manifests = new Map(
    [...packages, ...testUtils, join(root, 'examples')]
      .filter((dir) => existsSync(join(dir, 'package.json')))
      .map((dir) => [manifest(dir).name, manifest(dir)] as const),
  );
  const workspaceDeps = (m: Manifest, dev: boolean) =>
    Object.keys({ ...m.dependencies, ...(dev ? m.devDependencies : {}) }).filter((d) => manifests.has(d));
  for (const util of utilNames) {
    const reached = new Set<string>();
    const queue = workspaceDeps(manifests.get(util)!, true);
    for (let dep = queue.shift(); dep !== undefined; dep = queue.shift()) {
      if (reached.has(dep)) continue;
      reached.add(dep);
      if (workspaceDeps(manifests.get(dep)!, true).includes(util)) {
        found.push(`${util} depends on ${dep}, which depends on ${util}`);
      }
      queue.push(...workspaceDeps(manifests.get(dep)!, false));
    }
  }
  return found;
}

describe('package boundaries', () => {
  it('hold in this workspace', () => {
    expect(boundaryViolations(ROOT)).toEqual([]);
  });

  it('catch a planted violation of each rule', () => {
    const root = mkdtempSync(join(tmpdir(), 'ocne-boundaries-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      const pkg = (dir: string, name: string, deps: object = {}, devDeps: object = {}) =>
        write(`${dir}/package.json`, JSON.stringify({ name, dependencies: deps, devDependencies: devDeps }));
      pkg('packages/a', '@x/a', {}, { '@x/test-u': 'workspace:*' });
      pkg('packages/b', '@x/b', { '@x/a': 'workspace:*' });
      pkg('test-utils/u', '@x/test-u', { '@x/b': 'workspace:*' });
      write(
        'packages/a/src/index.ts',
        "export { u } from '@x/test-u';\nimport '../../../test-utils/u/src/x.js';\n",
      );
      write(
        'packages/a/src/ok.ts',
        "import { y } from './y.js';\n// import '../../b/src/in-a-comment.js';\n",
      );
      write('packages/a/test/t.test.ts', "import { b } from '../../b/src/index.js';\nimport './own.js';\n");
      write('packages/a/bench/b.bench.ts', "const kit = await import('../../../scripts/bench-kit.ts');\n");
      write('test-utils/u/src/index.ts', "export * from '../../../packages/b/test/helpers.ts';\n");
      expect(boundaryViolations(root)).toEqual([
        "packages/a/test/t.test.ts imports '../../b/src/index.js', outside packages/a: import the package by name",
        "packages/a/bench/b.bench.ts imports '../../../scripts/bench-kit.ts', outside packages/a: import the package by name",
        "test-utils/u/src/index.ts imports '../../../packages/b/test/helpers.ts', outside test-utils/u: import the package by name",
        "packages/a/src/index.ts imports the test util '@x/test-u'",
        "packages/a/src/index.ts imports the test util '../../../test-utils/u/src/x.js'",
        '@x/test-u depends on @x/a, which depends on @x/test-u',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
