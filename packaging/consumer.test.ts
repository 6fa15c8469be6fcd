// A consumer outside the workspace: the tarballs of the release dry run installed with npm into
// temporary projects (third-party dependencies from the npm registry, through a cache kept in
// ~/.cache/ocne-test/npm so that a second run is fast).
//
// - With every package: a strict `nodenext` program that embeds the facade (start with its events,
//   join, template) and the README examples type-check with `skipLibCheck: false` under TypeScript
//   5.4, the newest 6.x and the newest 7.x (the native compiler's `tsc`); the program runs with
//   Node, and its esbuild bundle (`--splitting`) runs from a folder without node_modules.
// - With only `@ocne/cluster` and `@ocne/provider-byo`: node_modules stays within 15 MB, BYO start
//   and join work, and what needs a live cluster names the package to add.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));
const packed = inject('packed');
const tarballs = readdirSync(join(packed.dir, 'packages')).map((file) => join(packed.dir, 'packages', file));
const execFileAsync = promisify(execFile);

/** The tarball of a package, as an npm `file:` specifier. */
const fileSpec = (name: string): string => {
  const prefix = `${name.slice(1).replace('/', '-')}-`;
  const found = tarballs.find((path) => path.split('/').at(-1)?.startsWith(prefix));
  if (found === undefined) throw new Error(`no tarball of ${name}`);
  return `file:${found}`;
};

/** Runs a command; fails the test with everything it printed when it fails. */
async function sh(command: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd,
      timeout,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_cache: join(homedir(), '.cache/ocne-test/npm') },
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

const npmInstall = (cwd: string, ...extra: string[]): Promise<string> =>
  sh(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...extra],
    cwd,
    900_000,
  );

/** Disk usage of a folder as `du` counts it (allocated blocks), links not followed. */
function diskUsage(path: string): number {
  const stat = lstatSync(path);
  let total = stat.blocks * 512;
  if (stat.isDirectory()) for (const entry of readdirSync(path)) total += diskUsage(join(path, entry));
  return total;
}

/** Every published package. */
const ALL = [
  '@ocne/core',
  '@ocne/config',
  '@ocne/ignition',
  '@ocne/kubernetes',
  '@ocne/capi',
  '@ocne/image',
  '@ocne/provider-byo',
  '@ocne/provider-oci',
  '@ocne/provider-libvirt',
  '@ocne/cluster',
  '@ocne/cli',
];

