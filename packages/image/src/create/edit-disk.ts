/**
 * Upstream's `modify-image.sh` (oci and olvm) as a sequence of calls on a disk session: first a
 * read-only pass that checks the layout is OCK's and that every edit can be made, then the edits
 * in upstream's order: new XFS UUIDs for p2 and p3, the BLS entry on p2, then on p3 the
 * deployment's fstab, every machine-id file, and (oci) the dhclient files.
 */
import { OcneError } from '@ocne/core';
import type { DiskSession, MountedFileSystem } from '../disk/editor.js';
import type { DeploymentFile } from './dhclient-files.js';
import {
  BLS_ENTRY_PATH,
  DEPLOYMENTS_PATH,
  deployPathFromBls,
  isMachineIdName,
  modeAfterCopy,
  rewriteBls,
  rewriteFstab,
} from './edits.js';

/** The /boot and root partitions of an OCK disk, as upstream's script assumes. */
export const BOOT_PARTITION = 2;
export const ROOT_PARTITION = 3;

/** What {@link editBootDisk} does. */
export interface BootDiskEdit {
  /** The platform id that replaces `qemu` in the BLS entry. */
  ignitionProvider: string;
  kernelArguments?: string | undefined;
  /** The `olvm` script's extra edit: `console=ttyS0` → `console=tty0`. */
  olvmConsole?: boolean;
  bootUuid: string;
  rootUuid: string;
  /** Files copied into the deployment (paths relative to it), `cp` + `chmod +x` as upstream. */
  files: readonly DeploymentFile[];
  /** Receives a line per step, for debug logs. */
  log?: ((message: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** What was changed. */
export interface BootDiskEditReport {
  readonly oldBootUuid: string;
  readonly oldRootUuid: string;
  readonly bootUuid: string;
  readonly rootUuid: string;
  /** The deployment folder (resolved, inside the root file system). */
  readonly deployment: string;
  /** The machine-id files removed (inside the root file system). */
  readonly removed: readonly string[];
}

const layout = (message: string): OcneError => new OcneError('OCNE_IMAGE_LAYOUT_INVALID', message);

async function withMount<T>(
  session: DiskSession,
  partition: number,
  readOnly: boolean,
  fn: (fs: MountedFileSystem) => Promise<T>,
): Promise<T> {
  const fs = await session.mount(partition, { readOnly });
  try {
    return await fn(fs);
  } finally {
    await fs.unmount();
  }
}

async function requireType(
  fs: MountedFileSystem,
  path: string,
  type: 'file' | 'dir',
  what: string,
): Promise<string> {
  const real = await fs.realpath(path);
  const info = real === undefined ? undefined : await fs.stat(real);
  if (real === undefined || info?.type !== type) {
    throw layout(`${what} ${path} is not ${type === 'file' ? 'a file' : 'a folder'} in the image`);
  }
  return real;
}

/**
 * Edits an open OCK boot disk as upstream's script does. Nothing is changed until the read-only
 * pass has found every file the edits need.
 *
 * @throws `OcneError` `OCNE_IMAGE_LAYOUT_INVALID` (before any change) when the disk is not OCK's.
 */
export async function editBootDisk(session: DiskSession, edit: BootDiskEdit): Promise<BootDiskEditReport> {
  const log = edit.log ?? (() => {});
  // 1. The layout, read-only.
  for (const number of [BOOT_PARTITION, ROOT_PARTITION]) {
    if (!session.partitions.some((p) => p.number === number)) {
      throw layout(`the disk has no partition ${number} (OCK has /boot on p2 and root on p3)`);
    }
  }
  const boot = await session.fileSystem(BOOT_PARTITION);
  const root = await session.fileSystem(ROOT_PARTITION);
  for (const [name, info] of [
    ['p2 (/boot)', boot],
    ['p3 (root)', root],
  ] as const) {
    if (info.type !== 'xfs' || info.uuid === undefined) {
      throw layout(`${name} is ${info.type ?? 'not a recognised file system'}, not XFS`);
    }
  }
  const oldBootUuid = boot.uuid!;
  const oldRootUuid = root.uuid!;
  const blsOptions = {
    ignitionProvider: edit.ignitionProvider,
    kernelArguments: edit.kernelArguments,
    oldRootUuid,
    newRootUuid: edit.rootUuid,
    olvmConsole: edit.olvmConsole ?? false,
  };
  const deployPath = await withMount(session, BOOT_PARTITION, true, async (fs) => {
    const bls = (
      await fs.readFile(await requireType(fs, `/${BLS_ENTRY_PATH}`, 'file', 'the boot entry'))
    ).toString('utf8');
    rewriteBls(bls, blsOptions); // fails now, not half-way, on bad kernel arguments
    return deployPathFromBls(bls);
  });
  edit.signal?.throwIfAborted();
  const deployment = await withMount(session, ROOT_PARTITION, true, async (fs) => {
    const dir = await requireType(fs, deployPath, 'dir', 'the deployment');
    await requireType(fs, `${dir}/etc/fstab`, 'file', "the deployment's");
    for (const file of edit.files) {
      const parent = `${dir}/${file.path.split('/').slice(0, -1).join('/')}`;
      await requireType(fs, parent, 'dir', `the folder of ${file.path},`);
    }
    return dir;
  });
  log(`layout verified: /boot ${oldBootUuid}, root ${oldRootUuid}, deployment ${deployment}`);
  edit.signal?.throwIfAborted();

  // 2. The changes, in upstream's order.
  await session.setUuid(BOOT_PARTITION, edit.bootUuid);
  await session.setUuid(ROOT_PARTITION, edit.rootUuid);
  log(`new UUIDs: /boot ${edit.bootUuid}, root ${edit.rootUuid}`);
  await withMount(session, BOOT_PARTITION, false, async (fs) => {
    const path = (await fs.realpath(`/${BLS_ENTRY_PATH}`))!;
    const mode = (await fs.stat(path))!.mode;
    const text = (await fs.readFile(path)).toString('utf8');
    await fs.writeFile(path, Buffer.from(rewriteBls(text, blsOptions)), mode);
    log(`rewrote ${BLS_ENTRY_PATH}`);
  });
  const removed = await withMount(session, ROOT_PARTITION, false, async (fs) => {
    const fstab = `${deployment}/etc/fstab`;
    const fstabPath = (await fs.realpath(fstab))!;
    const mode = (await fs.stat(fstabPath))!.mode;
    const text = (await fs.readFile(fstabPath)).toString('utf8');
    await fs.writeFile(
      fstabPath,
      Buffer.from(rewriteFstab(text, { rootUuid: edit.rootUuid, bootUuid: edit.bootUuid })),
      mode,
    );
    const machineIds = await fs.findFiles(`/${DEPLOYMENTS_PATH}`, isMachineIdName);
    for (const path of machineIds) {
      await fs.remove(path);
      log(`removed ${path}`);
    }
    for (const file of edit.files) {
      const path = `${deployment}/${file.path}`;
      const existing = await fs
        .realpath(path)
        .then((real) => (real === undefined ? undefined : fs.stat(real)));
      await fs.writeFile(path, Buffer.from(file.content), modeAfterCopy(existing?.mode));
      log(`wrote ${path}`);
    }
    return machineIds;
  });
  return { oldBootUuid, oldRootUuid, bootUuid: edit.bootUuid, rootUuid: edit.rootUuid, deployment, removed };
}
