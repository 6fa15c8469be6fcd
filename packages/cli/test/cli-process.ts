// The real `ocne` process, from source, for the tests that run it as a user does: in a child Node
// process with HOME set to a temporary home.
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root. */
export const root: string = join(here, '../../..');
/** The BYO example configuration. */
export const byoConfig: string = join(root, 'examples/byo/byo.yaml');

/** How a run of the CLI ended. */
export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

const argvOf = (args: readonly string[]): string[] => [
  '--import',
  join(root, 'scripts/source-hooks.mjs'),
  join(root, 'packages/cli/src/bin.ts'),
  ...args,
];

const envOf = (home: string, env: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: home,
  ...env,
});

/** Runs the CLI to its end, its output captured. */
export function ocne(home: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argvOf(args),
      { env: envOf(home, env), encoding: 'utf8', cwd: root, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts the CLI, for tests that signal it or give it their own stdio. */
export function spawnOcne(
  home: string,
  args: readonly string[],
  options: Pick<SpawnOptions, 'stdio'> = {},
): ChildProcess {
  return spawn(process.execPath, argvOf(args), { env: envOf(home), cwd: root, ...options });
}

/** How a spawned process ended: its exit code, or the signal that ended it. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** What a home holds that is not the cluster cache: lock and claim files, temp files. */
export function leftovers(home: string): string[] {
  const folder = join(home, '.ocne');
  return existsSync(folder) ? readdirSync(folder).filter((f) => f !== 'clusters.yaml') : [];
}

/** The kubeconfigs in a home's `.kube`. */
export function kubeconfigs(home: string): string[] {
  const folder = join(home, '.kube');
  return existsSync(folder)
    ? readdirSync(folder)
        .map((f) => join(folder, f))
        .sort()
    : [];
}
