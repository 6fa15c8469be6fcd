// uploadImage against the real registry, with skopeo as the independent reader: what skopeo
// reads back is what was pushed, a second upload sends no blob (counted in the registry's own
// log), blobs go in chunked PATCHes, Basic and Bearer auth both push, wrong credentials are a typed
// error, and local copies (oci-archive:, dir:) are what skopeo accepts.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadImage } from '@ocne/image';
import { startTestRegistry, type TestRegistry } from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureLayout, makeLayout, run, skopeoTls } from './fixtures.ts';

let work: string;
let layout: FixtureLayout;
let archive: string;
let registry: TestRegistry;
const LAYER = 3 * 1024 * 1024;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-upload-'));
  layout = await makeLayout(join(work, 'layout'), ['amd64', 'arm64'], LAYER);
  // The source as image create --type ostree leaves it: an oci-archive, here written by skopeo.
  archive = join(work, 'ock-1.33-amd64-ostree.tar');
  await run('skopeo', ['copy', `oci:${layout.dir}:amd64`, `oci-archive:${archive}:ock-ostree:latest`]);
  registry = await startTestRegistry({ auth: 'basic' });
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const hashOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('uploadImage to a registry', () => {
  it('pushes an oci-archive in chunks that skopeo reads back byte for byte; a second upload sends no blob', async () => {
    const destination = `docker://${registry.host}/ocne/ock-ostree:1.33`;
    const options = {
      type: 'ostree' as const,
      source: archive,
      destination,
      env: { REGISTRY_AUTH_FILE: registry.authFile },
      tls: { caFile: registry.pki.caPath },
      chunkSize: 1024 * 1024,
    };
    const before = (await registry.requests()).length;
    const upload = uploadImage(options);
    const result = await upload;
    const amd = layout.images.amd64!;
    expect(result.manifestDigest).toBe(amd.manifestDigest);
    expect(result.blobs.map((b) => [b.digest, b.skipped])).toEqual([
      [amd.configDigest, false],
      [amd.layerDigest, false],
    ]);
    const progress = upload.events.filter((e) => e.type === 'progress');
    const total = result.blobs.reduce((sum, b) => sum + b.size, 0);
    expect(progress.at(-1)).toMatchObject({ transferredBytes: total, totalBytes: total });
    expect(progress.length).toBeGreaterThan(2);

    // The layer went in 1 MiB PATCHes.
    const first = (await registry.requests()).slice(before);
    const patches = first.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(1 + Math.ceil(amd.layerSize / (1024 * 1024)));

    // What skopeo reads back equals what was pushed.
    const { stdout: raw } = await run('skopeo', [
      'inspect',
      '--raw',
      ...skopeoTls(registry, ''),
      destination,
    ]);
    expect(hashOf(Buffer.from(raw))).toBe(amd.manifestDigest);
    const { stdout: inspected } = await run('skopeo', ['inspect', ...skopeoTls(registry, ''), destination]);
    expect(JSON.parse(inspected)).toMatchObject({
      Digest: amd.manifestDigest,
      Architecture: 'amd64',
      Layers: [amd.layerDigest],
    });
    const back = join(work, 'back');
    await run('skopeo', ['copy', ...skopeoTls(registry, 'src'), destination, `dir:${back}`]);
    for (const digest of [amd.layerDigest, amd.configDigest]) {
      expect(await readFile(join(back, digest.slice(7)))).toEqual(
        await readFile(join(layout.dir, 'blobs/sha256', digest.slice(7))),
      );
    }

    // Again: every blob exists, nothing is sent but the manifest.
    const middle = (await registry.requests()).length;
    const second = await uploadImage(options);
    expect(second.uploadedBytes).toBe(0);
    expect(second.blobs.every((b) => b.skipped)).toBe(true);
    const again = (await registry.requests()).slice(middle);
    expect(
      again.filter(
        (r) =>
          r.method === 'PATCH' || r.method === 'POST' || (r.method === 'PUT' && r.uri.includes('/blobs/')),
      ),
    ).toEqual([]);
  });

  it('uploads from an oci: layout index for the architecture asked for, and from a dir: folder', async () => {
    const arm = layout.images.arm64!;
    const base = {
      type: 'ostree' as const,
      auth: { username: registry.username, password: registry.password },
      tls: { caFile: registry.pki.caPath },
    };
    const fromIndex = await uploadImage({
      ...base,
      source: `oci:${layout.dir}:multi`,
      arch: 'arm64',
      destination: `docker://${registry.host}/ocne/from-oci:arm64`,
    });
    expect(fromIndex.manifestDigest).toBe(arm.manifestDigest);
    const dir = join(work, 'dir-source');
    await run('skopeo', ['copy', `oci:${layout.dir}:arm64`, `dir:${dir}`]);
    const fromDir = await uploadImage({
      ...base,
      source: `dir:${dir}`,
      destination: `docker://${registry.host}/ocne/from-dir:1`,
    });
    expect(fromDir.manifestDigest).toBe(arm.manifestDigest);
  });

  it('refuses wrong credentials with a typed error naming the registry', async () => {
    const wrong = uploadImage({
      type: 'ostree',
      source: archive,
      destination: `docker://${registry.host}/ocne/denied:1`,
      auth: { username: registry.username, password: 'wrong' },
      tls: { caFile: registry.pki.caPath },
    });
    await expect(wrong).rejects.toMatchObject({ code: 'OCNE_REGISTRY_AUTH_FAILED' });
    await expect(wrong.promise()).rejects.toThrow(registry.host);
    expect(wrong.events.at(-1)).toMatchObject({
      type: 'done',
      ok: false,
      error: { code: 'OCNE_REGISTRY_AUTH_FAILED' },
    });
  });

  it('pushes through the Bearer token flow', async () => {
    const tokenRegistry = await startTestRegistry({ auth: 'token' });
    try {
      const destination = `docker://${tokenRegistry.host}/ocne/ock-ostree:1.33`;
      const result = await uploadImage({
        type: 'ostree',
        source: archive,
        destination,
        env: { REGISTRY_AUTH_FILE: tokenRegistry.authFile },
        tls: { caFile: tokenRegistry.pki.caPath },
      });
      const { stdout } = await run('skopeo', ['inspect', ...skopeoTls(tokenRegistry, ''), destination]);
      expect(JSON.parse(stdout).Digest).toBe(result.manifestDigest);
      expect(
        tokenRegistry.tokenServer!.requests.some((r) =>
          r.scopes.includes('repository:ocne/ock-ostree:pull,push'),
        ),
      ).toBe(true);
    } finally {
      await tokenRegistry.stop();
    }
  });

  it('leaves --type oci to the OCI provider: a typed "not available" error', async () => {
    await expect(uploadImage({ type: 'oci', source: archive, destination: '' })).rejects.toMatchObject({
      code: 'OCNE_IMAGE_UPLOAD_UNAVAILABLE',
      // The error says where the upload is: the OCI clients live in the provider, not here.
      message: expect.stringMatching(/uploadOciImage of @ocne\/provider-oci/),
    });
  });
});

