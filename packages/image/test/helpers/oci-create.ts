// Shared by the loop and guestfs tests of `createImage({ type: 'oci' })`: the generated OCK image
// behind a `pull` that runs the real skopeo, and the check that the result differs from the input
// by exactly upstream's edits, read back with independent tools.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildOckOciImage,
  generateOckDisk,
  type InspectedDisk,
  inspectOckDisk,
  OCK_DISK,
  ockBlsEntry,
  ockFstab,
} from '@ocne/test-images';
import { execa } from 'execa';
import { expect } from 'vitest';
import type { CreateImageOptions, PullRequest } from '../../src/index.js';
import { imageCacheDirectory, OCI_DHCLIENT_FILES } from '../../src/index.js';

export const NEW_BOOT = '5eb00700-0000-4000-8000-0000000000b2';
export const NEW_ROOT = '5eb00700-0000-4000-8000-0000000000c3';
export const KERNEL_ARGS = 'console=ttyS1,115200 foo=bar';

/** An OCI layout of the generated disk, and a home to create into. */
export interface Fixture {
  disk: string;
  oci: string;
  home: string;
  original: InspectedDisk;
  cleanup(): Promise<void>;
}

export async function makeFixture(variant: 'ock' | 'no-bls' | 'vfat-root' = 'ock'): Promise<Fixture> {
  const disk = await generateOckDisk({ variant });
  const work = await mkdtemp(join(tmpdir(), 'ocne-image-test-'));
  const oci = join(work, 'oci');
  await buildOckOciImage({ disk, directory: oci, tag: '1.33' });
  const home = join(work, 'home');
  await mkdir(home);
  const original = variant === 'ock' ? await inspectOckDisk(disk) : (undefined as unknown as InspectedDisk);
  return { disk, oci, home, original, cleanup: () => rm(work, { recursive: true, force: true }) };
}

/** A `pull` that copies the fixture into upstream's cache folder with the real skopeo. */
export function skopeoPull(
  fixture: Fixture,
  calls: PullRequest[] = [],
): NonNullable<CreateImageOptions['pull']> {
  return async (request) => {
    calls.push(request);
    const directory = imageCacheDirectory(fixture.home, request.reference);
    await mkdir(directory, { recursive: true });
    await execa('skopeo', ['copy', '--quiet', `oci:${fixture.oci}:1.33`, `dir:${directory}`]);
    return { directory };
  };
}

/** UUIDs handed out in order: /boot first, then root (as createImage asks). */
export function fixedUuids(): () => string {
  const queue = [NEW_BOOT, NEW_ROOT];
  return () => queue.shift() ?? 'exhausted';
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The result differs from the input by exactly upstream's oci edits: both XFS UUIDs, the BLS entry,
 * the deployment's fstab, every machine-id gone, the three dhclient files; nothing else.
 */
export async function expectUpstreamOciEdits(
  original: InspectedDisk,
  path: string,
  type: 'oci' | 'olvm' = 'oci',
): Promise<void> {
  const result = await inspectOckDisk(path);
  expect(result.checkOk, result.checkOutput).toBe(true);
  expect(result.format).toBe('qcow2');
  expect(result.virtualSize).toBe(original.virtualSize);
  expect(result.partitions).toEqual(original.partitions);
  expect(result.efi).toEqual(original.efi);

  expect(original.boot.uuid).toBe(OCK_DISK.bootUuid);
  expect(result.boot.uuid).toBe(NEW_BOOT);
  expect(result.boot.xfsUuid).toBe(NEW_BOOT);
  expect(result.root.uuid).toBe(NEW_ROOT);
  expect(result.root.xfsUuid).toBe(NEW_ROOT);

  // /boot: only the BLS entry (reached through the loader link) changed.
  const bls = 'loader.1/entries/ostree-1-ock.conf';
  let expectedBls = ockBlsEntry(NEW_ROOT).replace(/\n$/, ` ${KERNEL_ARGS}\n`);
  expectedBls =
    type === 'oci'
      ? expectedBls.replace('ignition.platform.id=qemu', 'ignition.platform.id=oci')
      : expectedBls
          .replace('ignition.platform.id=qemu', 'ignition.platform.id=openstack')
          .replace('console=ttyS0', 'console=tty0');
  expect(result.boot.files[bls]?.content).toBe(expectedBls);
  expect(result.boot.files.loader).toEqual(original.boot.files.loader);
  expect({ ...result.boot.files, [bls]: undefined }).toEqual({ ...original.boot.files, [bls]: undefined });
  expect(result.boot.files[bls]?.mode).toBe(original.boot.files[bls]?.mode);

  // root: fstab, machine-ids, the three files.
  const deployment = `ostree/deploy/ock/deploy/${OCK_DISK.commit}.0`;
  const other = `ostree/deploy/ock/deploy/${OCK_DISK.otherCommit}.0`;
  const removed = [
    `${deployment}/etc/machine-id`,
    `${deployment}/etc/Machine-ID`,
    `${deployment}/usr/etc/machine-id`,
    `${other}/etc/machine-id`,
    `${other}/usr/etc/machine-id`,
  ];
  for (const path of removed) expect(original.root.files[path]?.type, path).toBe('file');
  const expected: Record<string, unknown> = { ...original.root.files };
  for (const path of removed) delete expected[path];
  expected[`${deployment}/etc/fstab`] = {
    ...original.root.files[`${deployment}/etc/fstab`],
    content: ockFstab(NEW_ROOT, NEW_BOOT),
  };
  // The olvm script copies no files.
  for (const file of type === 'oci' ? OCI_DHCLIENT_FILES : []) {
    // cp of the ConfigMap's 0500 file, then chmod +x: r-x--x--x, owned by root.
    expected[`${deployment}/${file.path}`] = {
      type: 'file',
      mode: 0o511,
      uid: 0,
      gid: 0,
      content: file.content,
    };
  }
  expect(result.root.files).toEqual(expected);
  // The symbolic link named machine-id stays (find -type f), so does the other deployment's fstab.
  expect(result.root.files[`${deployment}/etc/machine-id.d/machine-id`]?.type).toBe('link');
}
