/**
 * An OCK-like boot disk for the tests of `image create`: a qcow2 with OCK's partition layout (GPT;
 * p1 vfat EFI, p2 XFS /boot with the BLS entry reached through the `loader` symlink, p3 XFS root
 * with an ostree-style deployment, its fstab and machine-ids), built without root and without an
 * appliance: `mkfs.xfs -p` fills each file system from a prototype file, `mkfs.fat` + mtools the
 * EFI one, `sgdisk` writes the table, and `dd` places the partitions in a sparse raw file.
 *
 * UUIDs are fixed (overridable), so tests can assert exact values. The result is cached in a temp
 * folder keyed by the inputs and this file's generator version.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** Bump when the generated disk changes, so cached disks are rebuilt. */
const GENERATOR_VERSION = 5;
/** The largest filler file (see `fillerMiB`). */
const FILLER_FILE_MIB = 256;

/** What the generated disk holds, for the tests' assertions. */
export const OCK_DISK = {
  bootUuid: '0c0b0000-0000-4000-8000-0000000000b2',
  rootUuid: '0c0b0000-0000-4000-8000-0000000000c3',
  efiVolumeId: '0CB1EF11',
  bootChecksum: 'b0075ca1e0c4c7a1a1f5e3b0b5c4d1a2a3f4e5d6c7b8a9f0e1d2c3b4a5968778',
  commit: 'c0aa1173e1b6a53f7c93b3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c',
  otherCommit: 'd1bb2284f2c7b64a8da4c4d2e3f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5',
  blsPath: 'loader/entries/ostree-1-ock.conf',
} as const;

/** Options of {@link generateOckDisk}. */
export interface OckDiskOptions {
  /** XFS UUIDs of /boot (p2) and root (p3). */
  bootUuid?: string;
  rootUuid?: string;
  /** Virtual size of the disk in MiB; the root partition takes what p1 and p2 leave. @defaultValue 320 */
  sizeMiB?: number;
  /**
   * `ock` (default); `no-bls`: /boot lacks the BLS entry; `vfat-root`: p3 is not XFS.
   */
  variant?: 'ock' | 'no-bls' | 'vfat-root';
  /**
   * MiB of incompressible data in `/var/filler/` of the root file system (files of 256 MiB at
   * most), for benchmarks that need a disk and a layer of real size. @defaultValue 0
   */
  fillerMiB?: number;
  /** Cache folder. @defaultValue `<tmpdir>/ocne-test-images` */
  cacheDir?: string;
}

const SECTOR = 512;
const MiB = 1024 * 1024;
const EFI_MIB = 16;
const BOOT_MIB = 64;

/** The BLS entry OCK's /boot carries (upstream edits this file). */
export function ockBlsEntry(rootUuid: string): string {
  return [
    'title Oracle Linux Server 8.10 (ostree:0)',
    'version 1',
    `linux /ostree/ock-${OCK_DISK.bootChecksum}/vmlinuz-5.15.0-ock`,
    `initrd /ostree/ock-${OCK_DISK.bootChecksum}/initramfs-5.15.0-ock.img`,
    `options rw ip=dhcp rd.neednet=1 ignition.platform.id=qemu ignition.firstboot=1 crashkernel=auto console=ttyS0 root=UUID=${rootUuid} rw ostree=/ostree/boot.1/ock/${OCK_DISK.bootChecksum}/0`,
    '',
  ].join('\n');
}

/** The deployment's fstab. */
export function ockFstab(rootUuid: string, bootUuid: string): string {
  return [
    '# /etc/fstab of the OCK deployment',
    `UUID=${rootUuid} /                       xfs     defaults        0 0`,
    `UUID=${bootUuid} /boot                   xfs     defaults        0 0`,
    `UUID=${OCK_DISK.efiVolumeId.slice(0, 4)}-${OCK_DISK.efiVolumeId.slice(4)}          /boot/efi               vfat    umask=0077,shortname=winnt 0 2`,
    '',
  ].join('\n');
}

/** A prototype-file tree: a file's content, a folder, or a symbolic link. */
interface DirNode {
  kind: 'dir';
  entries: Record<string, Node>;
  mode?: number;
}
type Node =
  | { kind: 'file'; content: string; mode?: number; uid?: number; gid?: number }
  | DirNode
  | { kind: 'link'; target: string };

const file = (content: string, mode = 0o644, uid = 0, gid = 0): Node => ({
  kind: 'file',
  content,
  mode,
  uid,
  gid,
});
const dir = (entries: Record<string, Node>, mode = 0o755): DirNode => ({ kind: 'dir', entries, mode });
const link = (target: string): Node => ({ kind: 'link', target });

