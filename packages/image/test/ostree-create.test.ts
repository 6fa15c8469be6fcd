// `createOstreeImage` against the real tools: an ostree-ext image made by libostree goes in, and
// what comes out must satisfy `ostree fsck`, equal the source tree (`ostree ls -R -X`), be accepted
// by skopeo and umoci, and serve the same commit to `ostree pull` over HTTP. Broken images must be
// refused with their typed errors and leave no archive behind.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isOcneError, type OcneEvent } from '@ocne/core';
import { createOstreeImage, imageCacheDirectory, type PullImage } from '@ocne/image';
import {
  copyToDir,
  nginxBaseFixture,
  type OstreeImageFixture,
  ostreeImageFixture,
  pullOverHttp,
  serveDirectory,
  tool,
} from '@ocne/test-ostree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let scratch: string;
let source: OstreeImageFixture;
let base: string;
const pulled: string[] = [];

/** A `pull` that does what the registry client does: leave the image in a `dir:` layout. */
function pullFrom(fixture: OstreeImageFixture): PullImage {
  return async ({ reference }) => {
    pulled.push(reference);
    const directory = join(scratch, `pulled-${pulled.length}`);
    await copyToDir(`oci:${fixture.layout}:ock`, directory);
    return { directory };
  };
}

async function failure(promise: PromiseLike<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isOcneError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ocne-ostree-test-'));
  source = await ostreeImageFixture();
  base = `oci:${(await nginxBaseFixture()).layout}:nginx`;
}, 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('createOstreeImage', () => {
  let home: string;
  let archive: string;
  let events: OcneEvent[];
  let result: Awaited<ReturnType<typeof createOstreeImage>>;
  let rootfs: string;

  beforeAll(async () => {
    home = join(scratch, 'home');
    events = [];
    const op = createOstreeImage({
      kubernetesVersion: '1.33',
      arch: 'amd64',
      home,
      baseImage: base,
      pull: pullFrom(source),
      onEvent: (e) => events.push(e),
    });
    result = await op;
    archive = result.path;
    // Unpack as a consumer would run the image: umoci reads the archive's layout.
    const layout = join(scratch, 'unpacked-layout');
    await tool('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `oci:${layout}:server`]);
    await tool('umoci', ['unpack', '--image', `${layout}:server`, join(scratch, 'bundle')]);
    rootfs = join(scratch, 'bundle', 'rootfs');
  }, 60_000);

  it('writes the archive where upstream does, and pulls the tagged ostree image for the arch', async () => {
    expect(archive).toBe(join(home, '.ocne', 'images', 'ock-1.33-amd64-ostree.tar'));
    expect(pulled[0]).toBe('container-registry.oracle.com/olcne/ock-ostree:1.33');
    expect(result.commit).toBe(source.commit);
    expect(result.contentObjects).toBe(source.contentObjects);
    // No work directory is left behind.
    expect(await readdir(join(home, '.ocne', 'tmp'))).toEqual([]);
  });

  it('is an image skopeo accepts, with nginx as its command and ports 80 and 443', async () => {
    const inspect = JSON.parse(await tool('skopeo', ['inspect', `oci-archive:${archive}`]));
    expect(inspect.Layers).toHaveLength(2);
    const config = JSON.parse(await tool('skopeo', ['inspect', '--config', `oci-archive:${archive}`]));
    expect(config.config.Cmd).toEqual(['nginx', '-g', 'daemon off;']);
    expect(Object.keys(config.config.ExposedPorts).sort()).toEqual(['443/tcp', '80/tcp']);
    const baseConfig = JSON.parse(await tool('skopeo', ['inspect', '--config', base]));
    expect(config.rootfs.diff_ids[0]).toBe(baseConfig.rootfs.diff_ids[0]);
    expect(config.rootfs.diff_ids).toHaveLength(2);
    // The repository layer is stored uncompressed (its objects are zlib already), as podman saves.
    expect(config.rootfs.diff_ids[1]).toBe(inspect.Layers[1]);
    // The base image's files are still there under the new layer.
    expect(existsSync(join(rootfs, 'usr', 'sbin', 'nginx'))).toBe(true);
  });

  it('serves a repository that passes ostree fsck and holds exactly the source tree', async () => {
    const repo = join(rootfs, 'usr', 'share', 'nginx', 'html', 'ostree');
    expect(await readFile(join(repo, 'config'), 'utf8')).toContain('mode=archive-z2');
    const fsck = await tool('ostree', ['fsck', `--repo=${repo}`]);
    expect(fsck).toContain('no errors found');
    expect((await tool('ostree', ['rev-parse', `--repo=${repo}`, 'ock'])).trim()).toBe(source.commit);
    const mine = await tool('ostree', ['ls', '-R', '-X', `--repo=${repo}`, 'ock']);
    const theirs = await tool('ostree', ['ls', '-R', '-X', `--repo=${source.sourceRepo}`, 'ock']);
    expect(mine).toBe(theirs);
    // The awkward cases are really in the listing being compared.
    expect(mine).toContain('security.selinux');
    expect(mine).toMatch(/-00640 998 997 .*\/usr\/lib\/etcd-owned\/state/);
    expect(mine).toMatch(/-04755 0 0 .*\/usr\/bin\/setuid-helper/);
  });

  it("holds exactly the objects of the ostree CLI's own import (tar + pull-local)", async () => {
    const directory = join(scratch, 'path-b-image');
    await copyToDir(`oci:${source.layout}:ock`, directory);
    const manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8'));
    const extracted = join(scratch, 'path-b-extracted');
    await mkdir(extracted);
    for (const layer of manifest.layers) {
      const blob = join(directory, layer.digest.slice('sha256:'.length));
      await tool('tar', ['--numeric-owner', '-xpzf', blob, '-C', extracted, 'sysroot/ostree/repo']);
    }
    const cli = join(scratch, 'path-b-repo');
    await tool('ostree', ['init', `--repo=${cli}`, '--mode=archive']);
    await tool('ostree', [
      'pull-local',
      `--repo=${cli}`,
      join(extracted, 'sysroot/ostree/repo'),
      source.commit,
    ]);
    const objects = async (repo: string) =>
      (await readdir(join(repo, 'objects'), { recursive: true })).filter((f) => f.includes('.')).sort();
    const mine = await objects(join(rootfs, 'usr', 'share', 'nginx', 'html', 'ostree'));
    expect(mine).toEqual(await objects(cli));
    expect(mine.filter((f) => f.endsWith('.filez'))).toHaveLength(source.contentObjects);
  });

  it('serves the same commit to ostree pull over HTTP', async () => {
    const server = await serveDirectory(join(rootfs, 'usr', 'share', 'nginx', 'html'));
    try {
      const pulled = await pullOverHttp(server.url, join(scratch, 'client'));
      expect(pulled.commit).toBe(source.commit);
      expect(pulled.fsck).toContain('no errors found');
    } finally {
      await server.close();
    }
  });

  it('reports steps and byte progress up to the total', () => {
    const steps = events.flatMap((e) => (e.type === 'step' && e.status === 'succeeded' ? [e.step] : []));
    expect(steps).toEqual([
      'Getting ostree image container-registry.oracle.com/olcne/ock-ostree:1.33 for amd64',
      `Getting base image ${base}`,
      'Unpacking ostree image',
      'Generating container image',
    ]);
    const progress = events.filter((e) => e.type === 'progress');
    const last = progress.at(-1);
    expect(
      last?.type === 'progress' && last.transferredBytes === last.totalBytes && last.totalBytes > 0,
    ).toBe(true);
    expect(events.some((e) => e.type === 'log' && e.message === `Saved image to ${archive}`)).toBe(true);
  });
});

describe('createOstreeImage reads', () => {
  it.each([
    ['zstd', ['--dest-compress', '--dest-compress-format', 'zstd']],
    ['uncompressed', ['--dest-decompress']],
  ])(
    '%s layers',
    async (name, flags) => {
      const home = join(scratch, `home-${name}`);
      const pull: PullImage = async () => {
        const directory = join(scratch, `pulled-${name}`);
        await tool('skopeo', ['copy', '--quiet', ...flags, `oci:${source.layout}:ock`, `dir:${directory}`]);
        return { directory };
      };
      const result = await createOstreeImage({ kubernetesVersion: '1.33', home, baseImage: base, pull });
      expect(result.commit).toBe(source.commit);
      expect(result.contentObjects).toBe(source.contentObjects);
    },
    30_000,
  );
});

describe('createOstreeImage refuses', () => {
  async function attempt(
    variant: 'tampered' | 'tampered-large' | 'derived' | 'nolabel',
  ): Promise<{ code: string; message: string; home: string }> {
    const fixture = await ostreeImageFixture({ variant });
    const home = join(scratch, `home-${variant}`);
    const error = await failure(
      createOstreeImage({ kubernetesVersion: '1.33', home, baseImage: base, pull: pullFrom(fixture) }),
    );
    return { ...error, home };
  }

  it.each(['tampered', 'tampered-large'] as const)(
    'an image with a %s object, and writes nothing',
    async (variant) => {
      const { code, home, message } = await attempt(variant);
      expect(code).toBe('OCNE_IMAGE_OSTREE_CHECKSUM');
      expect(message).toContain('does not match its checksum');
      expect(existsSync(join(home, '.ocne', 'images', 'ock-1.33-amd64-ostree.tar'))).toBe(false);
    },
    30_000,
  );

  it('a derived image (layers after the ostree ones)', async () => {
    const { code, message } = await attempt('derived');
    expect(code).toBe('OCNE_IMAGE_OSTREE_DERIVED_LAYERS');
    expect(message).toContain('1 non-ostree layers');
  }, 30_000);

  it('an image without the ostree.final-diffid label (v0)', async () => {
    const { code, message } = await attempt('nolabel');
    expect(code).toBe('OCNE_IMAGE_OSTREE_UNSUPPORTED');
    expect(message).toContain('ostree.final-diffid');
  }, 30_000);

  it('to pull by default: a registry that is down and no cache is a typed error; a complete cached copy serves', async () => {
    const home = join(scratch, 'home-cache');
    // Port 9 on loopback: nothing listens there, so the default pull is refused at once.
    const osRegistry = 'ostree-unverified-registry:127.0.0.1:9/olcne/ock-ostree';
    const missing = await failure(
      createOstreeImage({ kubernetesVersion: '1.33', home, baseImage: base, osRegistry }),
    );
    expect(missing.code).toBe('OCNE_REGISTRY_UNREACHABLE');
    await copyToDir(
      `oci:${source.layout}:ock`,
      imageCacheDirectory(home, '127.0.0.1:9/olcne/ock-ostree:1.33'),
    );
    const result = await createOstreeImage({ kubernetesVersion: '1.33', home, baseImage: base, osRegistry });
    expect(result.commit).toBe(source.commit);
  }, 30_000);

  it('a bad architecture or a reference without an ostree transport, before pulling anything', async () => {
    const before = pulled.length;
    const arch = await failure(
      // @ts-expect-error: a caller without types
      createOstreeImage({ kubernetesVersion: '1.33', arch: 'riscv64', pull: pullFrom(source) }),
    );
    expect(arch).toEqual({ code: 'OCNE_USAGE', message: 'Architecture must be one of: amd64, arm64' });
    const ref = await failure(
      createOstreeImage({ kubernetesVersion: '1.33', osRegistry: 'docker://x/y', pull: pullFrom(source) }),
    );
    expect(ref.code).toBe('OCNE_IMAGE_OSTREE_REFERENCE');
    expect(pulled.length).toBe(before);
  });

  it('a layer blob that does not match its digest, even when its content is intact', async () => {
    const home = join(scratch, 'home-digest');
    const pull: PullImage = async (o) => {
      const { directory } = await pullFrom(source)(o);
      // Same tar, compressed differently: every object and the diff_id still match.
      const manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8'));
      const blob = join(directory, manifest.layers[1].digest.slice('sha256:'.length));
      await writeFile(blob, gzipSync(gunzipSync(await readFile(blob)), { level: 9 }));
      return { directory };
    };
    const error = await failure(
      createOstreeImage({ kubernetesVersion: '1.33', home, baseImage: base, pull }),
    );
    expect(error.code).toBe('OCNE_IMAGE_OSTREE_DIGEST');
    expect(error.message).toMatch(/^layer 1 does not match its digest sha256:/);
    expect(existsSync(join(home, '.ocne', 'images', 'ock-1.33-amd64-ostree.tar'))).toBe(false);
  }, 30_000);

  it('a corrupt layer blob, with a typed error', async () => {
    const pull: PullImage = async (o) => {
      const { directory } = await pullFrom(source)(o);
      const manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8'));
      const blob = join(directory, manifest.layers[0].digest.slice('sha256:'.length));
      const bytes = await readFile(blob);
      await writeFile(blob, bytes.subarray(0, bytes.length >> 1));
      return { directory };
    };
    const error = await failure(
      createOstreeImage({
        kubernetesVersion: '1.33',
        home: join(scratch, 'home-corrupt'),
        baseImage: base,
        pull,
      }),
    );
    expect(error.code).toBe('OCNE_IMAGE_OSTREE_DIGEST');
    expect(error.message).toContain('layer 0');
  }, 30_000);

  it('a base image whose cached layer is damaged, and writes no archive', async () => {
    const layout = join(scratch, 'damaged-base');
    await cp((await nginxBaseFixture()).layout, layout, { recursive: true });
    const manifest = JSON.parse(
      await readFile(
        join(
          layout,
          'blobs',
          'sha256',
          JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')).manifests[0].digest.slice(7),
        ),
        'utf8',
      ),
    );
    const blob = join(layout, 'blobs', 'sha256', manifest.layers[0].digest.slice(7));
    const bytes = await readFile(blob);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await writeFile(blob, bytes);
    const home = join(scratch, 'home-damaged-base');
    const error = await failure(
      createOstreeImage({
        kubernetesVersion: '1.33',
        home,
        baseImage: `oci:${layout}:nginx`,
        pull: pullFrom(source),
      }),
    );
    expect(error.code).toBe('OCNE_IMAGE_OSTREE_DIGEST');
    expect(error.message).toContain(manifest.layers[0].digest);
    expect(await readdir(join(home, '.ocne', 'images'))).toEqual([]);
  }, 30_000);

  it('a base image for another architecture', async () => {
    const error = await failure(
      createOstreeImage({
        kubernetesVersion: '1.33',
        arch: 'arm64',
        home: join(scratch, 'home-arch'),
        baseImage: base,
        pull: pullFrom(source),
      }),
    );
    // The ostree fixture is for this machine's architecture; the base fixture is amd64.
    expect(error.code).toBe('OCNE_IMAGE_OSTREE_SOURCE_INVALID');
    expect(error.message).toMatch(/is for amd64, not for arm64$/);
  }, 30_000);

  it('nothing when cancelled, and leaves no archive', async () => {
    const home = join(scratch, 'home-cancel');
    const controller = new AbortController();
    const op = createOstreeImage({
      kubernetesVersion: '1.33',
      home,
      baseImage: base,
      pull: pullFrom(source),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 'Unpacking ostree image' && e.status === 'started')
          controller.abort();
      },
    });
    expect((await failure(op)).code).toBe('OCNE_CANCELLED');
    expect(existsSync(join(home, '.ocne', 'images', 'ock-1.33-amd64-ostree.tar'))).toBe(false);
  });
});
