/**
 * File-system primitives of the state under ~/.ocne and ~/.kube: atomic writes (for kubeconfigs,
 * the cluster cache, anything holding keys) and upstream's PID lock file.
 *
 * The lock's steps are synchronous system calls on a file of a few bytes in the user's home: each
 * takes microseconds, where an asynchronous one waits for libuv's thread pool (about a tenth of a
 * millisecond each on a busy machine, and a lock takes a dozen). `node:fs/promises` (which loads
 * readline and more) is loaded only by a write.
 */
import {
  closeSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OcneError } from './errors.js';

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Permission bits of the file, applied whatever the umask. @defaultValue `0o600` */
  mode?: number;
  signal?: AbortSignal | undefined;
}

const errorCode = (error: unknown): string | undefined =>
  (error as { code?: unknown } | null)?.code as string | undefined;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Rethrows the signal's reason when the error is the abort, so callers see their own reason. */
function rethrowAbort(error: unknown, signal: AbortSignal | undefined): void {
  if (
    signal?.aborted &&
    (error === signal.reason || (error as { name?: unknown } | null)?.name === 'AbortError')
  ) {
    signal.throwIfAborted();
  }
}

const fsp = () => process.getBuiltinModule('node:fs/promises');

/** Flushes a folder's entries (the rename) to disk. Not every platform can open a folder; that is not an error. */
async function syncFolder(folder: string): Promise<void> {
  const { open } = fsp();
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Windows and some file systems cannot fsync a folder: the rename is done, durability is best effort.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Writes a file atomically: a temp file in the same folder (created with `mode`, default 0o600),
 * fsync, rename over the target, fsync the folder. Never leaves a half-written target; removes
 * the temp file on failure. Creates missing parent folders with 0o700. When the target is a
 * symbolic link, the file it points to is replaced and the link is kept.
 *
 * @throws `OcneError` `OCNE_FILE_WRITE_FAILED` (with `cause`) when any step fails; the
 *   signal's reason when aborted before the rename.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { mode = 0o600, signal } = options;
  signal?.throwIfAborted();
  const { mkdir, open, realpath, rename, rm } = fsp();
  let target = path;
  try {
    target = await realpath(path);
  } catch {
    // A new file (or a dangling link): write it where it was asked for.
  }
  const folder = dirname(target);
  const temp = join(
    folder,
    `.${basename(target)}.${process.pid}.${process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex')}.tmp`,
  );
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let created = false;
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    handle = await open(temp, 'wx', mode);
    created = true;
    // `open` applies the umask; the mode asked for is the mode wanted.
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    signal?.throwIfAborted();
    await rename(temp, target);
    created = false;
  } catch (error) {
    await handle?.close().catch(() => {});
    if (created) await rm(temp, { force: true }).catch(() => {});
    rethrowAbort(error, signal);
    throw new OcneError('OCNE_FILE_WRITE_FAILED', `Could not write ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  await syncFolder(folder);
}

/** Options of {@link acquirePidLock}. */
export interface AcquirePidLockOptions {
  /** How long to wait for a lock another live process holds. @defaultValue `10000` (upstream's 10 s) */
  timeoutMs?: number;
  /** Time between attempts. @defaultValue `10` (upstream's 10 ms) */
  pollMs?: number;
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * Called once when the lock is found held by another live process and the wait begins, so that a
   * caller can say what it waits for instead of hanging silently.
   */
  onWait?: ((holder: PidLockHolder) => void) | undefined;
}

/** The process a PID lock file names, as far as this system can tell. */
export interface PidLockHolder {
  /** The PID in the lock file. */
  pid: number;
  /** Its command line, where the system shows it (`/proc/<pid>/cmdline` on Linux). */
  command?: string;
  /** When the lock file was written. */
  since: Date;
}

/** A held PID lock. Release it with {@link PidLock.release} or `await using`. */
export interface PidLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it still is the one this lock created (same file, our PID). Idempotent. */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A lock file without a readable PID that is older than this is left over from a crash (not being written). */
const UNREADABLE_GRACE_MS = 2000;

/** Start of this process, for recognising a lock file with our PID that a previous process left. */
const processStart = (): number => Date.now() - process.uptime() * 1000;

function parsePid(text: string): number | undefined {
  const match = /^\s*(\d{1,10})\s*$/.exec(text);
  if (match === null) return undefined;
  const pid = Number(match[1]);
  return pid > 0 && pid <= 0x7fffffff ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) !== 'ESRCH';
  }
}

/** Longest command line quoted in a message. */
const COMMAND_MAX = 200;

/** The command line of a process, where `/proc` shows it; `undefined` elsewhere. */
function commandOf(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const command = raw.replace(/\0+$/, '').replaceAll('\0', ' ').trim();
    if (command === '') return undefined;
    return command.length > COMMAND_MAX ? `${command.slice(0, COMMAND_MAX)}…` : command;
  } catch {
    return undefined;
  }
}

/** Clock ticks a second in `/proc/<pid>/stat` (Linux's USER_HZ, 100 on every architecture Node runs on). */
const USER_HZ = 100;

/**
 * When a process started, in epoch milliseconds, from Linux's `/proc` (boot time plus the start
 * tick); `undefined` where there is no `/proc`. Precise to about a second (boot time is whole seconds).
 */
function startedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const boot = bootTime();
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22, starttime
    if (boot === undefined || fields.length < 20 || !Number.isFinite(ticks)) return undefined;
    return boot + (ticks * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

let boot: { at: number | undefined } | undefined;

/** The boot time in epoch milliseconds (`btime` of `/proc/stat`), read once: the file is long on big machines. */
function bootTime(): number | undefined {
  if (boot === undefined) {
    let at: number | undefined;
    try {
      const seconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
      at = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
    } catch {
      at = undefined;
    }
    boot = { at };
  }
  return boot.at;
}

/**
 * How much later than the lock file a process must have started to be a reused PID rather than
 * the writer: the start time is whole seconds of boot time off, and wall-clock steps move it.
 */
const REUSED_MARGIN_MS = 2000;

interface LockFileState {
  pid: number | undefined;
  mtimeMs: number;
  ino: number;
}

/** The lock file's PID and times, or `undefined` when there is no lock file. */
function inspect(path: string): LockFileState | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // Content and times of the same file, even if it is replaced meanwhile.
    const info = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    return { pid: parsePid(text), mtimeMs: info.mtimeMs, ino: info.ino };
  } finally {
    closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already, or a close error on a file only read: nothing to do
  }
}

/**
 * Whether a lock file was left by a process that is gone: its PID is not a live process; or the
 * process of that PID started after the file was written, so it cannot have written it (the PID
 * was reused after the writer died: upstream's lock is a bare PID file, and a killed `ocne` leaves
 * it behind); or it is our own PID but the file is older than this process (a previous process
 * with the same PID, as in a restarted container); or it has no PID and is older than the grace
 * time (upstream creates the file first and writes the PID after).
 */
function isStale(state: LockFileState): boolean {
  const now = Date.now();
  if (state.pid === undefined) return now - state.mtimeMs > UNREADABLE_GRACE_MS;
  if (state.pid === process.pid) return state.mtimeMs < processStart() - 1000;
  if (!isAlive(state.pid)) return true;
  const started = startedAt(state.pid);
  return started !== undefined && started > state.mtimeMs + REUSED_MARGIN_MS;
}

/**
 * Who holds the PID lock at `path`: the PID in the file, its command line where the system shows
 * it, and since when. `undefined` when there is no lock file or it holds no PID.
 */
export async function pidLockHolder(path: string): Promise<PidLockHolder | undefined> {
  return holderOf(path);
}

function holderOf(path: string): PidLockHolder | undefined {
  let state: LockFileState | undefined;
  try {
    state = inspect(path);
  } catch {
    return undefined;
  }
  return state?.pid === undefined ? undefined : describeHolder(state as LockFileState & { pid: number });
}

function describeHolder(state: LockFileState & { pid: number }): PidLockHolder {
  const command = commandOf(state.pid);
  return { pid: state.pid, ...(command !== undefined ? { command } : {}), since: new Date(state.mtimeMs) };
}

/** "process 42 (ocne cluster start), holding it since <time>". */
export function formatPidLockHolder(holder: PidLockHolder): string {
  const command = holder.command !== undefined ? ` (${holder.command})` : '';
  return `process ${holder.pid}${command}, holding it since ${holder.since.toISOString()}`;
}

/** Creates the file exclusively with our PID. Returns its inode, or `undefined` when it exists. */
function tryCreate(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined;
    throw error;
  }
  try {
    fchmodSync(fd, 0o600);
    writeFileSync(fd, String(process.pid));
    const { ino } = fstatSync(fd);
    closeSync(fd);
    return ino;
  } catch (error) {
    closeQuietly(fd);
    removeQuietly(path);
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // it stays: a later lock judges it stale
  }
}

/**
 * Removes a stale lock file. Only one process at a time judges and removes it, holding
 * `<path>.break` (itself a PID lock file), so two processes can never both take over the same
 * stale lock and then remove each other's new one. Returns true when the lock file is gone.
 */
function breakStaleLock(path: string): boolean {
  const state = inspect(path);
  if (state === undefined) return true;
  if (!isStale(state)) return false;
  const breaker = `${path}.break`;
  if (tryCreate(breaker) === undefined) {
    // Another process is breaking the lock now, or crashed while doing it.
    const other = inspect(breaker);
    if (other !== undefined && isStale(other)) rmSync(breaker, { force: true });
    return false;
  }
  try {
    // Judge again while holding the breaker: nobody else can remove or replace a stale lock now.
    const again = inspect(path);
    if (again === undefined) return true;
    if (!isStale(again)) return false;
    rmSync(path, { force: true });
    return true;
  } finally {
    removeQuietly(breaker);
  }
}

class HeldPidLock implements PidLock {
  readonly path: string;
  readonly #ino: number;
  #released = false;

  constructor(path: string, ino: number) {
    this.path = path;
    this.#ino = ino;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    try {
      const state = inspect(this.path);
      if (state === undefined || state.pid !== process.pid || state.ino !== this.#ino) return;
      unlinkSync(this.path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw new OcneError(
        'OCNE_LOCK_RELEASE_FAILED',
        `Could not remove pidfile lock at ${this.path}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/** The message of a lock that stayed held: who holds it and what the user can do. */
function timeoutMessage(path: string): string {
  const holder = holderOf(path);
  const base = `Could not get pidfile lock at ${path}`;
  if (holder === undefined) return `${base}: it holds no PID yet; if it stays so, remove ${path}`;
  return `${base}: ${formatPidLockHolder(holder)}. If that is an ocne command or a program using the SDK, wait for it to finish; if it is not, remove ${path}`;
}

/**
 * An exclusive lock file holding our PID (upstream-compatible `ocne.pid`: created with
 * `O_EXCL`, the decimal PID, mode 0600). Waits up to `timeoutMs` (default 10000), polling
 * every `pollMs` (default 10); a lock whose PID is not a live process, or is a process that
 * started after the file was written (a reused PID, seen on Linux), is stale and taken over.
 * Release removes the file only if it still holds our PID. Supports `await using`. Creates the
 * lock file's folder with 0o700 when it is missing.
 *
 * @throws `OcneError` `OCNE_LOCK_TIMEOUT` when the lock stays held: `Could not get pidfile lock at <path>`,
 *   then the process that holds it (PID, command line, since when) and what to do;
 *   `OCNE_LOCK_FAILED` when the lock file cannot be created; the signal's reason when aborted.
 */
export async function acquirePidLock(path: string, options: AcquirePidLockOptions = {}): Promise<PidLock> {
  const { timeoutMs = 10_000, pollMs = 10, signal, onWait } = options;
  signal?.throwIfAborted();
  // A monotonic clock that needs no module (`performance` is one, loaded on first use).
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const deadline = now() + timeoutMs;
  let told = onWait === undefined;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    for (;;) {
      const ino = tryCreate(path);
      if (ino !== undefined) return new HeldPidLock(path, ino);
      if (breakStaleLock(path)) continue;
      const left = deadline - now();
      if (left <= 0) throw new OcneError('OCNE_LOCK_TIMEOUT', timeoutMessage(path));
      if (!told) {
        told = true;
        const holder = holderOf(path);
        if (holder !== undefined) onWait?.(holder);
      }
      // node:timers/promises only when a lock is contended, and node:crypto only on a write: a
      // cold command that finds its lock free loads neither.
      await process
        .getBuiltinModule('node:timers/promises')
        .setTimeout(Math.max(1, Math.min(pollMs, left)), undefined, signal ? { signal } : {});
    }
  } catch (error) {
    rethrowAbort(error, signal);
    if (error instanceof OcneError) throw error;
    throw new OcneError('OCNE_LOCK_FAILED', `Could not get pidfile lock at ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
