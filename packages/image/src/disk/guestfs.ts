/**
 * The `guestfs` disk editor: libguestfs' appliance edits the qcow2 (no root, no kernel features
 * of the host). One `guestfish --listen` server per disk, one `guestfish --remote` call per step.
 * A failing remote command ends that server, so every step that may legitimately find nothing
 * asks first (`exists`, `is-symlink`) instead of failing. Under TCG the appliance takes about
 * 20 s to start; `LIBGUESTFS_BACKEND=direct` avoids needing libvirtd.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OcneError } from '@ocne/core';
import { execa, type Options } from 'execa';
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
import { imageInfo, type RunToolOptions, runTool } from './tools.js';

/**
 * The backend settings to try, in order: the caller's `LIBGUESTFS_BACKEND_SETTINGS` when set;
 * else KVM when /dev/kvm opens, then TCG, because a /dev/kvm that opens may still fail to start a
 * guest (nested virtualisation without the MSRs qemu sets); else TCG only.
 */
async function backendSettings(): Promise<(string | undefined)[]> {
  if (process.env.LIBGUESTFS_BACKEND_SETTINGS !== undefined) return [process.env.LIBGUESTFS_BACKEND_SETTINGS];
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return [undefined, 'force_tcg'];
  } catch {
    return ['force_tcg'];
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

class GuestfsSession implements DiskSession {
  private mounted = false;

  readonly partitions: readonly DiskPartition[];
  private readonly call: (...args: string[]) => Promise<string>;
  private readonly work: string;
  private readonly stop: () => Promise<void>;

  constructor(
    partitions: readonly DiskPartition[],
    call: (...args: string[]) => Promise<string>,
    work: string,
    stop: () => Promise<void>,
  ) {
    this.partitions = partitions;
    this.call = call;
    this.work = work;
    this.stop = stop;
  }

  private device(number: number): string {
    return `/dev/sda${findPartition(this.partitions, number).number}`;
  }

  async fileSystem(number: number): Promise<FileSystemInfo> {
    const device = this.device(number);
    // list-filesystems never fails; vfs-type would end the server on an unknown partition.
    const listed = await this.call('list-filesystems');
    const type = listed.match(new RegExp(`^${device}: (\\S+)$`, 'm'))?.[1];
    if (type === undefined || type === 'unknown') return { type: undefined, uuid: undefined };
    const uuid = (await this.call('vfs-uuid', device)).trim();
    return { type, uuid: uuid === '' ? undefined : uuid };
  }

  async setUuid(number: number, uuid: string): Promise<void> {
    await this.call('set-uuid', this.device(number), uuid);
  }

  async mount(number: number, options: { readOnly?: boolean } = {}): Promise<MountedFileSystem> {
    if (this.mounted)
      throw new OcneError('OCNE_IMAGE_EDIT_FAILED', 'the guestfs editor mounts one file system at a time');
    // As the loop editor: `norecovery`, or a read-only mount writes the XFS log.
    await this.call(
      'mount-options',
      options.readOnly ? 'ro,nouuid,norecovery' : 'nouuid',
      this.device(number),
      '/',
    );
    this.mounted = true;
    const call = this.call;
    const work = this.work;
    let counter = 0;
    const exists = async (path: string): Promise<boolean> => (await call('exists', path)).trim() === 'true';
    const mount: MountedFileSystem = {
      async realpath(path) {
        return (await exists(path)) ? (await call('realpath', path)).trim() : undefined;
      },
      async stat(path): Promise<PathInfo | undefined> {
        const isLink = (await call('is-symlink', path)).trim() === 'true';
        if (!isLink && !(await exists(path))) return undefined;
        const mode = Number((await call('lstatns', path)).match(/^st_mode: (\d+)$/m)?.[1]);
        const format = mode & 0o170000;
        const type =
          format === 0o100000 ? 'file' : format === 0o040000 ? 'dir' : format === 0o120000 ? 'link' : 'other';
        return { type, mode: mode & 0o7777 };
      },
      async readFile(path) {
        if (!(await exists(path)))
          throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${path} does not exist in the image`);
        const local = join(work, `download-${counter++}`);
        await call('download', path, local);
        try {
          return await readFile(local);
        } finally {
          await rm(local, { force: true });
        }
      },
      async writeFile(path, data, mode) {
        let target = path;
        if (await exists(path)) target = (await call('realpath', path)).trim();
        else if ((await call('is-symlink', path)).trim() === 'true') {
          throw new OcneError(
            'OCNE_IMAGE_LAYOUT_INVALID',
            `${path} is a dangling symbolic link in the image`,
          );
        } else if (!(await exists(posix.dirname(path)))) {
          throw new OcneError(
            'OCNE_IMAGE_LAYOUT_INVALID',
            `${posix.dirname(path)} does not exist in the image`,
          );
        }
        const local = join(work, `upload-${counter++}`);
        await writeFile(local, data);
        try {
          await call('upload', local, target);
          await call('chmod', `0${mode.toString(8)}`, target);
        } finally {
          await rm(local, { force: true });
        }
      },
      async remove(path) {
        await call('rm', path);
      },
      async findFiles(dir, match) {
        const start = await mount.realpath(dir);
        if (start === undefined) return [];
        const local = join(work, `find-${counter++}`);
        await call('find0', start, local);
        const names = (await readFile(local, 'utf8')).split('\0').filter((n) => n !== '');
        await rm(local, { force: true });
        const found: string[] = [];
        for (const name of names) {
          if (!match(posix.basename(name))) continue;
          const path = posix.join(start, name);
          // is-file does not follow links: only regular files, as find -type f.
          if ((await call('is-file', path)).trim() === 'true') found.push(path);
        }
        return found.sort();
      },
      unmount: async () => {
        if (!this.mounted) return;
        await call('umount-all');
        this.mounted = false;
      },
    };
    return mount;
  }

  async close(): Promise<void> {
    await this.stop();
  }
}

/** The guestfs editor. */
export class GuestfsDiskEditor implements DiskEditor {
  readonly name = 'guestfs' as const;

  async open(qcow2: string, options: DiskOpenOptions = {}): Promise<DiskSession> {
    const info = await imageInfo(qcow2, { signal: options.signal, log: options.log });
    if (info.format !== 'qcow2') {
      throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `${qcow2} is ${info.format}, not qcow2`);
    }
    const attempts = await backendSettings();
    for (let i = 0; ; i++) {
      const settings = attempts[i];
      const env: Record<string, string> = { LIBGUESTFS_BACKEND: 'direct' };
      if (settings !== undefined) env.LIBGUESTFS_BACKEND_SETTINGS = settings;
      try {
        return await this.launch(qcow2, { signal: options.signal, log: options.log, env });
      } catch (error) {
        const launchFailed = (error as { launchFailed?: unknown }).launchFailed === true;
        if (!launchFailed || i + 1 >= attempts.length) throw error;
        options.log?.(`the appliance did not start with ${settings ?? 'KVM'}; trying ${attempts[i + 1]}`);
      }
    }
  }

  /** Starts a server and its appliance; a failure of `run` is marked `launchFailed`. */
  private async launch(
    qcow2: string,
    tools: RunToolOptions & { env: Record<string, string> },
  ): Promise<DiskSession> {
    const work = await mkdtemp(join(tmpdir(), 'ocne-guestfs-'));
    // The server keeps the stdout and stderr it inherits: pipes would never close, so they go to
    // files (execa's `{ file }` would pipe through the parent and never end).
    const listenOut = join(work, 'listen.out');
    let listen = '';
    // Streams with an open descriptor are handed to the child as that descriptor.
    const out = createWriteStream(listenOut);
    const err = createWriteStream(join(work, 'listen.err'));
    await Promise.all([once(out, 'open'), once(err, 'open')]);
    try {
      // Not cancellable: it returns at once, and a server it forked must be known to be stopped.
      tools.signal?.throwIfAborted();
      const listenOptions: Options = {
        env: { LC_ALL: 'C', ...tools.env },
        stdin: 'ignore',
        stdout: out,
        stderr: err,
      };
      await execa('guestfish', ['--listen', '--format=qcow2', '-a', qcow2], listenOptions);
      listen = await readFile(listenOut, 'utf8');
    } catch (error) {
      const stderr = await readFile(join(work, 'listen.err'), 'utf8').catch(() => '');
      await rm(work, { recursive: true, force: true });
      tools.signal?.throwIfAborted();
      if ((error as { code?: unknown }).code === 'ENOENT') {
        throw new OcneError('OCNE_DEPENDENCY_MISSING', 'guestfish is not installed (libguestfs-tools)', {
          cause: error,
        });
      }
      throw new OcneError('OCNE_IMAGE_EDIT_FAILED', `guestfish --listen failed: ${stderr.trim()}`, {
        cause: error,
      });
    } finally {
      out.close();
      err.close();
    }
    const pid = Number(listen.match(/GUESTFISH_PID=(\d+)/)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0) {
      await rm(work, { recursive: true, force: true });
      throw new OcneError('OCNE_IMAGE_EDIT_FAILED', `guestfish --listen printed no PID: ${listen}`);
    }
    const call = (...args: string[]): Promise<string> =>
      runTool('guestfish', [`--remote=${pid}`, '--', ...args], tools);
    const stop = async (): Promise<void> => {
      if (isAlive(pid)) {
        await runTool('guestfish', [`--remote=${pid}`, '--', 'exit'], { ...tools, signal: undefined }).catch(
          () => {},
        );
        // The server shuts the appliance down (flushing the qcow2) before it exits.
        for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      await rm(work, { recursive: true, force: true });
    };
    try {
      try {
        await call('run');
      } catch (error) {
        // The server wrote why to its stderr, which is a file.
        const stderr = await readFile(join(work, 'listen.err'), 'utf8').catch(() => '');
        throw Object.assign(
          new OcneError(
            'OCNE_IMAGE_EDIT_FAILED',
            `the libguestfs appliance did not start: ${stderr.trim().slice(-2000)}`,
            {
              cause: error,
            },
          ),
          { launchFailed: !tools.signal?.aborted },
        );
      }
      // part-get-parttype fails (ending the server) on a disk without a table: ask first.
      if ((await call('list-partitions')).trim() === '') {
        throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', 'the disk has no partitions');
      }
      const type = (await call('part-get-parttype', '/dev/sda')).trim();
      if (type !== 'gpt')
        throw new OcneError('OCNE_IMAGE_LAYOUT_INVALID', `the disk's partition table is ${type}, not GPT`);
      const partitions: DiskPartition[] = [];
      for (const block of (await call('part-list', '/dev/sda')).split(/^\[\d+\] = /m).slice(1)) {
        const field = (name: string): number => Number(block.match(new RegExp(`${name}: (\\d+)`))?.[1]);
        partitions.push({ number: field('part_num'), offset: field('part_start'), size: field('part_size') });
      }
      return new GuestfsSession(partitions, call, work, stop);
    } catch (error) {
      await stop().catch(() => {});
      throw error;
    }
  }
}
