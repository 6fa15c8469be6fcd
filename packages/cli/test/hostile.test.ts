// The CLI as a careless user meets it: stdout that cannot be written, -c paths that are no files,
// names that are no clusters, a lock someone else holds, upstream's -l and command prefixes.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { byoConfig, exited, kubeconfigs, leftovers, ocne, spawnOcne } from './cli-process.js';

// Each test runs the CLI in a few child processes, on a machine that may be busy.
vi.setConfig({ testTimeout: 60_000 });

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-hostile-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Collects a child's stderr as text. */
function stderrOf(child: ReturnType<typeof spawnOcne>): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

describe('a standard output that cannot be written', () => {
  it.runIf(existsSync('/dev/full'))(
    'start >/dev/full: a clear error, exit 1, no stack, and no cluster recorded or kubeconfig kept',
    async () => {
      const full = openSync('/dev/full', 'w');
      const child = spawnOcne(home, ['cluster', 'start', '-c', byoConfig], {
        stdio: ['ignore', full, 'pipe'],
      });
      closeSync(full);
      const stderr = stderrOf(child);
      expect((await exited(child)).code).toBe(1);
      expect(stderr()).toMatch(/level=error msg="could not write to standard output: ENOSPC/);
      expect(stderr()).not.toMatch(/ {4}at |Unhandled/);
      expect((await ocne(home, ['cluster', 'list'])).stdout).toBe('');
      expect(kubeconfigs(home)).toEqual([]);
      expect(leftovers(home)).toEqual([]);
      // Nothing stands in the way of the next start.
      expect((await ocne(home, ['cluster', 'start', '-c', byoConfig])).status).toBe(0);
    },
  );

  it('start into a pipe its reader closed: the same', async () => {
    const child = spawnOcne(home, ['cluster', 'start', '-c', byoConfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.destroy();
    const stderr = stderrOf(child);
    expect((await exited(child)).code).toBe(1);
    expect(stderr()).toMatch(/could not write to standard output: (EPIPE|write EPIPE)/);
    expect(stderr()).not.toMatch(/ {4}at |Unhandled/);
    expect(kubeconfigs(home)).toEqual([]);
    expect((await ocne(home, ['cluster', 'list'])).stdout).toBe('');
  });

  it.runIf(existsSync('/dev/full'))('list >/dev/full: a clear error, exit 1', async () => {
    expect((await ocne(home, ['cluster', 'start', '-c', byoConfig])).status).toBe(0);
    const full = openSync('/dev/full', 'w');
    const child = spawnOcne(home, ['cluster', 'list'], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    const stderr = stderrOf(child);
    expect((await exited(child)).code).toBe(1);
    expect(stderr()).toContain('could not write to standard output');
    expect(stderr()).not.toMatch(/ {4}at |Unhandled/);
  });
});

describe('usage errors: exit 2, before anything runs', () => {
  it.each([
    ['a path that does not exist', (h: string) => join(h, 'absent.yaml'), 'no such file'],
    ['a folder', (h: string) => h, 'it is a folder, not a file'],
    ['an empty path', () => '', 'expected the path of a configuration file'],
  ])('-c with %s', async (_, path, message) => {
    for (const command of ['start', 'join', 'delete', 'template']) {
      const run = await ocne(home, ['cluster', command, '-c', path(home)]);
      expect([command, run.status, run.stdout]).toEqual([command, 2, '']);
      expect(run.stderr).toContain(message);
    }
  });

  it('an unknown -l level', async () => {
    const run = await ocne(home, ['-l', 'loud', 'cluster', 'list']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Allowed choices are error, info, debug, trace');
  });
});

describe('delete of a name the cache does not have', () => {
  it('says the cluster does not exist, not that libvirt cannot delete', async () => {
    const run = await ocne(home, ['cluster', 'delete', '-C', 'nope']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Cluster nope does not exist');
    expect(run.stderr).not.toContain('libvirt');
  });

  it('with -c goes on with that configuration, as upstream does, to clean up after a failed start', async () => {
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'kubeconfig.demo-byo'), 'left over\n');
    const run = await ocne(home, ['cluster', 'delete', '-c', byoConfig]);
    expect(run.status).toBe(0);
    expect(kubeconfigs(home)).toEqual([]);
  });
});

describe("upstream's -l/--log-level", () => {
  it('is taken before and after the command; error hides the information lines', async () => {
    const debug = await ocne(home, ['-l', 'debug', 'cluster', 'start', '-c', byoConfig]);
    expect(debug.status).toBe(0);
    expect(debug.stderr).toContain('level=info msg="Saving kubeconfig');
    const join1 = await ocne(home, ['cluster', 'join', '-c', byoConfig, '--log-level', 'error']);
    expect(join1.status).toBe(0);
    expect(JSON.parse(join1.stdout).ignition.version).toBe('3.4.0');
    expect(join1.stderr).not.toMatch(/level=(info|warning)/);
    // Instructions are not log lines: the user needs them at every level.
    expect(join1.stderr).toContain('kubeadm token create');
  });
});

describe('command prefixes, as upstream’s cobra takes them', () => {
  it('a unique prefix names its command', async () => {
    const start = await ocne(home, ['clus', 'star', '-c', byoConfig]);
    expect(start.status).toBe(0);
    expect(JSON.parse(start.stdout).ignition.version).toBe('3.4.0');
    expect((await ocne(home, ['cl', 'li'])).stdout).toBe('demo-byo\n');
    expect((await ocne(home, ['cluster', 'ls'])).stdout).toBe('demo-byo\n');
  });

  it.each([
    ['c', ['c', 'list']],
    ['d (delete or dump)', ['cluster', 'd', '-C', 'demo-byo']],
    ['sta (start or stage)', ['cluster', 'sta', '-c', byoConfig]],
  ])('a prefix of more than one of upstream’s commands is refused: %s', async (_, args) => {
    expect((await ocne(home, ['cluster', 'start', '-c', byoConfig])).status).toBe(0);
    const run = await ocne(home, args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown command');
    expect(kubeconfigs(home)).toHaveLength(1);
  });
});

describe('a lock another process holds', () => {
  it('start says at once which process holds it; SIGTERM ends the wait, and the lock is left to its owner', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      mkdirSync(join(home, '.ocne'), { mode: 0o700 });
      writeFileSync(join(home, '.ocne', 'ocne.pid'), String(other.pid));
      const child = spawnOcne(home, ['cluster', 'start', '-c', byoConfig], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stderr = stderrOf(child);
      const started = performance.now();
      while (!stderr().includes('Waiting for the lock') && performance.now() - started < 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(stderr()).toMatch(
        new RegExp(
          `Waiting for the lock ${join(home, '.ocne', 'ocne.pid')}: process ${other.pid} \\(sleep 30\\)`,
        ),
      );
      child.kill('SIGTERM');
      expect(await exited(child)).toEqual({ code: 143, signal: null });
      expect(readFileSync(join(home, '.ocne', 'ocne.pid'), 'utf8')).toBe(String(other.pid));
      expect(leftovers(home)).toEqual(['ocne.pid']);
      expect(kubeconfigs(home)).toEqual([]);
    } finally {
      other.kill();
    }
  });

  it.runIf(existsSync('/proc/self/stat'))(
    'a PID that a process started after the lock file now has does not block: the file is stale',
    async () => {
      const other = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        mkdirSync(join(home, '.ocne'), { mode: 0o700 });
        const lock = join(home, '.ocne', 'ocne.pid');
        writeFileSync(lock, String(other.pid));
        const old = new Date(Date.now() - 3_600_000);
        utimesSync(lock, old, old);
        const started = performance.now();
        const run = await ocne(home, ['cluster', 'start', '-c', byoConfig]);
        expect(run.status).toBe(0);
        expect(performance.now() - started).toBeLessThan(8000);
        expect(leftovers(home)).toEqual([]);
      } finally {
        other.kill();
      }
    },
  );
});
