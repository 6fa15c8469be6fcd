// `pnpm release`: the one way the packages reach npm, in four steps.
//
//   1. the checks: `node scripts/check.ts`, everything `npm test` runs (skipped with --skip-checks);
//   2. `changeset version`: versions and CHANGELOG.md files from the entries in `.changeset/`,
//      committed (`release: version packages`);
//   3. `changeset pack`: `pnpm pack` of every public package into one folder with the publish plan
//      (each package's `prepack` refuses a missing or stale build, or a missing LICENSE, README or
//      CHANGELOG; pnpm replaces `workspace:`/`catalog:` and applies `publishConfig`);
//   4. `changeset publish --from-pack-dir`: exactly those tarballs (with provenance: run it in CI,
//      where npm gets an OIDC token), then git tags. Push the commit and the tags afterwards.
//
// `pnpm release --dry-run` does steps 2 and 3 on a copy of what a release reads (manifests,
// changesets, builds, READMEs…) in a temporary folder and stops before publishing: the repository
// stays as it was, and the tarballs and `publish-plan.json` stay in `--out <dir>` (default: a
// temporary folder, printed) for inspection. `npm test` runs one: the packaging tests check and
// install its tarballs. Which versions npm already has comes from the registry npm is configured
// with (`npm_config_registry`).
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const changeset = join(
  dirname(createRequire(join(root, 'package.json')).resolve('@changesets/cli/package.json')),
  'bin.js',
);

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    'skip-checks': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const dryRun = values['dry-run'];

function run(title: string, command: string, args: string[], cwd: string): void {
  process.stderr.write(`\n== release: ${title}\n`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`== release: ${title} FAILED\n`);
    process.exit(1);
  }
}

/** The workspace's package folders (relative), from `pnpm-workspace.yaml` (`dir` and `dir/*` entries). */
function workspaceFolders(): string[] {
  const { packages } = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as {
    packages: string[];
  };
  return packages.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter(
            (entry) =>
              entry.isDirectory() && existsSync(join(root, pattern.slice(0, -2), entry.name, 'package.json')),
          )
          .map((entry) => join(pattern.slice(0, -2), entry.name))
      : [pattern],
  );
}

interface Manifest {
  name: string;
  private?: boolean;
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Copies what steps 2 and 3 read into `to`, keeping modification times (the `prepack` compares the
 * build with the sources): the root manifest and workspace file, the changesets, the prepack script,
 * and of every workspace package its manifest and, when public, what it publishes and its sources.
 * `pnpm pack` reads the version of a `workspace:` dependency through the package's `node_modules`:
 * those links are made too, to the copies.
 */
function copyReleaseInputs(to: string): void {
  const copy = (path: string): void => {
    if (existsSync(join(root, path)))
      cpSync(join(root, path), join(to, path), { recursive: true, preserveTimestamps: true });
  };
  for (const path of ['package.json', 'pnpm-workspace.yaml', 'LICENSE', '.changeset', 'scripts/prepack.ts'])
    copy(path);
  const folders = new Map<string, string>();
  const manifests = new Map<string, Manifest>();
  for (const folder of workspaceFolders()) {
    const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as Manifest;
    folders.set(manifest.name, folder);
    manifests.set(folder, manifest);
    copy(join(folder, 'package.json'));
    if (manifest.private === true) continue;
    for (const path of [...(manifest.files ?? []), 'src', 'README.md', 'LICENSE', 'CHANGELOG.md'])
      copy(join(folder, path));
  }
  for (const [folder, manifest] of manifests) {
    const specs = { ...manifest.devDependencies, ...manifest.peerDependencies, ...manifest.dependencies };
    for (const [name, spec] of Object.entries(specs)) {
      const target = folders.get(name);
      if (!spec.startsWith('workspace:') || target === undefined) continue;
      const link = join(to, folder, 'node_modules', name);
      if (existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(relative(dirname(link), join(to, target)), link);
    }
  }
}

if (!values['skip-checks']) run('checks', process.execPath, [join(root, 'scripts/check.ts')], root);

let where = root;
if (dryRun) {
  where = mkdtempSync(join(tmpdir(), 'ocne-release-'));
  copyReleaseInputs(where);
  process.stderr.write(`\n== release (dry run): working on a copy in ${where}\n`);
} else {
  const status = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  if (status.status !== 0 || status.stdout.trim() !== '') {
    process.stderr.write('release: the working tree must be clean (commit first)\n');
    process.exit(1);
  }
}

run('changeset version', process.execPath, [changeset, 'version'], where);
if (!dryRun) {
  run('commit the versions', 'git', ['add', '-A'], root);
  run('commit the versions', 'git', ['commit', '-m', 'release: version packages'], root);
}

// The same checks the packing runs (each package's prepack), first: changesets does not show why a
// prepack refused, these say it.
for (const folder of workspaceFolders()) {
  const manifest = JSON.parse(readFileSync(join(where, folder, 'package.json'), 'utf8')) as Manifest;
  if (manifest.private !== true)
    run(
      `${manifest.name} is ready to pack`,
      process.execPath,
      [join(root, 'scripts/prepack.ts')],
      join(where, folder),
    );
}

const out = values.out !== undefined ? resolve(values.out) : mkdtempSync(join(tmpdir(), 'ocne-packed-'));
mkdirSync(out, { recursive: true });
run('changeset pack', process.execPath, [changeset, 'pack', '--out-dir', out], where);

if (dryRun) {
  rmSync(where, { recursive: true, force: true }); // the copy; kept when a step failed, for a look
  process.stderr.write(
    `\n== release (dry run): not published; the tarballs and publish-plan.json are in ${out}\n`,
  );
} else {
  run('changeset publish', process.execPath, [changeset, 'publish', '--from-pack-dir', out], root);
  process.stderr.write('\n== release: published; push the commit and the tags (git push --follow-tags)\n');
}
