// Child processes of a control plane: spawned with their output in a log file, stopped by PID
// (SIGTERM, then SIGKILL after a grace period), and never left behind when this process dies.
//
// Node does not kill its children when it exits, so two safety nets back up the normal path
// (`stop()`):
// - a `process.on('exit')` handler SIGKILLs every child still running and removes the guarded
//   directories, synchronously; it covers a normal exit and `process.exit()`, but not a death by
//   signal or a crash of the runtime;
// - a tiny watchdog process (one per Node process, `node -e`) that this process tells about each
//   child and directory over a pipe. When this process dies in any way, even SIGKILL, the pipe
//   reaches end of file and the watchdog SIGKILLs the children it still knows about, removes the
//   directories (an etcd data dir is over 100 MB), then exits. It ignores SIGINT/SIGHUP so that a
//   Ctrl-C sent to the whole process group cannot take it down before it has done its job, and it
//   checks `/proc/<pid>/cmdline` (where there is one) so that a reused PID is never killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';

/** How a child process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running (or finished) child process whose output goes to a log file. */
export interface LoggedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Size of the log file before this process started writing to it. */
  readonly logOffset: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ExitStatus>;
}

/** True once the process has exited (its exit status is known). */
export function hasExited(proc: LoggedProcess): boolean {
  return proc.child.exitCode !== null || proc.child.signalCode !== null;
}

/** Options of {@link spawnLogged}. */
export interface SpawnLoggedOptions {
  /** Appended to: stdout and stderr of the process, after a header line with the command. */
  logPath: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts `command` with `args` (no shell), stdout and stderr appended to `options.logPath`. */
export async function spawnLogged(
  command: string,
  args: readonly string[],
  options: SpawnLoggedOptions,
): Promise<LoggedProcess> {
  const { logPath, env = process.env } = options;
  const logOffset = await stat(logPath).then(
    (s) => s.size,
    () => 0,
  );
  const log = await open(logPath, 'a', 0o600);
  try {
    await log.write(`--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const child = spawn(command, [...args], { stdio: ['ignore', log.fd, log.fd], env });
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        reaper.untrack(child);
        resolve({ code, signal });
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // A failed kill() emits 'error'; without a listener that would crash the test runner.
    child.on('error', () => {});
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${command} has no PID after it was spawned`);
    reaper.track(child, command);
    return { pid, child, logPath, logOffset, exited };
  } finally {
    await log.close();
  }
}

/** Options of {@link stopProcess}. */
export interface StopProcessOptions {
  /** Time between SIGTERM and SIGKILL; 5000 ms by default. */
  graceMs?: number;
}

/** Sends SIGTERM to the process, SIGKILL after the grace period, and waits until it has exited. */
export async function stopProcess(
  proc: LoggedProcess,
  options: StopProcessOptions = {},
): Promise<ExitStatus> {
  const { graceMs = 5000 } = options;
  if (hasExited(proc)) return proc.exited;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

const WATCHDOG_SOURCE = `
'use strict';
const { readFileSync, rmSync } = require('node:fs');
const pids = new Map();
const dirs = new Set();
let pending = '';
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (data) => {
  pending += data;
  for (let i = pending.indexOf('\\n'); i >= 0; i = pending.indexOf('\\n')) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    const op = line.slice(0, 1);
    const rest = line.slice(2);
    const space = rest.indexOf(' ');
    if (op === '+') pids.set(Number(rest.slice(0, space)), rest.slice(space + 1));
    else if (op === '-') pids.delete(Number(rest));
    else if (op === 'd') dirs.add(rest);
    else if (op === 'u') dirs.delete(rest);
  }
});
const running = (pid) => {
  try {
    return readFileSync('/proc/' + pid + '/stat', 'utf8').replace(/^.*\\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
};
let done = false;
const reap = () => {
  if (done) return;
  done = true;
  const killed = [];
  for (const [pid, exe] of pids) {
    try {
      if (readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0')[0] !== exe) continue;
    } catch {}
    try { process.kill(pid, 'SIGKILL'); killed.push(pid); } catch {}
  }
  const until = Date.now() + 2000;
  while (Date.now() < until && killed.some(running)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  for (const dir of dirs) {
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch {}
  }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

/** Keeps track of the children still running and the directories to remove; see the top of this file. */
class Reaper {
  readonly #live = new Set<ChildProcess>();
  readonly #dirs = new Set<string>();
  #exitHandlerInstalled = false;
  #watchdog: Socket | undefined;

  track(child: ChildProcess, command: string): void {
    this.#live.add(child);
    this.#installExitHandler();
    this.#tell(`+ ${child.pid} ${command}\n`);
  }

  untrack(child: ChildProcess): void {
    if (this.#live.delete(child)) this.#tell(`- ${child.pid}\n`);
  }

  guard(dir: string): void {
    this.#dirs.add(dir);
    this.#installExitHandler();
    this.#tell(`d ${dir}\n`);
  }

  release(dir: string): void {
    if (this.#dirs.delete(dir)) this.#tell(`u ${dir}\n`);
  }

  #installExitHandler(): void {
    if (this.#exitHandlerInstalled) return;
    this.#exitHandlerInstalled = true;
    process.on('exit', () => this.#cleanUpSync());
  }

  #cleanUpSync(): void {
    for (const child of this.#live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of this.#dirs) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort
      }
    }
  }

  #tell(line: string): void {
    try {
      this.#watchdog ??= startWatchdog();
      this.#watchdog.write(line);
    } catch {
      // best effort: the exit handler and stop() remain
    }
  }
}

/**
 * Removes `dir` (recursively) if this process exits or dies before {@link releaseDirectory} is
 * called for it; for temp dirs of processes started with {@link spawnLogged}.
 */
export function guardDirectory(dir: string): void {
  reaper.guard(dir);
}

/** Stops guarding `dir` (call it once `dir` is removed). */
export function releaseDirectory(dir: string): void {
  reaper.release(dir);
}

function startWatchdog(): Socket {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  watchdog.on('error', () => {});
  // Neither the watchdog nor the pipe to it may keep this process alive.
  watchdog.unref();
  const pipe = watchdog.stdin as Socket;
  pipe.on('error', () => {});
  pipe.unref();
  return pipe;
}

const reaper = new Reaper();