const work = mkdtempSync(join(tmpdir(), 'ocne-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a project with every package', () => {
  const dir = join(work, 'all');

  beforeAll(async () => {
    cpSync(join(FIXTURES, 'consumer'), dir, { recursive: true });
    const manifest = {
      name: 'ocne-consumer',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(ALL.map((name) => [name, fileSpec(name)])),
      devDependencies: {
        '@types/node': '^24',
        esbuild: '^0.28.0',
        'typescript-5.4': 'npm:typescript@~5.4.0',
        'typescript-6': 'npm:typescript@^6',
        'typescript-7': 'npm:typescript@^7',
      },
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await npmInstall(dir);
    // The README examples, as a reader would paste them: type-checked with the program.
    for (const name of ALL) {
      const readme = readFileSync(join(dir, 'node_modules', name, 'README.md'), 'utf8');
      const example = /```ts\n([\s\S]+?)\n```/.exec(readme)?.[1];
      if (example === undefined) throw new Error(`${name}: the README has no TypeScript example`);
      writeFileSync(join(dir, `readme-${name.split('/')[1]}.ts`), `${example}\n`);
    }
  }, 900_000);

  it.each([
    ['5.4', 'typescript-5.4'],
    ['the newest 6.x', 'typescript-6'],
    ['the newest 7.x (native tsc)', 'typescript-7'],
  ])('type-checks strictly with skipLibCheck: false under TypeScript %s', async (_, alias) => {
    const version = (
      JSON.parse(readFileSync(join(dir, 'node_modules', alias, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    console.log(`type-checking with TypeScript ${version}`);
    // Errors fail the command, and so this test, with tsc's output.
    await sh(
      process.execPath,
      [join(dir, 'node_modules', alias, 'bin', 'tsc'), '-p', '.', '--listFilesOnly'],
      dir,
    );
    await sh(process.execPath, [join(dir, 'node_modules', alias, 'bin', 'tsc'), '-p', '.'], dir);
  });

  const expectations = (stdout: string): void => {
    const result = JSON.parse(stdout) as {
      events: string[];
      ignitionVersion: string;
      joinCommands: string[];
      joinIgnition: boolean;
      templateKinds: string[];
    };
    expect(result.events).toContain('step');
    expect(result.events.filter((type) => type === 'done')).toHaveLength(2);
    expect(result.ignitionVersion).toBe('3.4.0');
    expect(result.joinIgnition).toBe(true);
    expect(result.joinCommands).toEqual([
      expect.stringMatching(/^kubeadm token create [a-z0-9]{6}\.[a-z0-9]{16}$/),
    ]);
    expect(result.templateKinds).toEqual([
      'Cluster',
      'OCICluster',
      'KubeadmControlPlane',
      'OCIMachineTemplate',
      'OCIMachineTemplate',
      'KubeadmConfigTemplate',
      'MachineDeployment',
    ]);
  };

  it('runs with Node: start with its events, join, template', async () => {
    expectations(await sh(process.execPath, ['main.ts', dir], dir));
  });

  it('bundles with esbuild --splitting, and the bundle runs without node_modules', async () => {
    const out = join(work, 'bundle');
    // esbuild's own binary (its install put it in place of the JavaScript launcher).
    await sh(
      join(dir, 'node_modules/.bin/esbuild'),
      [
        'main.ts',
        '--bundle',
        '--format=esm',
        '--splitting',
        '--platform=node',
        `--outdir=${out}`,
        '--log-level=error',
        // The usual banner of an ESM bundle for Node: CommonJS dependencies (yaml) require built-ins.
        "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      ],
      dir,
    );
    expect(readdirSync(out).filter((file) => file.endsWith('.js')).length).toBeGreaterThan(1);
    expect(existsSync(join(out, 'node_modules'))).toBe(false);
    expectations(await sh(process.execPath, [join(out, 'main.js'), dir], out));
  });
});

describe('a project with only @ocne/cluster and @ocne/provider-byo', () => {
  const dir = join(work, 'byo-only');

  beforeAll(async () => {
    cpSync(join(FIXTURES, 'byo-only'), dir, { recursive: true });
    // `npm install @ocne/cluster @ocne/provider-byo` as it will be once they are on the registry:
    // the overrides stand in for the registry's @ocne packages, and npm takes those it needs.
    const manifest = {
      name: 'ocne-byo-only',
      private: true,
      type: 'module',
      dependencies: {
        '@ocne/cluster': fileSpec('@ocne/cluster'),
        '@ocne/provider-byo': fileSpec('@ocne/provider-byo'),
      },
      overrides: Object.fromEntries(ALL.map((name) => [name, fileSpec(name)])),
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await npmInstall(dir, '--omit=dev');
  }, 900_000);

  it('installs at most 15 MB, without the Kubernetes client', () => {
    const bytes = diskUsage(join(dir, 'node_modules'));
    console.log(`BYO-only node_modules: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
    expect(bytes).toBeLessThanOrEqual(15 * 1024 * 1024);
    for (const absent of ['@kubernetes/client-node', '@ocne/kubernetes', 'execa'])
      expect(existsSync(join(dir, 'node_modules', absent)), absent).toBe(false);
  });

  it('starts and joins; automatic tokens, the second start and node moves name @ocne/kubernetes', async () => {
    const result = JSON.parse(await sh(process.execPath, ['main.ts', dir], dir)) as Record<
      string,
      { code?: string; message?: string } | number | string[]
    >;
    expect(result.initIgnition).toBeGreaterThan(1000);
    expect(result.joinCommands).toEqual([expect.stringMatching(/^kubeadm token create /)]);
    for (const feature of ['automaticToken', 'secondStart', 'moveNode']) {
      expect(result[feature], feature).toMatchObject({
        code: 'OCNE_DEPENDENCY_MISSING',
        message: expect.stringContaining(
          'needs the package @ocne/kubernetes, which is not installed: add it to your dependencies (npm install @ocne/kubernetes)',
        ),
      });
    }
  });
});
