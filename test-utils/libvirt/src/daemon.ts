/**
 * A private libvirt daemon for tests: `virtlogd` and `libvirtd` in session mode with every folder
 * (configuration, sockets, pools, NVRAM, logs) in one temporary folder, so a test run neither needs
 * nor disturbs the machine's system daemon and leaves nothing behind. Run as root, the daemons
 * run as `nobody` (a root libvirtd is always the system daemon, whose state lives under /etc and
 * /var); otherwise as the current user. They are stopped by PID, after the domains they started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

/** The uid/gid the daemons run as when the tests run as root. */
const NOBODY = 65534;

/** A running private daemon. */
export interface LibvirtDaemon {
  /** The connection URI (`qemu+unix:///session?socket=…`). */
  uri: string;
  /** The temporary folder everything lives in. */
  dir: string;
  /** The name and folder of the storage pool the daemon starts with (`images`, as upstream's default). */
  pool: { name: string; path: string };
  /** A folder the daemon can write serial logs into. */
  logDir: string;
  pids: { libvirtd: number; virtlogd: number };
  /** Destroys and undefines every domain, stops the QEMU processes, then the daemons, by PID, and removes the folder. */
  stop(): Promise<void>;
}

/** Options of {@link startLibvirtDaemon}. */
export interface StartLibvirtDaemonOptions {
  /** The pool to define and start. @defaultValue `images` */
  poolName?: string;
  /** How long to wait for the sockets. @defaultValue 30000 */
  timeoutMs?: number;
}

const isRoot = (): boolean => process.getuid?.() === 0;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch (error) {
    // A socket cannot be read as a file, but it is there.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

async function stopPid(child: ChildProcess | number, timeoutMs = 10_000): Promise<void> {
  const pid = typeof child === 'number' ? child : child.pid;
  if (pid === undefined) return;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (typeof child !== 'number' && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) {
    // A child we spawned is reaped by Node; a stranger (QEMU) disappears by itself.
    if (typeof child !== 'number' && (child.exitCode !== null || child.signalCode !== null)) return;
    await sleep(50);
  }
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Starts virtlogd and libvirtd with their state in a new temporary folder, and defines the pool. */
export async function startLibvirtDaemon(options: StartLibvirtDaemonOptions = {}): Promise<LibvirtDaemon> {
  const poolName = options.poolName ?? 'images';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'ocne-libvirtd-'));
  const folders = ['config/libvirt', 'cache', 'run', 'data', 'pool', 'logs'];
  for (const f of folders) await mkdir(join(dir, f), { recursive: true, mode: 0o755 });
  const root = isRoot();
  if (root) {
    for (const f of ['', ...folders, 'config']) await chown(join(dir, f), NOBODY, NOBODY);
  }
  // Session mode finds every folder from these variables (no systemd, no logind on these machines).
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
  const spawnOptions = {
    env,
    cwd: dir,
    stdio: 'ignore' as const,
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
  };
  const children: ChildProcess[] = [];
  const stopDaemons = async (): Promise<void> => {
    for (const child of children.reverse()) await stopPid(child);
  };
  try {
    const logs = join(dir, 'logs');
    const virtlogd = spawn('/usr/sbin/virtlogd', [], spawnOptions);
    children.push(virtlogd);
    const sockets = join(dir, 'run', 'libvirt');
    await waitFor('virtlogd', () => exists(join(sockets, 'virtlogd-sock')), timeoutMs);
    await writeFile(join(logs, 'README'), 'serial logs of the test domains\n');
    if (root) await chown(join(logs, 'README'), NOBODY, NOBODY);
    const libvirtd = spawn('/usr/sbin/libvirtd', [], spawnOptions);
    children.push(libvirtd);
    const socket = join(sockets, 'libvirt-sock');
    await waitFor('libvirtd', () => exists(socket), timeoutMs);
    const uri = `qemu+unix:///session?socket=${socket}`;
    const poolPath = join(dir, 'pool');
    const poolXml = join(dir, 'pool.xml');
    await writeFile(
      poolXml,
      `<pool type="dir"><name>${poolName}</name><target><path>${poolPath}</path></target></pool>\n`,
    );
    for (const args of [
      ['pool-define', poolXml],
      ['pool-start', poolName],
    ]) {
      await execa('virsh', ['-q', '-c', uri, ...args]);
    }
    const pids = { libvirtd: libvirtd.pid ?? 0, virtlogd: virtlogd.pid ?? 0 };
    return {
      uri,
      dir,
      pool: { name: poolName, path: poolPath },
      logDir: logs,
      pids,
      async stop() {
        await stopDomains(uri, dir);
        await stopDaemons();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopDaemons();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Destroys and undefines every domain of the daemon; kills by PID any QEMU it leaves running. */
async function stopDomains(uri: string, dir: string): Promise<void> {
  const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', uri, ...args], { reject: false });
  const listed = await virsh('list', '--all', '--name');
  for (const name of listed.stdout.split('\n').map((s) => s.trim())) {
    if (name === '') continue;
    await virsh('destroy', name);
    await virsh('undefine', '--nvram', name);
  }
  // QEMU outlives a session daemon; its PID files are in our runtime folder.
  const runDir = join(dir, 'run', 'libvirt', 'qemu', 'run');
  const files = await readdir(runDir).catch(() => [] as string[]);
  for (const file of files.filter((f) => f.endsWith('.pid'))) {
    const pid = Number.parseInt(await readFile(join(runDir, file), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0) await stopPid(pid);
  }
}
