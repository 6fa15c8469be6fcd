// What @ocne/image reads from outside, when it is hostile: registry auth files (huge, binary,
// prototype keys, bad base64), image references (overlong, control characters), a registry whose
// bodies never end or whose manifest is huge or names files outside the cache, and layers whose tar
// entries point outside the target. Each is a typed OcneError (or is ignored), with a short
// message free of control characters, and nothing is ever written outside the target.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isOcneError } from '@ocne/core';
import { PROTOTYPE_KEYS } from '@ocne/test-hostile';
import { nginxBaseFixture } from '@ocne/test-ostree';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createImage,
  extractBootQcow2,
  openRegistry,
  parseRegistryReference,
  pullImage,
} from '../src/index.js';
import { findCredentials } from '../src/registry/auth.js';
import { sha256 } from '../src/registry/client.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ocne-image-hostile-'));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The error a call ends with; it must be a typed one with a short, printable message. */
async function typedError(call: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call();
  } catch (error) {
    if (!isOcneError(error)) throw error;
    expect(error.message.length).toBeLessThan(1000);
    expect(error.message).not.toMatch(CONTROL);
    return { code: error.code, message: error.message };
  }
  throw new Error('expected an OcneError');
}

describe('registry auth files', { timeout: 60_000 }, () => {
  const lookup = async (content: string | Buffer) => {
    const home = await mkdtemp(join(scratch, 'auth-'));
    await mkdir(join(home, '.docker'));
    await writeFile(join(home, '.docker', 'config.json'), content);
    return () => findCredentials('registry.example', 'ocne/ock', { home, env: {} });
  };
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('refuses a huge file without reading it whole, and binary bytes, as typed errors', async () => {
    const huge = await typedError(await lookup(Buffer.alloc(8 * 1024 * 1024, 0x20)));
    expect(huge).toMatchObject({
      code: 'OCNE_REGISTRY_AUTH_FAILED',
      message: expect.stringMatching(/larger than/),
    });
    const binary = await typedError(await lookup(Buffer.from([0xff, 0xfe, 0, 1, 2, 0x1b, 0x5b, 0x7b])));
    expect(binary.code).toBe('OCNE_REGISTRY_AUTH_FAILED');
  });

  it('refuses bad base64, credentials without a colon, and control characters in them', async () => {
    // `${b64('user:pass')}$$$`: Node's decoder would skip the `$` and find credentials.
    for (const auth of [
      '!!!!',
      'dXNlcg',
      `${b64('user:pass')}$$$`,
      b64('user'),
      b64('user:pass\r\nX-Evil: 1'),
      b64('us\u0000er:p'),
    ]) {
      const file = JSON.stringify({ auths: { 'registry.example': { auth } } });
      expect((await typedError(await lookup(file))).code).toBe('OCNE_REGISTRY_AUTH_FAILED');
    }
    const good = JSON.stringify({ auths: { 'registry.example': { auth: b64('user:pa:ss') } } });
    expect(await (await lookup(good))()).toEqual({ username: 'user', password: 'pa:ss' });
  });

  it('prototype keys anywhere are plain keys: they neither match nor pollute', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...PROTOTYPE_KEYS), { minLength: 1 }),
        fc.boolean(),
        async (keys, top) => {
          const entries = keys.map((k) => `${JSON.stringify(k)}: {"auth": "${b64('evil:x')}"}`).join(',');
          // Written as text: JSON.parse keeps `__proto__` as an own key, as a hostile file would have it.
          const file = top
            ? `{${keys.map((k) => `${JSON.stringify(k)}: {"auths": {${entries}}}`).join(',')}}`
            : `{"auths": {${entries}}}`;
          expect(await (await lookup(file))()).toBeUndefined();
          expect(({} as Record<string, unknown>).auth).toBeUndefined();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('any JSON value or random bytes: credentials, nothing, or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        ),
        async (content) => {
          const find = await lookup(content);
          try {
            await find();
          } catch (error) {
            expect(isOcneError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('image references', () => {
  it('refuses overlong references and control characters, with a short printable message', async () => {
    const long = await typedError(async () =>
      parseRegistryReference(`registry.example/${'a'.repeat(1_000_000)}:1`),
    );
    expect(long.code).toBe('OCNE_IMAGE_REFERENCE_INVALID');
    for (const value of [
      'registry.example/ock:1\u001b[31m',
      'registry.example/o\nck:1',
      'reg\u0000.io/a:1',
    ]) {
      expect((await typedError(async () => parseRegistryReference(value))).code).toBe(
        'OCNE_IMAGE_REFERENCE_INVALID',
      );
    }
  });

  it('any string: a reference or a typed error', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (value) => {
        try {
          parseRegistryReference(value);
        } catch (error) {
          if (!isOcneError(error)) throw error;
          expect(error.message).not.toMatch(CONTROL);
          expect(error.message.length).toBeLessThan(1000);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('a hostile registry', { timeout: 60_000 }, () => {
  let server: Server;
  let host: string;
  const served: { endless: number } = { endless: 0 };
  const endless = (res: ServerResponse, status: number) => {
    res.writeHead(status, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const more = () => {
      while (!res.destroyed && res.write(chunk)) served.endless += chunk.length;
    };
    res.on('drain', more);
    more();
  };
  const traversal = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: 'sha256:../../../escape',
        size: 2,
      },
      layers: [],
    }),
  );
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '';
      if (path === '/v2/') return void res.writeHead(200).end('{}');
      if (path.startsWith('/v2/endless/manifests/')) return endless(res, 200);
      if (path.startsWith('/v2/failing/manifests/')) return endless(res, 500);
      if (path.startsWith('/v2/huge/manifests/')) {
        res.writeHead(200, { 'content-length': String(1 << 30), 'content-type': 'application/json' });
        return void res.write('{');
      }
      if (path.startsWith('/v2/traversal/manifests/')) {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': sha256(traversal),
        });
        return void res.end(traversal);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  it('stops reading a manifest, or an error body, that never ends', async () => {
    const client = await openRegistry(host, { tls: { insecure: true }, env: {} });
    try {
      const rss = process.memoryUsage().rss;
      const manifest = await typedError(() => client.getManifest('endless', '1'));
      expect(manifest).toMatchObject({
        code: 'OCNE_REGISTRY_ERROR',
        message: expect.stringMatching(/more than a manifest/),
      });
      const failing = await typedError(() => client.getManifest('failing', '1'));
      expect(failing.code).toBe('OCNE_REGISTRY_ERROR');
      expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
      const huge = await typedError(() => client.getManifest('huge', '1'));
      expect(huge.message).toMatch(/1073741824 bytes, more than a manifest/);
    } finally {
      await client.close();
    }
  });

  it('refuses a manifest whose digests would name files outside the cache, writing nothing', async () => {
    const home = await mkdtemp(join(scratch, 'pull-'));
    const error = await typedError(() =>
      pullImage({ reference: `${host}/traversal:1`, arch: 'amd64', home, tls: { insecure: true }, env: {} }),
    );
    expect(error.code).toBe('OCNE_IMAGE_UNSUPPORTED');
    expect(await readdir(home, { recursive: true })).not.toContainEqual(expect.stringMatching(/escape/));
    expect(existsSync(join(home, '.ocne', 'escape'))).toBe(false);
    expect(existsSync(join(home, 'escape'))).toBe(false);
  });
});

describe('tar layers with entries that point outside the target', { timeout: 60_000 }, () => {
  const marker = `ocne-hostile-${process.pid}`;
  const outside = (name: string) => join(tmpdir(), `${marker}-${name}`);

  /** A gzip layer with the hostile entries, plus `extra` entries. */
  async function hostileLayer(extra: (tar: ReturnType<typeof pack>) => void): Promise<Buffer> {
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    const ended = new Promise<void>((ok) => tar.on('end', () => ok()));
    const dots = '../'.repeat(12);
    tar.entry({ name: `${dots}${outside('dots').slice(1)}` }, 'x');
    tar.entry({ name: outside('absolute') }, 'x');
    tar.entry({ name: `sysroot/ostree/repo/objects/${dots}${outside('repo-dots').slice(1)}` }, 'x');
    tar.entry({ name: 'disk/link', type: 'symlink', linkname: outside('link') });
    extra(tar);
    tar.finalize();
    await ended;
    return gzipSync(Buffer.concat(chunks));
  }

  /** A containers `dir:` layout of one image with `layer`, `labels` on its config. */
  async function dirLayout(name: string, layer: Buffer, labels: Record<string, string>): Promise<string> {
    const dir = join(scratch, name);
    await mkdir(dir, { recursive: true });
    const { gunzipSync } = await import('node:zlib');
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { ...labels, 'ostree.final-diffid': sha256(gunzipSync(layer)) } },
        rootfs: { type: 'layers', diff_ids: [sha256(gunzipSync(layer))] },
      }),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    };
    await writeFile(join(dir, sha256(config).slice(7)), config);
    await writeFile(join(dir, sha256(layer).slice(7)), layer);
    await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  }

  const nothingOutside = () => {
    for (const name of ['dots', 'absolute', 'repo-dots', 'link', 'boot-link'])
      expect(existsSync(outside(name))).toBe(false);
  };

  it('the ostree importer refuses the layer with a typed error and writes nothing outside', async () => {
    const commit = 'ab'.repeat(32);
    const layer = await hostileLayer((tar) => {
      // An absolute symlink as an ostree object: its checksum cannot match.
      tar.entry({
        name: `sysroot/ostree/repo/objects/${commit.slice(0, 2)}/${commit.slice(2)}.file`,
        type: 'symlink',
        linkname: '/etc/passwd',
      });
    });
    const dir = await dirLayout('ostree-hostile', layer, { 'ostree.commit': commit });
    const home = join(scratch, 'home-ostree');
    const base = await nginxBaseFixture();
    const error = await typedError(() =>
      createImage({
        type: 'ostree',
        home,
        baseImage: `oci:${base.layout}:${base.tag}`,
        pull: async () => ({ directory: dir }),
      }).promise(),
    );
    expect(error.code).toMatch(/^OCNE_IMAGE_OSTREE_/);
    nothingOutside();
    expect(await readdir(join(home, '.ocne', 'tmp'))).toEqual([]);
  });

  it('the boot disk extraction ignores everything but a regular disk/boot.qcow2', async () => {
    const layer = await hostileLayer((tar) => {
      tar.entry({ name: 'disk/boot.qcow2', type: 'symlink', linkname: outside('boot-link') });
    });
    const dir = await dirLayout('boot-hostile', layer, {});
    const destination = join(scratch, 'boot-out', 'boot.qcow2');
    await mkdir(join(scratch, 'boot-out'));
    const error = await typedError(() => extractBootQcow2({ directory: dir, destination }));
    expect(error.code).toBe('OCNE_IMAGE_BOOT_SOURCE_INVALID');
    nothingOutside();
    expect(await readdir(join(scratch, 'boot-out'))).toEqual([]);
  });
});
