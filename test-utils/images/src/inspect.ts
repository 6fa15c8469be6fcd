/**
 * Reads an OCK-like boot disk back with tools independent of the code under test: `qemu-img
 * check`, `qemu-img convert` to a raw copy, `sgdisk` for the partition offsets, and per partition
 * a read-only loop device for `blkid -p`, `xfs_db` and a read-only mount (root only).
 */
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** One file of a file system, as read back. */
export interface InspectedFile {
  type: 'file' | 'dir' | 'link';
  mode: number;
  uid: number;
  gid: number;
  /** File content, or a link's target. */
  content?: string;
}

/** One XFS partition. */
export interface InspectedFileSystem {
  /** blkid -p's UUID and TYPE. */
  uuid: string;
  type: string;
  /** xfs_db's superblock UUID and meta_uuid (the latter set when the UUID was changed on a v5 XFS). */
  xfsUuid: string;
  xfsMetaUuid: string | undefined;
  /** Every path (relative, `/`-separated) to what it is. */
  files: Record<string, InspectedFile>;
}

/** A whole disk. */
export interface InspectedDisk {
  format: string;
  virtualSize: number;
  /** `qemu-img check` found no errors. */
  checkOk: boolean;
  checkOutput: string;
  /** Partition number to its byte range. */
  partitions: Record<number, { offset: number; size: number }>;
  efi: { uuid: string; type: string };
  boot: InspectedFileSystem;
  root: InspectedFileSystem;
}

async function run(command: string, args: readonly string[]): Promise<string> {
  return (await execa(command, args, { env: { LC_ALL: 'C' }, stdin: 'ignore' })).stdout;
}

async function walk(dir: string, prefix = ''): Promise<Record<string, InspectedFile>> {
  const out: Record<string, InspectedFile> = {};
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const info = await lstat(join(dir, rel));
    const base = { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
    if (info.isSymbolicLink()) out[rel] = { type: 'link', ...base, content: await readlink(join(dir, rel)) };
    else if (info.isDirectory()) {
      out[rel] = { type: 'dir', ...base };
      Object.assign(out, await walk(dir, rel));
    } else out[rel] = { type: 'file', ...base, content: await readFile(join(dir, rel), 'utf8') };
  }
  return out;
}

async function probe(raw: string, offset: number, size: number, xfs: boolean): Promise<InspectedFileSystem> {
  const device = (
    await run('losetup', [
      '--find',
      '--show',
      '--read-only',
      '--offset',
      String(offset),
      '--sizelimit',
      String(size),
      raw,
    ])
  ).trim();
  try {
    const blkid = await run('blkid', ['-p', '-o', 'export', device]);
    const value = (name: string): string => blkid.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1] ?? '';
    const result: InspectedFileSystem = {
      uuid: value('UUID'),
      type: value('TYPE'),
      xfsUuid: '',
      xfsMetaUuid: undefined,
      files: {},
    };
    if (!xfs) return result;
    const db = await run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'p uuid', '-c', 'version', device]);
    result.xfsUuid = db.match(/^uuid = (\S+)/m)?.[1] ?? '';
    const meta = await execa('xfs_db', ['-r', '-c', 'sb 0', '-c', 'p meta_uuid', device], {
      reject: false,
      env: { LC_ALL: 'C' },
    });
    result.xfsMetaUuid = meta.stdout.match(/^meta_uuid = (\S+)/m)?.[1];
    const mountPoint = await mkdtemp(join(tmpdir(), 'ocne-inspect-'));
    await run('mount', ['-t', 'xfs', '-o', 'ro,nouuid,norecovery', device, mountPoint]);
    try {
      result.files = await walk(mountPoint);
    } finally {
      await run('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
    return result;
  } finally {
    await run('losetup', ['-d', device]);
  }
}

/** Reads a qcow2 OCK-like disk back (root: it uses loop devices and a read-only mount). */
export async function inspectOckDisk(qcow2: string): Promise<InspectedDisk> {
  const info = JSON.parse(await run('qemu-img', ['info', '--output=json', qcow2])) as {
    format: string;
    'virtual-size': number;
  };
  const check = await execa('qemu-img', ['check', qcow2], { reject: false, env: { LC_ALL: 'C' } });
  const work = await mkdtemp(join(tmpdir(), 'ocne-inspect-'));
  try {
    const raw = join(work, 'disk.raw');
    await run('qemu-img', ['convert', '-f', info.format, '-O', 'raw', qcow2, raw]);
    const partitions: Record<number, { offset: number; size: number }> = {};
    for (const line of (await run('partx', ['-g', '-b', '-o', 'NR,START,SIZE', raw])).split('\n')) {
      const [nr, start, size] = line.trim().split(/\s+/).map(Number);
      if (nr !== undefined && start !== undefined && size !== undefined)
        partitions[nr] = { offset: start * 512, size };
    }
    const part = (n: number): { offset: number; size: number } => {
      const p = partitions[n];
      if (!p) throw new Error(`no partition ${n}`);
      return p;
    };
    const efi = await probe(raw, part(1).offset, part(1).size, false);
    const boot = await probe(raw, part(2).offset, part(2).size, true);
    const root = await probe(raw, part(3).offset, part(3).size, true);
    return {
      format: info.format,
      virtualSize: info['virtual-size'],
      checkOk: check.exitCode === 0 && /No errors were found/.test(check.stdout),
      checkOutput: check.stdout,
      partitions,
      efi: { uuid: efi.uuid, type: efi.type },
      boot,
      root,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
