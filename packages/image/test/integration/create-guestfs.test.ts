// `createImage({ type: 'oci' })` through the guestfs editor (libguestfs' appliance; about 40 s
// under TCG, plus about 50 s the first time supermin builds the appliance), on the generated
// OCK image, checked with qemu-img, blkid, xfs_db and a read-only mount as the loop test is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage } from '../../src/index.js';
import {
  expectUpstreamOciEdits,
  type Fixture,
  fixedUuids,
  KERNEL_ARGS,
  makeFixture,
  skopeoPull,
} from '../helpers/oci-create.js';

describe('createImage --type oci with the guestfs editor', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await makeFixture();
  }, 120_000);
  afterAll(async () => fixture?.cleanup());

  it("makes exactly upstream's edits", { timeout: 600_000 }, async () => {
    const op = createImage({
      type: 'oci',
      kubernetesVersion: '1.33',
      kernelArguments: KERNEL_ARGS,
      editor: 'guestfs',
      home: fixture.home,
      pull: skopeoPull(fixture),
      randomUuid: fixedUuids(),
    });
    const result = await op;
    expect(result.editor).toBe('guestfs');
    expect(op.events.some((e) => e.type === 'log' && e.message.startsWith('guestfish --remote='))).toBe(true);
    await expectUpstreamOciEdits(fixture.original, result.path);
  });
});
