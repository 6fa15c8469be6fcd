// `createImage({ type: 'oci' })` through the loop editor on the generated OCK image (root: loop
// devices and mounts), checked with qemu-img, blkid, xfs_db and a read-only mount.
import { existsSync } from 'node:fs';
import { chmod, copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isOcneError } from '@ocne/core';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, editBootDisk, type PullRequest, selectDiskEditor } from '../src/index.js';
import {
  expectUpstreamOciEdits,
  type Fixture,
  fixedUuids,
  KERNEL_ARGS,
  makeFixture,
  sha256File,
  skopeoPull,
} from './helpers/oci-create.js';

/** A registry on loopback port 9, where nothing listens. */
const UNREACHABLE = '127.0.0.1:9/olcne/ock';

describe('createImage --type oci with the loop editor', { timeout: 120_000 }, () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await makeFixture();
  }, 120_000);
  afterAll(async () => fixture?.cleanup());

  it("makes exactly upstream's edits and writes ~/.ocne/images/boot.qcow2-<version>-<arch>.oci", async () => {
    const calls: PullRequest[] = [];
    const op = createImage({
      type: 'oci',
      arch: 'amd64',
      kubernetesVersion: '1.33',
      kernelArguments: KERNEL_ARGS,
      editor: 'loop',
      home: fixture.home,
      pull: skopeoPull(fixture, calls),
      randomUuid: fixedUuids(),
    });
    const result = await op;
    expect(calls.map((c) => [c.reference, c.arch])).toEqual([
      ['docker://container-registry.oracle.com/olcne/ock:1.33', 'amd64'],
    ]);
    // The same image under a registry on loopback port 9 (nothing listens): for the default pull below.
    await skopeoPull(fixture)({ ...calls[0]!, reference: `docker://${UNREACHABLE}:1.33` });
    expect(result.path).toBe(join(fixture.home, '.ocne', 'images', 'boot.qcow2-1.33-amd64.oci'));
    expect(result.editor).toBe('loop');
    const logs = op.events.flatMap((e) => (e.type === 'log' && e.level === 'info' ? [e.message] : []));
    expect(logs).toEqual([
      'Getting local boot image for architecture: amd64',
      `New boot image was created successfully at ${result.path}`,
    ]);
    expect(op.events.some((e) => e.type === 'progress' && e.transferredBytes === e.totalBytes)).toBe(true);
    await expectUpstreamOciEdits(fixture.original, result.path);
    // No work files left behind.
    expect(await readdir(join(fixture.home, '.ocne', 'tmp'))).toEqual([]);

    // Without `pull`, pullImage runs: its registry refuses the connection, so the complete cached
    // copy is used, with a warning that says so.
    const again = createImage({
      kubernetesVersion: '1.33',
      kernelArguments: KERNEL_ARGS,
      editor: 'loop',
      home: fixture.home,
      bootVolumeContainerImage: UNREACHABLE,
      randomUuid: fixedUuids(),
    });
    await expectUpstreamOciEdits(fixture.original, (await again).path);
    expect(again.events.some((e) => e.type === 'warning' && e.code === 'OCNE_REGISTRY_UNREACHABLE')).toBe(
      true,
    );
  });

  it("olvm: upstream's olvm script (openstack, console=tty0, no dhclient files)", async () => {
    const result = await createImage({
      type: 'olvm',
      kubernetesVersion: '1.33',
      kernelArguments: KERNEL_ARGS,
      // Ignored for olvm: upstream's olvm script hard-codes openstack.
      ignitionProvider: 'oci',
      editor: 'loop',
      home: fixture.home,
      pull: skopeoPull(fixture),
      randomUuid: fixedUuids(),
    });
    expect(result.path).toBe(join(fixture.home, '.ocne', 'images', 'boot.qcow2-1.33-amd64.olvm'));
    await expectUpstreamOciEdits(fixture.original, result.path, 'olvm');
  });

  it('cancelled while the disk is edited: OCNE_CANCELLED, nothing written, no loop device or daemon left', async () => {
    const home = join(fixture.home, 'cancel');
    const op = createImage({
      editor: 'loop',
      home,
      pull: skopeoPull({ ...fixture, home }),
      kubernetesVersion: '1.33',
    });
    op.onEvent((e) => {
      if (e.type === 'log' && e.level === 'debug' && e.message.startsWith('losetup')) op.cancel('test');
    });
    await expect(op.promise()).rejects.toMatchObject({ code: 'OCNE_CANCELLED' });
    expect(existsSync(join(home, '.ocne', 'images', 'boot.qcow2-1.33-amd64.oci'))).toBe(false);
    expect(await readdir(join(home, '.ocne', 'tmp'))).toEqual([]);
    const { stdout } = await execa('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE']);
    expect(stdout).not.toContain('ocne-disk-');
  });

  it('pulls by default, and fails with a typed error when the registry is down and nothing is cached', async () => {
    // Port 9 on loopback: nothing listens, so the default pull is refused at once.
    await expect(
      createImage({
        kubernetesVersion: '1.31',
        editor: 'loop',
        home: fixture.home,
        bootVolumeContainerImage: '127.0.0.1:9/olcne/ock',
      }).promise(),
    ).rejects.toMatchObject({ code: 'OCNE_REGISTRY_UNREACHABLE' });
  });

  it('refuses a disk that is not laid out as OCK, changes nothing and writes nothing', async () => {
    for (const variant of ['no-bls', 'vfat-root'] as const) {
      const bad = await makeFixture(variant);
      try {
        const copy = join(bad.home, 'copy.qcow2');
        await copyFile(bad.disk, copy);
        await chmod(copy, 0o644);
        const before = await sha256File(copy);
        const session = await (await selectDiskEditor('loop')).open(copy);
        const error = await editBootDisk(session, {
          ignitionProvider: 'oci',
          bootUuid: 'x',
          rootUuid: 'y',
          files: [],
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        await session.close();
        expect(isOcneError(error) && error.code, String(error)).toBe('OCNE_IMAGE_LAYOUT_INVALID');
        expect(String((error as Error).message)).toMatch(
          variant === 'no-bls' ? /boot entry/ : /p3 \(root\) is vfat, not XFS/,
        );
        expect(await sha256File(copy)).toBe(before);

        const op = createImage({
          editor: 'loop',
          home: bad.home,
          pull: skopeoPull(bad),
          kubernetesVersion: '1.33',
        });
        await expect(op.promise()).rejects.toMatchObject({ code: 'OCNE_IMAGE_LAYOUT_INVALID' });
        expect(existsSync(join(bad.home, '.ocne', 'images', 'boot.qcow2-1.33-amd64.oci'))).toBe(false);
      } finally {
        await bad.cleanup();
      }
    }
  });
});
