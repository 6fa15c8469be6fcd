/**
 * Global setup of the `packaging` vitest project: a dry run of the release (`scripts/release.ts
 * --dry-run --skip-checks`, the checks being this very `npm test`) packs every public package as
 * `changeset publish` would upload it, and the tests get the folder (`inject('packed')`). The dry
 * run asks a registry which versions are already published: here a local one that has none, so
 * that the tests never depend on what npm holds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the tests are given: where the tarballs and the dry run's output are. */
export interface PackedRelease {
  /** The folder `changeset pack` wrote: `publish-plan.json` and `packages/*.tgz`. */
  dir: string;
  /** Everything the dry run printed. */
  log: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packed: PackedRelease;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const registry = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"Not found"}');
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  const { port } = registry.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'ocne-packed-'));
  const cleanup = async (): Promise<void> => {
    await new Promise((resolve) => registry.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  };
  const child = spawn(
    process.execPath,
    [join(ROOT, 'scripts/release.ts'), '--dry-run', '--skip-checks', '--out', dir],
    { cwd: ROOT, env: { ...process.env, npm_config_registry: `http://127.0.0.1:${port}/` } },
  );
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0 || !existsSync(join(dir, 'packages')) || readdirSync(join(dir, 'packages')).length === 0) {
    await cleanup();
    throw new Error(`the release dry run failed (exit ${code}); was \`pnpm build\` run?\n${log}`);
  }
  project.provide('packed', { dir, log });
  return cleanup;
}
