// What npm would get: the tarballs of the release dry run (release-setup.ts), one by one. Each
// carries its license, README and changelog, its build and not its sources, a manifest without
// workspace-only specifiers or export conditions, and passes publint --strict and
// @arethetypeswrong/cli with the ESM-only profile.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const API_DOCS = 'https://ocne-sdk.github.io/ocne-typescript-sdk/modules/';
const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type?: string; url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  publishConfig?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const rootManifest = readJson<Manifest>(join(ROOT, 'package.json'));

/** The workspace's public packages: folder and manifest. */
const published = readdirSync(join(ROOT, 'packages'))
  .map((folder) => ({
    folder: `packages/${folder}`,
    manifest: readJson<Manifest>(join(ROOT, 'packages', folder, 'package.json')),
  }))
  .filter(({ manifest }) => manifest.private !== true);

const packed = inject('packed');
const tarballs = readdirSync(join(packed.dir, 'packages')).sort();
const tarballOf = (name: string): string => {
  const file = tarballs.find((t) => t.startsWith(`${name.slice(1).replace('/', '-')}-`));
  if (file === undefined) throw new Error(`no tarball of ${name}`);
  return join(packed.dir, 'packages', file);
};

/** Every file below a folder, relative, with `/`. */
const filesBelow = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();

/** The relative file paths an exports map (or main/types/bin) names. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return value.startsWith('./') ? [value.slice(2)] : [];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(targets);
  return [];
}

let unpacked: string;
beforeAll(() => {
  unpacked = mkdtempSync(join(tmpdir(), 'ocne-unpacked-'));
  for (const { manifest } of published) {
    const into = join(unpacked, manifest.name);
    mkdirSync(into, { recursive: true });
    execFileSync('tar', ['-xzf', tarballOf(manifest.name), '-C', into]);
  }
});
afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

describe('the release dry run', () => {
  it('packs every public package and no private one, without publishing', () => {
    const plan = readJson<{ plan: Array<Array<{ kind: string; name: string; version: string }>> }>(
      join(packed.dir, 'publish-plan.json'),
    ).plan.flat();
    expect(plan.map((release) => release.name).sort()).toEqual(
      published.map(({ manifest }) => manifest.name).sort(),
    );
    expect(tarballs).toHaveLength(published.length);
    expect(plan.every((release) => release.kind === 'publish')).toBe(true);
    expect(packed.log).toContain('not published');
  });

  it('versions the packages from the changesets and leaves the repository as it was', () => {
    for (const { folder, manifest } of published) {
      const shipped = readJson<Manifest>(join(unpacked, manifest.name, 'package', 'package.json'));
      expect(shipped.version, manifest.name).not.toBe(manifest.version);
      expect(readJson<Manifest>(join(ROOT, folder, 'package.json')).version).toBe(manifest.version);
    }
    expect(
      readdirSync(join(ROOT, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md'),
    ).not.toEqual([]);
  });
});

describe.each(published)('$manifest.name', ({ folder, manifest }) => {
  const dir = (): string => join(unpacked, manifest.name, 'package');
  const shipped = (): Manifest => readJson<Manifest>(join(dir(), 'package.json'));

  it('ships the license, a README with an example and the API docs, and the changelog', () => {
    expect(readFileSync(join(dir(), 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(dir(), 'LICENSE'), 'utf8')).toContain(
      'The Universal Permissive License (UPL), Version 1.0',
    );
    const readme = readFileSync(join(dir(), 'README.md'), 'utf8');
    expect(readme).toMatch(new RegExp(`^# ${manifest.name}\\n`));
    expect(readme).toContain('npm install ');
    expect(readme).toMatch(/```ts\n[\s\S]+?\n```/);
    expect(readme).toContain(`${API_DOCS}${manifest.name.replace('@', '_').replace('/', '_')}.html`);
    const changelog = readFileSync(join(dir(), 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(new RegExp(`^# ${manifest.name}\\n`));
    expect(changelog).toContain(`## ${shipped().version}\n`);
  });

  it('ships its build and not its sources', () => {
    const files = filesBelow(dir());
    expect(files.filter((file) => file.startsWith('src/'))).toEqual([]);
    const named = [
      ...targets(shipped().exports),
      ...targets(shipped().main),
      ...targets(shipped().types),
      ...targets(shipped().bin),
    ];
    expect(named.filter((file) => !files.includes(file))).toEqual([]);
    expect(files.some((file) => /^dist\/.*\.d\.ts$/.test(file))).toBe(true);
  });

  it('has a manifest fit for the registry', () => {
    const pkg = shipped();
    const text = readFileSync(join(dir(), 'package.json'), 'utf8');
    expect(text).not.toContain('@ocne/source');
    expect(text).not.toMatch(/"(workspace|catalog):/);
    expect(pkg.license).toBe('UPL-1.0');
    expect(pkg.repository).toEqual({ type: 'git', url: rootManifest.repository?.url, directory: folder });
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs?.url).toBe(rootManifest.bugs?.url);
    expect(pkg.publishConfig).toMatchObject({ access: 'public', provenance: true });
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (name.startsWith('@ocne/')) expect(range.replace(/^\^/, ''), name).toBe(pkg.version);
      // The oci-* packages pin oci-common exactly and the registry lacks some oci-common versions
      // that newer service packages need: one exact version for all five installs, a range may not.
      else if (/^oci-(common|core|identity|objectstorage|workrequests)$/.test(name))
        expect(range, `${name} is pinned exactly`).toMatch(/^\d+\.\d+\.\d+$/);
      else expect(range, `${name} takes a caret range: the lockfile pins what we test`).toMatch(/^\^\d/);
    }
  });

  it('has published types that do not load the Kubernetes client, and no deep imports into it', () => {
    const offending = filesBelow(dir()).filter((file) => {
      const text = readFileSync(join(dir(), file), 'utf8');
      if (file.endsWith('.d.ts')) return /(from|import\()\s*['"]@kubernetes\/client-node/.test(text);
      return file.endsWith('.js') && /['"]@kubernetes\/client-node\/dist/.test(text);
    });
    expect(offending).toEqual([]);
  });

  it('passes publint --strict', async () => {
    const data = readFileSync(tarballOf(manifest.name));
    const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    const { messages, pkg } = await publint({ pack: { tarball }, strict: true });
    expect(
      messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`),
    ).toEqual([]);
  });

  it('passes @arethetypeswrong/cli with the ESM-only profile', async () => {
    const require = createRequire(join(ROOT, 'package.json'));
    const cli = join(require.resolve('@arethetypeswrong/cli/package.json'), '../dist/index.js');
    expect(existsSync(cli)).toBe(true);
    const result = await run(
      process.execPath,
      [cli, tarballOf(manifest.name), '--profile', 'esm-only', '--format', 'table-flipped'],
      { encoding: 'utf8' },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    expect('code' in result ? `${result.stdout}${result.stderr}` : '').toBe('');
  }, 60_000);
});

describe('a BYO-only install', () => {
  it('does not depend on @ocne/kubernetes: it is an optional peer of provider-byo and capi', () => {
    for (const name of ['@ocne/provider-byo', '@ocne/capi']) {
      const pkg = readJson<Manifest & { peerDependenciesMeta?: Record<string, { optional?: boolean }> }>(
        join(unpacked, name, 'package', 'package.json'),
      );
      expect(pkg.dependencies?.['@ocne/kubernetes'], name).toBeUndefined();
      expect(pkg.peerDependencies?.['@ocne/kubernetes'], name).toBeDefined();
      expect(pkg.peerDependenciesMeta?.['@ocne/kubernetes']?.optional, name).toBe(true);
    }
  });
});