/** Writes the files of a tree to `staging` and returns the `mkfs.xfs -p` prototype text. */
async function prototype(root: DirNode, staging: string): Promise<string> {
  let counter = 0;
  const lines: string[] = ['/dev/null', '0 0', `d--${(root.mode ?? 0o755).toString(8)} 0 0`];
  const walk = async (node: DirNode, depth: number): Promise<void> => {
    for (const [name, child] of Object.entries(node.entries)) {
      const indent = ' '.repeat(depth);
      if (child.kind === 'dir') {
        lines.push(`${indent}${name} d--${(child.mode ?? 0o755).toString(8)} 0 0`);
        await walk(child, depth + 1);
      } else if (child.kind === 'link') {
        lines.push(`${indent}${name} l--777 0 0 ${child.target}`);
      } else {
        const source = join(staging, `f${counter++}`);
        await writeFile(source, child.content);
        lines.push(
          `${indent}${name} ---${(child.mode ?? 0o644).toString(8).padStart(3, '0')} ${child.uid ?? 0} ${child.gid ?? 0} ${source}`,
        );
      }
    }
    lines.push(`${' '.repeat(depth)}$`);
  };
  await walk(root, 1);
  return `${lines.join('\n')}\n`;
}

/** The /boot file system (p2). */
function bootTree(rootUuid: string, withBls: boolean): DirNode {
  const kernelDir = `ock-${OCK_DISK.bootChecksum}`;
  return dir({
    'loader.1': dir({ entries: dir(withBls ? { 'ostree-1-ock.conf': file(ockBlsEntry(rootUuid)) } : {}) }),
    loader: link('loader.1'),
    grub2: dir({ 'grub.cfg': file('search --no-floppy --label boot --set=root\nblscfg\n') }),
    ostree: dir({
      [kernelDir]: dir({
        'vmlinuz-5.15.0-ock': file('not a kernel\n'),
        'initramfs-5.15.0-ock.img': file('not an initramfs\n'),
      }),
    }),
  });
}

/** The root file system (p3): an ostree sysroot with two deployments of the `ock` stateroot. */
function rootTree(rootUuid: string, bootUuid: string): DirNode {
  const deployment = (machineId: string, extra: Record<string, Node>): Node =>
    dir({
      etc: dir({
        fstab: file(ockFstab(rootUuid, bootUuid)),
        'machine-id': file(machineId, 0o444),
        hostname: file('ock\n'),
        dhcp: dir({ 'dhclient.d': dir({}) }),
        NetworkManager: dir({ 'dispatcher.d': dir({ '10-keep': file('#!/bin/sh\n', 0o755) }) }),
        ...extra,
      }),
      usr: dir({
        etc: dir({ 'machine-id': file('', 0o444) }),
        lib: dir({ 'os-release': file('NAME="Oracle Linux Server"\nVERSION_ID="8.10"\n') }),
      }),
    });
  return dir({
    ostree: dir({
      'boot.1': link('boot.1.1'),
      'boot.1.1': dir({
        ock: dir({
          [OCK_DISK.bootChecksum]: dir({ '0': link(`../../../deploy/ock/deploy/${OCK_DISK.commit}.0`) }),
        }),
      }),
      deploy: dir({
        ock: dir({
          deploy: dir({
            [`${OCK_DISK.commit}.0`]: deployment('0123456789abcdef0123456789abcdef\n', {
              // Names upstream's `find -type f -iname machine-id` treats differently.
              'Machine-ID': file('upper case: deleted too\n'),
              'machine-id.d': dir({ 'machine-id': link('../machine-id') }),
            }),
            [`${OCK_DISK.commit}.0.origin`]: file('[origin]\nrefspec=ock\n'),
            [`${OCK_DISK.otherCommit}.0`]: deployment('fedcba9876543210fedcba9876543210\n', {}),
          }),
          var: dir({ lib: dir({}) }),
        }),
      }),
      repo: dir({ config: file('[core]\nrepo_version=1\nmode=bare\n') }),
    }),
    sysroot: dir({}),
  });
}

async function run(command: string, args: readonly string[], env?: Record<string, string>): Promise<void> {
  await execa(command, args, { env: { ...env, LC_ALL: 'C' }, stdin: 'ignore' });
}

