// The registry daemon as a child process: output to a log file, stopped by its PID (SIGTERM,
// SIGKILL after a grace period), and SIGKILLed by an exit handler if the test process ends
// without stopping it, so no registry outlives the test run that started it.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const live = new Set<ChildProcess>();
let exitHandler = false;

/** A started daemon. */
export interface Daemon {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
}

/** Starts `command` with its stdout and stderr appended to `logPath`. */
export async function startDaemon(
  command: string,
  args: readonly string[],
  logPath: string,
): Promise<Daemon> {
  const fd = openSync(logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.on('error', () => {});
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command} has no PID after it was spawned`);
  live.add(child);
  if (!exitHandler) {
    exitHandler = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
  }).finally(() => live.delete(child));
  return { pid, child, exited };
}

/** Stops the daemon by its PID: SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopDaemon(daemon: Daemon, graceMs = 3000): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  process.kill(daemon.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(daemon.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  try {
    await daemon.exited;
  } finally {
    clearTimeout(timer);
  }
}
