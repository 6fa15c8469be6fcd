// pullImage against the real registry (docker-registry, TLS with a test CA, Basic and Bearer
// auth), checked with skopeo: the cache folder is what `skopeo copy … dir:` writes, a second
// pull fetches nothing, an interrupted pull resumes with a Range request, the architecture is
// chosen from the index, and failures are typed.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OcneEvent } from '@ocne/core';
import { imageCacheDirectory, pullImage } from '@ocne/image';
import {
  type RegistryProxy,
  startRegistryProxy,
  startTestRegistry,
  type TestRegistry,
} from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureLayout, makeLayout, run, skopeoPush, skopeoTls } from './fixtures.ts';

let work: string;
let layout: FixtureLayout;
let registry: TestRegistry;
let proxy: RegistryProxy;
const LAYER = 3 * 1024 * 1024;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-pull-'));
  layout = await makeLayout(join(work, 'layout'), ['amd64', 'arm64'], LAYER);
  registry = await startTestRegistry({ auth: 'basic' });
  proxy = await startRegistryProxy(registry);
  await skopeoPush(registry, layout.dir, 'multi', 'olcne/ock:1.33');
  await skopeoPush(registry, layout.dir, 'amd64', 'olcne/ock:amd64-only');
  await skopeoPush(registry, layout.dir, 'first-only', 'olcne/ock:amd64-index');
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const env = () => ({ REGISTRY_AUTH_FILE: registry.authFile });

describe('pullImage', () => {
  it('pulls the architecture asked for into the dir: layout skopeo writes, under upstream cache name', async () => {
    const home = join(work, 'home1');
    const events: OcneEvent[] = [];
    const reference = `docker://${registry.host}/olcne/ock:1.33`;
    const result = await pullImage({
      reference,
      arch: 'arm64',
      home,
      env: env(),
      tls: { caFile: registry.pki.caPath },
      emit: (e) => events.push({ ...e, seq: 0, timestamp: '' } as OcneEvent),
    });
    const arm = layout.images.arm64!;
    expect(result.directory).toBe(join(home, '.ocne/images', `docker:__${registry.host}_olcne_ock:1.33`));
    expect(result.directory).toBe(imageCacheDirectory(home, reference));
    expect(result.manifestDigest).toBe(arm.manifestDigest);
    expect(result.layers).toEqual([
      {
        digest: arm.layerDigest,
        size: arm.layerSize,
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        path: join(result.directory, arm.layerDigest.slice(7)),
      },
    ]);
    expect(result.config.architecture).toBe('arm64');
    // Layer 0 holds disk/boot.qcow2, as image create reads it.
    const { stdout } = await run('tar', ['-tzf', result.layers[0]!.path]);
    expect(stdout.trim()).toBe('disk/boot.qcow2');

    // The same folder skopeo writes for the same image.
    const skopeoDir = join(work, 'skopeo-dir');
    await run('skopeo', [
      'copy',
      '--override-arch',
      'arm64',
      ...skopeoTls(registry, 'src'),
      `docker://${registry.host}/olcne/ock:1.33`,
      `dir:${skopeoDir}`,
    ]);
    expect((await readdir(result.directory)).sort()).toEqual((await readdir(skopeoDir)).sort());
    for (const name of await readdir(skopeoDir)) {
      expect(
        (await readFile(join(result.directory, name))).equals(await readFile(join(skopeoDir, name))),
      ).toBe(true);
    }

    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({
      transferredBytes: result.fetchedBytes,
      totalBytes: result.fetchedBytes,
    });
    expect(result.fetchedBytes).toBeGreaterThan(LAYER);

    // A second pull reuses the verified cache: no blob is fetched again.
    const before = (await registry.requests()).length;
    const again = await pullImage({
      reference,
      arch: 'arm64',
      home,
      env: env(),
      tls: { caFile: registry.pki.caPath },
    });
    expect(again.fetchedBytes).toBe(0);
    const later = (await registry.requests()).slice(before);
    expect(later.filter((r) => r.uri.includes('/blobs/'))).toEqual([]);

    // A damaged blob is noticed by its digest and fetched again.
    await writeFile(result.layers[0]!.path, 'damaged');
    const repaired = await pullImage({
      reference,
      arch: 'arm64',
      home,
      env: env(),
      tls: { caFile: registry.pki.caPath },
    });
    expect(repaired.fetchedBytes).toBe(arm.layerSize);
  });

  it('resumes a blob whose connection died mid-way with a Range request, fetching it about once', async () => {
    const home = join(work, 'home2');
    const amd = layout.images.amd64!;
    proxy.cutNext(
      (method, path) => method === 'GET' && path.endsWith(amd.layerDigest),
      Math.floor(amd.layerSize / 2),
    );
    const first = proxy.requests.length;
    const result = await pullImage({
      reference: `docker://${proxy.host}/olcne/ock:1.33`,
      arch: 'amd64',
      home,
      env: { REGISTRY_AUTH_FILE: join(work, 'proxy-auth.json') },
      auth: { username: registry.username, password: registry.password },
      tls: { caFile: registry.pki.caPath },
    });
    expect(result.layers[0]!.digest).toBe(amd.layerDigest);
    const blobGets = proxy.requests
      .slice(first)
      .filter((r) => r.method === 'GET' && r.path.endsWith(amd.layerDigest));
    expect(blobGets.length).toBe(2);
    expect(blobGets[0]!.cut).toBe(true);
    // The client asks for the rest from what reached it (bytes in flight when the proxy cut are lost).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(blobGets[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(blobGets[0]!.responseBytes);
    expect(blobGets[1]!.status).toBe(206);
    const total = blobGets.reduce((sum, r) => sum + r.responseBytes, 0);
    expect(total).toBeLessThanOrEqual(amd.layerSize * 1.1);
  });

  it('continues an interrupted pull in a later call from the partial blob', async () => {
    const home = join(work, 'home3');
    const amd = layout.images.amd64!;
    const controller = new AbortController();
    const options = {
      reference: `docker://${proxy.host}/olcne/ock:amd64-only`,
      arch: 'amd64',
      home,
      auth: { username: registry.username, password: registry.password },
      tls: { caFile: registry.pki.caPath },
    };
    const first = proxy.requests.length;
    await expect(
      pullImage({
        ...options,
        signal: controller.signal,
        emit: (e) => {
          if (e.type === 'progress' && e.transferredBytes > amd.layerSize / 2) controller.abort('test');
        },
      }),
    ).rejects.toMatchObject({ code: 'OCNE_CANCELLED' });
    const dir = imageCacheDirectory(home, options.reference);
    const partial = (await stat(join(dir, `${amd.layerDigest.slice(7)}.partial`))).size;
    expect(partial).toBeGreaterThan(0);
    const result = await pullImage(options);
    expect(result.fetchedBytes).toBe(amd.layerSize - partial);
    const gets = proxy.requests
      .slice(first)
      .filter((r) => r.method === 'GET' && r.path.endsWith(amd.layerDigest));
    expect(gets.at(-1)!.range).toBe(`bytes=${partial}-`);
    // Only the rest is fetched again (what was in flight when the caller stopped is not counted here:
    // it never reached the file).
    expect(gets.at(-1)!.responseBytes).toBe(amd.layerSize - partial);
  });

  it('says which architectures an image has when the one asked for is missing', async () => {
    await expect(
      pullImage({
        reference: `${registry.host}/olcne/ock:amd64-index`,
        arch: 'arm64',
        home: join(work, 'home4'),
        env: env(),
        tls: { caFile: registry.pki.caPath },
      }),
    ).rejects.toThrow(/does not have an image for the arm64 architecture \(it has amd64\)/);
  });

  it('refuses an untrusted certificate and wrong credentials with typed errors naming the registry', async () => {
    const base = { reference: `${registry.host}/olcne/ock:1.33`, arch: 'amd64', home: join(work, 'home5') };
    const untrusted = pullImage({ ...base, env: env() });
    await expect(untrusted).rejects.toMatchObject({ code: 'OCNE_REGISTRY_UNREACHABLE' });
    await expect(untrusted).rejects.toThrow(registry.host);
    const wrong = pullImage({
      ...base,
      auth: { username: registry.username, password: 'wrong' },
      tls: { caFile: registry.pki.caPath },
    });
    await expect(wrong).rejects.toMatchObject({ code: 'OCNE_REGISTRY_AUTH_FAILED' });
    await expect(wrong).rejects.toThrow(registry.host);
    await expect(pullImage({ ...base, env: {}, tls: { caFile: registry.pki.caPath } })).rejects.toMatchObject(
      { code: 'OCNE_REGISTRY_AUTH_FAILED' },
    );
  });
});