/** mkfs.xfs refuses file systems under 300 MB unless it is run as by the XFS test suite. */
const SMALL_XFS = { TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' };

/**
 * Builds (or takes from the cache) an OCK-like qcow2 and returns its path. Never modify the
 * returned file: copy it first.
 */
export async function generateOckDisk(options: OckDiskOptions = {}): Promise<string> {
  const bootUuid = options.bootUuid ?? OCK_DISK.bootUuid;
  const rootUuid = options.rootUuid ?? OCK_DISK.rootUuid;
  const sizeMiB = options.sizeMiB ?? 320;
  const variant = options.variant ?? 'ock';
  const fillerMiB = options.fillerMiB ?? 0;
  const key = createHash('sha256')
    .update(JSON.stringify({ GENERATOR_VERSION, bootUuid, rootUuid, sizeMiB, variant, fillerMiB }))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = options.cacheDir ?? join(tmpdir(), 'ocne-test-images');
  const result = join(cacheDir, `ock-${key}.qcow2`);
  if (existsSync(result)) return result;

  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(cacheDir, 'build-'));
  try {
    const raw = join(work, 'disk.raw');
    const p1Start = 2048;
    const p2Start = p1Start + (EFI_MIB * MiB) / SECTOR;
    const p3Start = p2Start + (BOOT_MIB * MiB) / SECTOR;
    const totalSectors = (sizeMiB * MiB) / SECTOR;
    // The backup table takes the last 33 sectors; keep p3 a whole number of MiB.
    const p3End = Math.floor((totalSectors - 34) / 2048) * 2048 - 1;
    if (p3End <= p3Start) throw new Error(`a disk of ${sizeMiB} MiB is too small`);
    await run('truncate', ['-s', `${sizeMiB}M`, raw]);
    await run('sgdisk', [
      '-o',
      `-n`,
      `1:${p1Start}:${p2Start - 1}`,
      '-t',
      '1:ef00',
      '-c',
      '1:EFI-SYSTEM',
      '-n',
      `2:${p2Start}:${p3Start - 1}`,
      '-t',
      '2:8300',
      '-c',
      '2:boot',
      '-n',
      `3:${p3Start}:${p3End}`,
      '-t',
      '3:8300',
      '-c',
      '3:root',
      // Fixed GUIDs: the same inputs make the same disk.
      '-U',
      '0c0bd15c-0000-4000-8000-000000000000',
      '-u',
      '1:0c0bd15c-0000-4000-8000-000000000001',
      '-u',
      '2:0c0bd15c-0000-4000-8000-000000000002',
      '-u',
      '3:0c0bd15c-0000-4000-8000-000000000003',
      raw,
    ]);

    const staging = join(work, 'files');
    await mkdir(staging);
    // p1: the EFI system partition, vfat, with a grub.cfg that finds /boot by label.
    const p1 = join(work, 'p1.img');
    await run('mkfs.fat', [
      '-F',
      '16',
      '-n',
      'EFI-SYSTEM',
      '-i',
      OCK_DISK.efiVolumeId,
      '-C',
      p1,
      String(EFI_MIB * 1024),
    ]);
    const grubCfg = join(staging, 'grub.cfg');
    await writeFile(
      grubCfg,
      'search --no-floppy --label boot --set=prefix\nset prefix=($prefix)/grub2\nconfigfile $prefix/grub.cfg\n',
    );
    await run('mmd', ['-i', p1, '::/EFI', '::/EFI/redhat']);
    await run('mcopy', ['-i', p1, grubCfg, '::/EFI/redhat/grub.cfg']);

    // p2: /boot.
    const p2 = join(work, 'p2.img');
    const bootProto = join(work, 'boot.proto');
    await writeFile(bootProto, await prototype(bootTree(rootUuid, variant !== 'no-bls'), staging));
    await run('truncate', ['-s', `${BOOT_MIB}M`, p2]);
    await run('mkfs.xfs', ['-q', '-L', 'boot', '-m', `uuid=${bootUuid}`, '-p', bootProto, p2], SMALL_XFS);

    // p3: the root file system.
    const p3 = join(work, 'p3.img');
    const p3Bytes = (p3End - p3Start + 1) * SECTOR;
    await run('truncate', ['-s', String(p3Bytes), p3]);
    if (variant === 'vfat-root') {
      await run('mkfs.fat', ['-n', 'ROOT', p3]);
    } else {
      const rootProto = join(work, 'root.proto');
      const tree = rootTree(rootUuid, bootUuid);
      let proto = await prototype(tree, staging);
      if (fillerMiB > 0) {
        // Several files: mkfs.xfs 6.1 (Debian 12) writes a damaged file system ("Structure needs
        // cleaning" at mount, disconnected folders in xfs_repair -n) from a prototype file of 1 GiB.
        const entries: string[] = [];
        for (let i = 0, left = fillerMiB; left > 0; i++, left -= FILLER_FILE_MIB) {
          const file = join(staging, `filler-${i}`);
          const count = Math.min(left, FILLER_FILE_MIB);
          await run('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', `count=${count}`, 'status=none']);
          entries.push(`   ${i} ---644 0 0 ${file}\n`);
        }
        // One more folder at the end of the root folder (before its closing `$`).
        proto = proto.replace(
          / \$\n$/,
          ` var d--755 0 0\n  filler d--755 0 0\n${entries.join('')}   $\n  $\n $\n`,
        );
      }
      await writeFile(rootProto, proto);
      await run('mkfs.xfs', ['-q', '-L', 'root', '-m', `uuid=${rootUuid}`, '-p', rootProto, p3], SMALL_XFS);
    }

    for (const [image, start] of [
      [p1, p1Start],
      [p2, p2Start],
      [p3, p3Start],
    ] as const) {
      await run('dd', [
        `if=${image}`,
        `of=${raw}`,
        'bs=1M',
        `seek=${start * SECTOR}`,
        'oflag=seek_bytes',
        'conv=notrunc,sparse',
        'status=none',
      ]);
    }
    const qcow2 = join(work, 'disk.qcow2');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    await chmod(qcow2, 0o444);
    await rename(qcow2, result);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
