// Atomic writes and upstream's PID lock file, with real files in temporary folders and real
// child processes holding locks.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOcneError, type PidLockHolder } from '@ocne/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquirePidLock, writeFileAtomic } from '../src/fs.js';

const HOOKS = fileURLToPath(new URL('../../../scripts/source-hooks.mjs', import.meta.url));
const FS_MODULE = new URL('../src/fs.ts', import.meta.url).href;
/** A PID no live process has (the kernel's maximum is lower). */
const DEAD_PID = 2147483646;

let root: string;
let counter = 0;
const fresh = (): string => {
  const dir = join(root, `case-${counter++}`);
  mkdirSync(dir);
  return dir;
};
const mode = (path: string): number => statSync(path).mode & 0o777;
const tempFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ocne-cluster-fs-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Starts a process that holds the lock at `path` until its stdin closes. */
async function holdLock(path: string): Promise<ChildProcess> {
  const script = join(root, `hold-${counter++}.mjs`);
  writeFileSync(
    script,
    `const { acquirePidLock } = await import(${JSON.stringify(FS_MODULE)});
const lock = await acquirePidLock(process.argv[2]);
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
`,
  );
  const child = spawn(process.execPath, ['--import', HOOKS, script, path], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  await exited;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('writeFileAtomic', () => {
  it('creates missing folders with 0700 and the file with 0600, whatever the umask', async () => {
    const dir = fresh();
    const path = join(dir, 'a', 'b', 'file.yaml');
    await writeFileAtomic(path, 'hello\n');
    expect(readFileSync(path, 'utf8')).toBe('hello\n');
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, 'a'))).toBe(0o700);
    expect(mode(join(dir, 'a', 'b'))).toBe(0o700);
    await writeFileAtomic(join(dir, 'other'), new Uint8Array([1, 2, 3]), { mode: 0o640 });
    expect(mode(join(dir, 'other'))).toBe(0o640);
    expect([...readFileSync(join(dir, 'other'))]).toEqual([1, 2, 3]);
  });

  it('replaces the content and leaves no temp file', async () => {
    const dir = fresh();
    const path = join(dir, 'file');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(mode(path)).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('keeps the old content and removes the temp file when writing fails', async () => {
    const dir = fresh();
    const path = join(dir, 'file');
    writeFileSync(path, 'old content');
    const error = await rejection(writeFileAtomic(path, { not: 'data' } as unknown as string));
    expect(isOcneError(error) && error.code).toBe('OCNE_FILE_WRITE_FAILED');
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('leaves the target alone and removes the temp file when the rename fails', async () => {
    const dir = fresh();
    const path = join(dir, 'target');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'keep');
    const error = await rejection(writeFileAtomic(path, 'data'));
    expect(isOcneError(error) && error.code).toBe('OCNE_FILE_WRITE_FAILED');
    expect(readFileSync(join(path, 'inside'), 'utf8')).toBe('keep');
    expect(tempFiles(dir)).toEqual([]);
  });

  it('writes through a symbolic link and keeps the link', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'real'), 'old');
    symlinkSync('real', join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'new');
    expect(readFileSync(join(dir, 'real'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'link')).isFile()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['link', 'real']);
  });

  it('never shows a mix of concurrent writes', async () => {
    const dir = fresh();
    const path = join(dir, 'file');
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(256 * 1024));
    await Promise.all(contents.map((c) => writeFileAtomic(path, c)));
    expect(contents).toContain(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('writes nothing when the signal is aborted', async () => {
    const dir = fresh();
    const reason = new Error('stop');
    const error = await rejection(
      writeFileAtomic(join(dir, 'file'), 'x', { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBe(reason);
    expect(readdirSync(dir)).toEqual([]);
  });
});

/**
 * The holder's command line as a lock message quotes it: whole, or its first 200 characters and an
 * ellipsis when the checkout's path makes it longer (CI clones into a longer path than ours).
 */
function quotedCommandLine(pid: number, lockPath: string): string {
  const actual = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
  expect(actual).toMatch(new RegExp(`node\\S* .*hold-\\d+\\.mjs ${lockPath}$`));
  return actual.length <= 200 ? actual : `${actual.slice(0, 200)}…`;
}

describe('acquirePidLock', () => {
  it('creates the lock file with our PID, mode 0600, and release removes it', async () => {
    const dir = fresh();
    const path = join(dir, '.ocne', 'ocne.pid');
    const lock = await acquirePidLock(path);
    expect(lock.path).toBe(path);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, '.ocne'))).toBe(0o700);
    await lock.release();
    expect(readdirSync(join(dir, '.ocne'))).toEqual([]);
    await lock.release();
  });

  it('is released by `await using`', async () => {
    const path = join(fresh(), 'ocne.pid');
    {
      await using lock = await acquirePidLock(path);
      expect(readFileSync(lock.path, 'utf8')).toBe(String(process.pid));
    }
    expect(() => statSync(path)).toThrow();
  });

  it('waits for a lock this process holds, and gets it once released', async () => {
    const path = join(fresh(), 'ocne.pid');
    const first = await acquirePidLock(path);
    const error = await rejection(acquirePidLock(path, { timeoutMs: 100 }));
    expect(isOcneError(error) && error.code).toBe('OCNE_LOCK_TIMEOUT');
    const second = acquirePidLock(path, { timeoutMs: 5000 });
    setTimeout(() => void first.release(), 50);
    await (await second).release();
  });

  it('times out on a lock a live process holds, within the timeout', async () => {
    const path = join(fresh(), 'ocne.pid');
    const holder = await holdLock(path);
    try {
      expect(readFileSync(path, 'utf8')).toBe(String(holder.pid));
      const started = performance.now();
      const error = await rejection(acquirePidLock(path, { timeoutMs: 300 }));
      const elapsed = performance.now() - started;
      expect(isOcneError(error) && error.code).toBe('OCNE_LOCK_TIMEOUT');
      // Upstream's words first, then who holds the lock and what to do about it.
      const message = (error as Error).message;
      const head = `Could not get pidfile lock at ${path}: process ${holder.pid} (`;
      expect(message.startsWith(head)).toBe(true);
      const quoted = message.slice(head.length, message.indexOf('), holding it since '));
      expect(quoted).toBe(quotedCommandLine(holder.pid!, path));
      expect(message).toMatch(/\), holding it since \d{4}-\d\d-\d\dT/);
      expect(message).toContain(`if it is not, remove ${path}`);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(2000);
      expect(readFileSync(path, 'utf8')).toBe(String(holder.pid));
    } finally {
      await stop(holder);
    }
    expect(() => statSync(path)).toThrow();
  });

  it('gets the lock as soon as the other process releases it', async () => {
    const path = join(fresh(), 'ocne.pid');
    const holder = await holdLock(path);
    const waiting = acquirePidLock(path, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stop(holder);
    const lock = await waiting;
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('stops waiting when the signal aborts', async () => {
    const path = join(fresh(), 'ocne.pid');
    const holder = await holdLock(path);
    try {
      const controller = new AbortController();
      const reason = new Error('user cancelled');
      setTimeout(() => controller.abort(reason), 100);
      const started = performance.now();
      const error = await rejection(acquirePidLock(path, { timeoutMs: 10_000, signal: controller.signal }));
      expect(error).toBe(reason);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(await rejection(acquirePidLock(path, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    } finally {
      await stop(holder);
    }
  });

  it('takes over a lock whose PID is not a live process', async () => {
    const path = join(fresh(), 'ocne.pid');
    writeFileSync(path, String(DEAD_PID));
    const lock = await acquirePidLock(path, { timeoutMs: 200 });
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    await lock.release();
    expect(() => statSync(path)).toThrow();
    expect(() => statSync(`${path}.break`)).toThrow();
  });

  it('tells onWait once who holds the lock it waits for', async () => {
    const path = join(fresh(), 'ocne.pid');
    const holder = await holdLock(path);
    try {
      const told: PidLockHolder[] = [];
      await rejection(acquirePidLock(path, { timeoutMs: 200, onWait: (h) => told.push(h) }));
      expect(told).toHaveLength(1);
      expect(told[0]?.pid).toBe(holder.pid);
      expect(told[0]?.command).toBe(quotedCommandLine(holder.pid!, path));
      expect(Math.abs(told[0]!.since.getTime() - statSync(path).mtimeMs)).toBeLessThan(1);
    } finally {
      await stop(holder);
    }
  });

  it.runIf(existsSync('/proc/self/stat'))(
    'takes over at once a lock whose PID was reused by a process started after the file was written',
    async () => {
      const path = join(fresh(), 'ocne.pid');
      // A killed ocne left its PID; the system gave that PID to an unrelated, still running process.
      const unrelated = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        writeFileSync(path, String(unrelated.pid));
        const old = new Date(Date.now() - 60_000);
        utimesSync(path, old, old);
        const started = performance.now();
        const lock = await acquirePidLock(path, { timeoutMs: 5000 });
        expect(performance.now() - started).toBeLessThan(1000);
        expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
        await lock.release();
      } finally {
        unrelated.kill();
      }
    },
  );

  it('takes over a lock with our PID that is older than this process (a restarted container)', async () => {
    const path = join(fresh(), 'ocne.pid');
    writeFileSync(path, String(process.pid));
    const old = new Date(Date.now() - process.uptime() * 1000 - 60_000);
    utimesSync(path, old, old);
    await (await acquirePidLock(path, { timeoutMs: 200 })).release();
  });

  it('takes over an empty lock file only once it is old (upstream writes the PID after creating it)', async () => {
    const path = join(fresh(), 'ocne.pid');
    writeFileSync(path, '');
    const error = await rejection(acquirePidLock(path, { timeoutMs: 100 }));
    expect(isOcneError(error) && error.code).toBe('OCNE_LOCK_TIMEOUT');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    await (await acquirePidLock(path, { timeoutMs: 200 })).release();
  });

  it('lets exactly one of many concurrent takers have a stale lock at a time', async () => {
    const path = join(fresh(), 'ocne.pid');
    writeFileSync(path, String(DEAD_PID));
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const lock = await acquirePidLock(path, { timeoutMs: 10_000, pollMs: 2 });
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
  });

  it('does not remove a lock file that no longer holds our PID', async () => {
    const path = join(fresh(), 'ocne.pid');
    const lock = await acquirePidLock(path);
    writeFileSync(path, '1');
    await lock.release();
    expect(readFileSync(path, 'utf8')).toBe('1');
  });
});