describe('pullImage with Bearer tokens', () => {
  let tokenRegistry: TestRegistry;
  beforeAll(async () => {
    tokenRegistry = await startTestRegistry({ auth: 'token' });
    await skopeoPush(tokenRegistry, layout.dir, 'multi', 'olcne/ock:1.33');
  }, 60_000);
  afterAll(async () => {
    await tokenRegistry?.stop();
  });

  it('gets a token through the WWW-Authenticate flow, and a typed error for wrong credentials', async () => {
    const base = {
      reference: `${tokenRegistry.host}/olcne/ock:1.33`,
      arch: 'amd64',
      // The PEM text, not the file: the file goes with the registry's temp dir when it stops.
      tls: { ca: tokenRegistry.pki.ca },
    };
    const home = join(work, 'home6');
    const result = await pullImage({ ...base, home, env: { REGISTRY_AUTH_FILE: tokenRegistry.authFile } });
    expect(result.manifestDigest).toBe(layout.images.amd64!.manifestDigest);
    expect(
      tokenRegistry.tokenServer!.requests.some((r) => r.status === 200 && r.user === tokenRegistry.username),
    ).toBe(true);
    const wrong = pullImage({
      ...base,
      home: join(work, 'home7'),
      auth: { username: tokenRegistry.username, password: 'nope' },
    });
    await expect(wrong).rejects.toMatchObject({ code: 'OCNE_REGISTRY_AUTH_FAILED' });
    await expect(wrong).rejects.toThrow(tokenRegistry.host);

    // With the registry gone, the complete cached copy is used, with a warning.
    await tokenRegistry.stop();
    const warnings: string[] = [];
    const offline = await pullImage({
      ...base,
      home,
      env: {},
      emit: (e) => {
        if (e.type === 'warning') warnings.push(`${e.code}: ${e.message}`);
      },
    });
    expect(offline.manifestDigest).toBe(result.manifestDigest);
    expect(offline.fetchedBytes).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^OCNE_REGISTRY_UNREACHABLE: .*using the cached copy/)]);
  });
});
