// SIGINT and SIGTERM at random points of `ocne cluster start`, `join` and `delete`, the real process:
// whatever the point, the home is left consistent (no lock, no claim, no temp file, no kubeconfig
// without its cache entry, no entry without its kubeconfig) and the next command works at once.
// The points are random but reproducible: OCNE_SIGNAL_SEED=<seed> replays a run (the seed is in
// every failure message), OCNE_SIGNAL_TRIES=<n> tries more points.
import { mkdtempSync, readdirSync, rmSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, ClusterCache } from '@ocne/cluster';
import { afterAll, describe, expect, it } from 'vitest';
import { byoConfig, exited, kubeconfigs, leftovers, ocne, spawnOcne } from './cli-process.js';

const SEED = Number(process.env.OCNE_SIGNAL_SEED ?? Date.now() % 1_000_000);
const TRIES = Number(process.env.OCNE_SIGNAL_TRIES ?? 3);
const NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(SEED);

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** Every file and folder below `home` with its size and modification time, to tell whether anything changed. */
function snapshot(home: string): string[] {
  return readdirSync(home, { recursive: true, encoding: 'utf8' })
    .map((path) => {
      const stat = statSync(join(home, path), { throwIfNoEntry: false });
      return `${path} ${stat?.size} ${stat?.mtimeMs}`;
    })
    .sort();
}

/**
 * The commands and how long their work in the home lasts after they first touch it (measured:
 * the start's key generation is the longest part), with what a home needs before each.
 */
const COMMANDS = [
  { name: 'start', args: ['cluster', 'start', '-c', byoConfig], work: 1500, started: false },
  { name: 'join', args: ['cluster', 'join', '-c', byoConfig], work: 400, started: true },
  { name: 'delete', args: ['cluster', 'delete', '-C', 'demo-byo'], work: 700, started: true },
] as const;

/**
 * One try: the command runs; the signal comes either a random time after the command first
 * touches the home (inside its work), or at a random time of its whole run (module loading too).
 */
async function interrupt(
  command: (typeof COMMANDS)[number],
  signal: keyof typeof NUMBER,
): Promise<{ where: string; home: string }> {
  const home = mkdtempSync(join(tmpdir(), `ocne-signal-${command.name}-`));
  homes.push(home);
  if (command.started) await (await Cluster.open({ configPath: byoConfig, home, env: {} })).start();
  const inWork = next() < 0.7;
  const delay = Math.round(next() * (inWork ? command.work : 2000 + command.work));
  const where = `seed ${SEED}: ${signal} ${delay} ms after ${inWork ? 'the first change in the home' : 'the start'} of ${command.name}`;
  let touched = false;
  let sent = false;
  const before = snapshot(home);
  const child = spawnOcne(home, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const send = () => {
    if (!sent && child.exitCode === null) child.kill(signal);
    sent = true;
  };
  const watcher = watch(home, { recursive: true }, () => {
    if (!touched && inWork) setTimeout(send, delay);
    touched = true;
  });
  if (!inWork) setTimeout(send, delay);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  const end = await exited(child);
  watcher.close();
  // Finished before the signal (0), or cancelled and cleaned up (128 + n). Killed by the signal
  // itself only outside the CLI's handling: while Node was still loading it (the home untouched),
  // or while the process was exiting after the command had finished (seen on a loaded machine: the
  // home holds the finished cluster). Either way the caller then checks that the home is
  // consistent: no lock, claim or temp file, every kubeconfig with its entry.
  if (end.signal !== null) {
    expect(end.signal, where).toBe(signal);
    const after = snapshot(home);
    if (after.join('\n') !== before.join('\n')) {
      const names = after.map((line) => line.split(' ')[0]);
      expect(names, `${where}: killed after changing the home, so the command must have finished`).toEqual(
        expect.arrayContaining(['.ocne/clusters.yaml']),
      );
    }
  } else {
    expect([0, 128 + NUMBER[signal]], `${where}: exit ${end.code}\n${stderr}`).toContain(end.code);
    expect(stderr, where).not.toMatch(/ {4}at |Unhandled/);
  }
  return { where, home };
}

/** No lock, claim or temp file; every kubeconfig has its entry and every entry its kubeconfig. */
async function expectConsistent(home: string, where: string): Promise<string[]> {
  expect(leftovers(home), where).toEqual([]);
  const cached = await new ClusterCache({ home, lockTimeoutMs: 0 }).list();
  expect(kubeconfigs(home), where).toEqual(cached.map((c) => c.kubeconfig).sort());
  return cached.map((c) => c.name);
}

describe('SIGINT and SIGTERM at random points', () => {
  for (const command of COMMANDS) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`${command.name}, ${signal}: a consistent home, and the next command works at once`, async () => {
        for (let i = 0; i < TRIES; i++) {
          const { where, home } = await interrupt(command, signal);
          const names = await expectConsistent(home, where);
          // The next command: delete what is there, else start anew. It waits for no lock (10 s).
          const started = performance.now();
          const then = names.includes('demo-byo')
            ? await ocne(home, ['cluster', 'delete', '-C', 'demo-byo'])
            : await ocne(home, ['cluster', 'start', '-c', byoConfig]);
          expect(then.status, `${where}: the next command\n${then.stderr}`).toBe(0);
          expect(performance.now() - started, where).toBeLessThan(8000);
          await expectConsistent(home, where);
        }
      }, 180_000);
    }
  }
});
