/**
 * The `loop` disk editor (root on Linux). The qcow2 is exposed as a raw file by
 * `qemu-storage-daemon`'s FUSE export (run through execa), so every write lands in the qcow2 itself (no conversion,
 * no copy); partitions become loop devices mapped by the offsets of a GPT read here, because
 * the kernel may not parse GPT (`losetup -P` then finds nothing) and there may be no nbd or udev.
 * File systems are mounted with `nouuid`, so two disks with one UUID can be open at once.
 */
import {
  chmod,
  lstat,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OcneError } from '@ocne/core';
import { execa } from 'execa';
import type {
  DiskEditor,
  DiskOpenOptions,
  DiskPartition,
  DiskSession,
  FileSystemInfo,
  MountedFileSystem,
  PathInfo,
} from './editor.js';
import { findPartition } from './editor.js';
import { readGpt } from './gpt.js';
import { imageInfo, type RunToolOptions, runTool } from './tools.js';

/**
 * Mount options of a read-only look at an XFS: `ro` alone still writes the log of a clean file
 * system (measured: 57 kB changed), `norecovery` makes the mount write nothing, so a layout that
 * is refused leaves the disk byte for byte as it was.
 */
export const READ_ONLY_OPTIONS = 'ro,nouuid,norecovery';

/** Symbolic links followed in one path before giving up (the kernel's limit). */
const MAX_LINKS = 40;

/**
 * Resolves `path` inside the tree at `root` as the booted system would: absolute link targets
 * start at `root`, `..` stops at it. Returns the resolved path inside the tree (absolute, `/`-based),
 * or undefined when a component is missing.
 */
export async function resolveInside(
  root: string,
  path: string,
  followLast = true,
): Promise<string | undefined> {
  let links = 0;
  const resolved: string[] = [];
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(host);
    } catch {
      return undefined;
    }
    if (info.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++links > MAX_LINKS) {
        throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `too many symbolic links in ${path}`);
      }
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return `/${resolved.join('/')}`;
}

class LoopMount implements MountedFileSystem {
  private readonly dir: string;
  private readonly release: () => Promise<void>;

  constructor(dir: string, release: () => Promise<void>) {
    this.dir = dir;
    this.release = release;
  }

  /** The host path of a path inside, its parent folder resolved (the last component is not). */
  private async host(path: string): Promise<string> {
    const parent = await resolveInside(this.dir, posix.dirname(path));
    if (parent === undefined) {
      throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${posix.dirname(path)} does not exist in the image`);
    }
    return join(this.dir, parent, posix.basename(path));
  }

  async realpath(path: string): Promise<string | undefined> {
    return resolveInside(this.dir, path);
  }

  async stat(path: string): Promise<PathInfo | undefined> {
    const parent = await resolveInside(this.dir, posix.dirname(path));
    if (parent === undefined) return undefined;
    try {
      const info = await lstat(join(this.dir, parent, posix.basename(path)));
      const type = info.isFile()
        ? 'file'
        : info.isDirectory()
          ? 'dir'
          : info.isSymbolicLink()
            ? 'link'
            : 'other';
      return { type, mode: info.mode & 0o7777 };
    } catch {
      return undefined;
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const real = await resolveInside(this.dir, path);
    if (real === undefined)
      throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${path} does not exist in the image`);
    return readFile(join(this.dir, real));
  }

