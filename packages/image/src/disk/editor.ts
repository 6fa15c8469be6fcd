/**
 * The disk-editor port: what `image create` needs from a boot disk (its partitions, a file
 * system's type and UUID, a new UUID, file edits inside one mounted file system), with two
 * implementations: `loop` (root, loop devices mapped by partition offset; seconds) and `guestfs`
 * (libguestfs' appliance; no root, but about half a minute under TCG). `selectDiskEditor` picks one.
 */
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { OcneError } from '@ocne/core';

/** One partition of the disk, numbered from 1 as Linux numbers them. */
export interface DiskPartition {
  readonly number: number;
  readonly offset: number;
  readonly size: number;
}

/** What a file system is, as blkid says. */
export interface FileSystemInfo {
  /** `xfs`, `vfat`…; undefined when no file system is recognised. */
  readonly type: string | undefined;
  readonly uuid: string | undefined;
}

/** What a path is, not following a final symbolic link. */
export interface PathInfo {
  readonly type: 'file' | 'dir' | 'link' | 'other';
  /** Permission bits (`0o7777`). */
  readonly mode: number;
}

/**
 * One file system mounted by a session. Paths are absolute inside the file system; symbolic links
 * resolve inside it (an absolute target starts at its root, `..` stops there), as they would
 * for the booted system.
 */
export interface MountedFileSystem {
  /** The path with every link resolved, or undefined when it does not exist. */
  realpath(path: string): Promise<string | undefined>;
  /** What the path is (a final link is not followed), or undefined when it does not exist. */
  stat(path: string): Promise<PathInfo | undefined>;
  readFile(path: string): Promise<Buffer>;
  /** Replaces the content of a file (creating it, owned by root), then sets its permission bits. */
  writeFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  remove(path: string): Promise<void>;
  /** Every regular file (not links) below `dir` whose name passes `match`, sorted. */
  findFiles(dir: string, match: (name: string) => boolean): Promise<string[]>;
  unmount(): Promise<void>;
}

/** An open disk. `close` undoes everything `open` and `mount` set up, also after a failure. */
export interface DiskSession {
  readonly partitions: readonly DiskPartition[];
  fileSystem(partition: number): Promise<FileSystemInfo>;
  /** Sets an XFS file system's UUID (`xfs_admin -U`); the file system must not be mounted. */
  setUuid(partition: number, uuid: string): Promise<void>;
  mount(partition: number, options?: { readOnly?: boolean }): Promise<MountedFileSystem>;
  close(): Promise<void>;
}

/** What `open` gets besides the path. */
export interface DiskOpenOptions {
  signal?: AbortSignal | undefined;
  /** Receives one line per tool run, for debug logs. */
  log?: ((message: string) => void) | undefined;
}

/** The partition numbered `number`, for both editors. @throws `OCNE_IMAGE_LAYOUT_INVALID` when there is none. */
export function findPartition(partitions: readonly DiskPartition[], number: number): DiskPartition {
  const found = partitions.find((p) => p.number === number);
  if (!found) throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `the disk has no partition ${number}`);
  return found;
}

/** A way to edit a qcow2 disk in place. */
export interface DiskEditor {
  readonly name: DiskEditorName;
  /** Opens a qcow2 file for editing: every change goes into that file. */
  open(qcow2: string, options?: DiskOpenOptions): Promise<DiskSession>;
}

/** The editors there are. */
export type DiskEditorName = 'loop' | 'guestfs';

/** Finds a program on PATH. */
export async function findProgram(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, 1);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/** Why an editor cannot run here: the packages to install, or the condition that fails. */
export interface EditorAvailability {
  readonly name: DiskEditorName;
  readonly available: boolean;
  readonly missing: readonly string[];
}

const LOOP_TOOLS: readonly [string, string][] = [
  ['qemu-storage-daemon', 'qemu-system-common (Debian) / qemu-kvm-common'],
  ['qemu-img', 'qemu-utils'],
  ['losetup', 'mount (util-linux)'],
  ['blkid', 'util-linux'],
  ['xfs_admin', 'xfsprogs'],
  ['mount', 'mount'],
  ['umount', 'mount'],
];

/** Whether the loop editor can run: root, loop devices, FUSE, XFS in the kernel and the tools. */
export async function loopEditorAvailability(
  env: NodeJS.ProcessEnv = process.env,
): Promise<EditorAvailability> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (the loop editor mounts file systems)');
  for (const device of ['/dev/loop-control', '/dev/fuse']) {
    try {
      await access(device);
    } catch {
      missing.push(`${device} (kernel ${device === '/dev/fuse' ? 'FUSE' : 'loop device'} support)`);
    }
  }
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\bxfs$/m.test(filesystems)) missing.push('XFS in the running kernel');
  for (const [tool, pkg] of LOOP_TOOLS) if (!(await findProgram(tool, env))) missing.push(`${tool} (${pkg})`);
  return { name: 'loop', available: missing.length === 0, missing };
}

/** Whether the guestfs editor can run: guestfish, and XFS tools in its appliance. */
export async function guestfsEditorAvailability(
  env: NodeJS.ProcessEnv = process.env,
): Promise<EditorAvailability> {
  const missing: string[] = [];
  if (!(await findProgram('guestfish', env))) missing.push('guestfish (libguestfs-tools)');
  // Debian splits the appliance's XFS tools into libguestfs-xfs; without them nothing mounts.
  for (const lib of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']) {
    const supermin = join(lib, 'guestfs', 'supermin.d');
    try {
      await access(supermin);
    } catch {
      continue;
    }
    try {
      await access(join(supermin, 'packages-xfs'));
    } catch {
      missing.push('XFS support in the libguestfs appliance (libguestfs-xfs)');
    }
  }
  return { name: 'guestfs', available: missing.length === 0, missing };
}

/**
 * The editor to use: the one asked for, else `loop` when it can run, else `guestfs`. Programs
 * are looked up on `env.PATH`.
 *
 * @throws `OcneError` `OCNE_IMAGE_EDITOR_UNAVAILABLE` naming what is missing for each candidate.
 */
export async function selectDiskEditor(
  choice: DiskEditorName | 'auto' | DiskEditor = 'auto',
  env: NodeJS.ProcessEnv = process.env,
): Promise<DiskEditor> {
  if (typeof choice === 'object') return choice;
  const candidates = choice === 'auto' ? (['loop', 'guestfs'] as const) : [choice];
  const reasons: string[] = [];
  for (const name of candidates) {
    const availability =
      name === 'loop' ? await loopEditorAvailability(env) : await guestfsEditorAvailability(env);
    if (availability.available) {
      return name === 'loop'
        ? new (await import('./loop.js')).LoopDiskEditor()
        : new (await import('./guestfs.js')).GuestfsDiskEditor();
    }
    reasons.push(`${name}: missing ${availability.missing.join(', ')}`);
  }
  throw new OcneError('OCNE_IMAGE_EDITOR_UNAVAILABLE', `no disk editor can run here (${reasons.join('; ')})`);
}