describe('uploadImage to local destinations', () => {
  it('writes an oci-archive and a dir: folder that skopeo reads as the same image', async () => {
    const amd = layout.images.amd64!;
    const copy = join(work, 'copy.tar');
    const result = await uploadImage({
      type: 'ostree',
      source: `oci-archive:${archive}`,
      destination: `oci-archive:${copy}:ock-ostree:latest`,
    });
    expect(result.manifestDigest).toBe(amd.manifestDigest);
    const { stdout } = await run('skopeo', ['inspect', `oci-archive:${copy}:ock-ostree:latest`]);
    expect(JSON.parse(stdout)).toMatchObject({ Digest: amd.manifestDigest, Layers: [amd.layerDigest] });

    const ours = join(work, 'copy-dir');
    await uploadImage({ type: 'ostree', source: archive, destination: `dir:${ours}` });
    const theirs = join(work, 'skopeo-dir');
    await run('skopeo', ['copy', `oci-archive:${archive}`, `dir:${theirs}`]);
    expect((await readdir(ours)).sort()).toEqual((await readdir(theirs)).sort());
    for (const name of await readdir(theirs))
      expect(await readFile(join(ours, name))).toEqual(await readFile(join(theirs, name)));
  });

  it('says what is wrong with a source that is not an image', async () => {
    const notTar = join(work, 'layout', 'oci-layout');
    await expect(
      uploadImage({ type: 'ostree', source: notTar, destination: `dir:${join(work, 'x')}` }),
    ).rejects.toMatchObject({
      code: 'OCNE_IMAGE_SOURCE_INVALID',
    });
  });
});