  async writeFile(path: string, data: Uint8Array, mode: number): Promise<void> {
    // Through a final link, as cp would write, but resolved inside the image: a host path is
    // never reached through a link of the image.
    const real = await resolveInside(this.dir, path);
    if (real === undefined && (await this.stat(path))?.type === 'link') {
      throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${path} is a dangling symbolic link in the image`);
    }
    const target = real !== undefined ? join(this.dir, real) : await this.host(path);
    await writeFile(target, data);
    await chmod(target, mode);
  }

  async remove(path: string): Promise<void> {
    await unlink(await this.host(path));
  }

  async findFiles(dir: string, match: (name: string) => boolean): Promise<string[]> {
    const start = await resolveInside(this.dir, dir);
    if (start === undefined) return [];
    const found: string[] = [];
    const walk = async (inside: string): Promise<void> => {
      for (const entry of await readdir(join(this.dir, inside), { withFileTypes: true })) {
        const child = posix.join(inside, entry.name);
        if (entry.isDirectory()) await walk(child);
        else if (entry.isFile() && match(entry.name)) found.push(child);
      }
    };
    await walk(start);
    return found.sort();
  }

  async unmount(): Promise<void> {
    await this.release();
  }
}

class LoopSession implements DiskSession {
  private readonly loops = new Map<string, string>();
  private readonly mounts = new Set<string>();

  readonly partitions: readonly DiskPartition[];
  private readonly raw: string;
  private readonly tools: RunToolOptions;
  private readonly stopDaemon: () => Promise<void>;

  constructor(
    partitions: readonly DiskPartition[],
    raw: string,
    tools: RunToolOptions,
    stopDaemon: () => Promise<void>,
  ) {
    this.partitions = partitions;
    this.raw = raw;
    this.tools = tools;
    this.stopDaemon = stopDaemon;
  }

  /** A loop device over one partition, made on first use (read-write: `xfs_admin` needs it). */
  private async device(number: number): Promise<string> {
    const key = String(number);
    const existing = this.loops.get(key);
    if (existing) return existing;
    const p = findPartition(this.partitions, number);
    this.tools.signal?.throwIfAborted();
    // Not cancelled half-way: a device attached must be recorded, or close() could not detach it.
    const device = (
      await runTool(
        'losetup',
        ['--find', '--show', '--offset', String(p.offset), '--sizelimit', String(p.size), this.raw],
        { ...this.tools, signal: undefined },
      )
    ).trim();
    this.loops.set(key, device);
    return device;
  }

  async fileSystem(number: number): Promise<FileSystemInfo> {
    const device = await this.device(number);
    let out = '';
    try {
      out = await runTool('blkid', ['-p', '-o', 'export', device], this.tools);
    } catch (error) {
      // blkid exits 2 when it recognises nothing.
      if ((error as { cause?: { exitCode?: unknown } }).cause?.exitCode === 2)
        return { type: undefined, uuid: undefined };
      throw error;
    }
    const value = (name: string): string | undefined => out.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
    return { type: value('TYPE'), uuid: value('UUID') };
  }

  async setUuid(number: number, uuid: string): Promise<void> {
    await runTool('xfs_admin', ['-U', uuid, await this.device(number)], this.tools);
  }

  async mount(number: number, options: { readOnly?: boolean } = {}): Promise<MountedFileSystem> {
    const device = await this.device(number);
    this.tools.signal?.throwIfAborted();
    const dir = await mkdtemp(join(tmpdir(), 'ocne-mount-'));
    try {
      // Not cancelled half-way, as losetup: a mount made must be recorded to be undone.
      await runTool(
        'mount',
        // A plain `ro` mount still writes to the log of a clean XFS; `norecovery` writes nothing.
        ['-t', 'xfs', '-o', options.readOnly ? READ_ONLY_OPTIONS : 'nouuid', device, dir],
        { ...this.tools, signal: undefined },
      );
    } catch (error) {
      await rmdir(dir).catch(() => {});
      throw error;
    }
    this.mounts.add(dir);
    return new LoopMount(dir, async () => {
      if (!this.mounts.delete(dir)) return;
      await runTool('umount', [dir], { ...this.tools, signal: undefined });
      await rmdir(dir);
    });
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    const quiet = { ...this.tools, signal: undefined };
    for (const dir of [...this.mounts]) {
      await runTool('umount', [dir], quiet).catch((e: unknown) => errors.push(e));
      await rmdir(dir).catch(() => {});
      this.mounts.delete(dir);
    }
    for (const device of this.loops.values())
      await runTool('losetup', ['-d', device], quiet).catch((e: unknown) => errors.push(e));
    this.loops.clear();
    await this.stopDaemon().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }
}

/** The loop editor. */
export class LoopDiskEditor implements DiskEditor {
  readonly name = 'loop' as const;

  async open(qcow2: string, options: DiskOpenOptions = {}): Promise<DiskSession> {
    const tools: RunToolOptions = { signal: options.signal, log: options.log };
    const info = await imageInfo(qcow2, tools);
    if (info.format !== 'qcow2') {
      throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${qcow2} is ${info.format}, not qcow2`);
    }
    const work = await mkdtemp(join(tmpdir(), 'ocne-disk-'));
    const raw = join(work, 'disk.raw');
    await writeFile(raw, '');
    const args = [
      '--blockdev',
      `driver=file,node-name=file,filename=${qcow2.replaceAll(',', ',,')}`,
      '--blockdev',
      'driver=qcow2,node-name=disk,file=file',
      '--export',
      `type=fuse,id=export,node-name=disk,mountpoint=${raw.replaceAll(',', ',,')},writable=on`,
    ];
    options.log?.(`qemu-storage-daemon ${args.join(' ')}`);
    // Long-running: execa without rejection, so its result says how it ended.
    const daemon = execa('qemu-storage-daemon', args, {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      reject: false,
      env: { LC_ALL: 'C' },
    });
    let stderr = '';
    daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    let running = true;
    const exited = daemon.then((result) => {
      running = false;
      return result;
    });
    const stopDaemon = async (): Promise<void> => {
      // SIGTERM lets it flush the qcow2 metadata and unmount the export before it exits.
      if (running) daemon.kill('SIGTERM');
      const result = await exited;
      await rm(work, { recursive: true, force: true });
      if (result.exitCode !== 0 && result.signal !== 'SIGTERM') {
        throw new OcneError(
          'OCNE_IMAGE_EDIT_FAILED',
          `qemu-storage-daemon failed: ${stderr.trim() || result.shortMessage}`,
        );
      }
    };
    try {
      // The export is up when the mount point shows the disk's virtual size.
      for (let i = 0; ; i++) {
        options.signal?.throwIfAborted();
        if (!running) {
          throw new OcneError(
            'OCNE_IMAGE_EDIT_FAILED',
            `qemu-storage-daemon could not export ${qcow2}: ${stderr.trim()}`,
          );
        }
        if ((await stat(raw)).size === info.virtualSize) break;
        if (i > 300)
          throw new OcneError(
            'OCNE_IMAGE_EDIT_FAILED',
            'qemu-storage-daemon did not export the disk in 30 s',
          );
        await sleep(100);
      }
      const handle = await open(raw, 'r');
      let table: Awaited<ReturnType<typeof readGpt>>;
      try {
        table = await readGpt(async (offset, length) => {
          const buffer = Buffer.alloc(length);
          const { bytesRead } = await handle.read(buffer, 0, length, offset);
          return buffer.subarray(0, bytesRead);
        });
      } finally {
        await handle.close();
      }
      const partitions = table.partitions.map(({ number, offset, size }) => ({ number, offset, size }));
      return new LoopSession(partitions, raw, tools, stopDaemon);
    } catch (error) {
      await stopDaemon().catch(() => {});
      throw error;
    }
  }
}
