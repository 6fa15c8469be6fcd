// `createOstreeImage` end to end from a real registry, with nothing cached: the ostree-ext image
// (F2, made by libostree) and a base image with a real nginx (F4, Debian's binary) are pushed with
// skopeo to docker-registry on 127.0.0.1 (TLS from a test CA, Basic auth), and createOstreeImage
// gets only their references: both are pulled by its default pull, as on a user's machine (the CA
// in the home's containers certs.d folder, the credentials in ~/.docker/config.json). The archive
// is checked with the real tools (skopeo inspect, ostree fsck, the commit) and then run: the
// image's own nginx, chrooted into the unpacked image, serves the commit to `ostree pull`.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOstreeImage, imageCacheDirectory, type OstreeImageResult } from '@ocne/image';
import {
  nginxRealBaseFixture,
  type OstreeImageFixture,
  ostreeImageFixture,
  pullOverHttp,
  startRootfsNginx,
  tool,
} from '@ocne/test-ostree';
import {
  type RegistryProxy,
  startRegistryProxy,
  startTestRegistry,
  type TestRegistry,
} from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoPush } from './fixtures.ts';

describe('createOstreeImage from a registry with TLS and authentication', { timeout: 180_000 }, () => {
  let work: string;
  let home: string;
  let source: OstreeImageFixture;
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let result: OstreeImageResult;
  let rootfs: string;
  let osRegistry: string;
  let baseImage: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ocne-ostree-registry-'));
    home = join(work, 'home');
    source = await ostreeImageFixture();
    const nginx = await nginxRealBaseFixture();
    registry = await startTestRegistry({ auth: 'basic' });
    proxy = await startRegistryProxy(registry);
    await skopeoPush(registry, source.layout, 'ock', 'olcne/ock-ostree:1.33');
    await skopeoPush(registry, nginx.layout, nginx.tag, 'ocne/nginx:1.22');
    osRegistry = `ostree-unverified-registry:${proxy.host}/olcne/ock-ostree`;
    baseImage = `${proxy.host}/ocne/nginx:1.22`;
    // What a user does once: trust the registry's CA and log in.
    const certs = join(home, '.config', 'containers', 'certs.d', proxy.host);
    await mkdir(certs, { recursive: true });
    await copyFile(registry.pki.caPath, join(certs, 'ca.crt'));
    await mkdir(join(home, '.docker'), { recursive: true });
    const auth = JSON.parse(await readFile(registry.authFile, 'utf8')) as { auths: Record<string, unknown> };
    await writeFile(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { [proxy.host]: Object.values(auth.auths)[0] } }),
    );

    result = await createOstreeImage({
      kubernetesVersion: '1.33',
      arch: 'amd64',
      osRegistry,
      baseImage,
      home,
    });
    const layout = join(work, 'unpacked-layout');
    await tool('skopeo', ['copy', '--quiet', `oci-archive:${result.path}`, `oci:${layout}:server`]);
    await tool('umoci', ['unpack', '--image', `${layout}:server`, join(work, 'bundle')]);
    rootfs = join(work, 'bundle', 'rootfs');
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pulls both images from the registry into the cache, as upstream names them', async () => {
    const gets = (repository: string, kind: string) =>
      proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v2/${repository}/${kind}/`));
    expect(gets('olcne/ock-ostree', 'manifests').length).toBeGreaterThan(0);
    expect(gets('olcne/ock-ostree', 'blobs').length).toBe(source.diffIds.length + 1);
    expect(gets('ocne/nginx', 'manifests').length).toBeGreaterThan(0);
    expect(gets('ocne/nginx', 'blobs').length).toBe(2);
    for (const reference of [`${proxy.host}/olcne/ock-ostree:1.33`, baseImage]) {
      const manifest = await readFile(join(imageCacheDirectory(home, reference), 'manifest.json'), 'utf8');
      expect(JSON.parse(manifest).layers.length).toBeGreaterThan(0);
    }
    expect(result.path).toBe(join(home, '.ocne', 'images', 'ock-1.33-amd64-ostree.tar'));
  });

  it('is an oci-archive skopeo accepts: the base layer, the repository layer, nginx as command', async () => {
    const inspect = JSON.parse(await tool('skopeo', ['inspect', `oci-archive:${result.path}`]));
    expect(inspect.Layers).toHaveLength(2);
    expect(inspect.Digest).toBe(result.manifestDigest);
    const config = JSON.parse(await tool('skopeo', ['inspect', '--config', `oci-archive:${result.path}`]));
    expect(config.config.Cmd).toEqual(['nginx', '-g', 'daemon off;']);
    expect(Object.keys(config.config.ExposedPorts).sort()).toEqual(['443/tcp', '80/tcp']);
    expect(config.config.Labels.fixture).toBe('nginx-real');
  });

  it('serves a repository that passes ostree fsck with the commit of the pushed image', async () => {
    const repo = join(rootfs, 'usr', 'share', 'nginx', 'html', 'ostree');
    expect(await tool('ostree', ['fsck', `--repo=${repo}`])).toContain('no errors found');
    expect((await tool('ostree', ['rev-parse', `--repo=${repo}`, 'ock'])).trim()).toBe(source.commit);
    expect(result.commit).toBe(source.commit);
    const mine = await tool('ostree', ['ls', '-R', '-X', `--repo=${repo}`, 'ock']);
    expect(mine).toBe(await tool('ostree', ['ls', '-R', '-X', `--repo=${source.sourceRepo}`, 'ock']));
  });

  it("runs: the image's own nginx serves the commit to ostree pull over HTTP", async () => {
    const nginx = await startRootfsNginx(rootfs);
    try {
      const pulled = await pullOverHttp(nginx.url, join(work, 'client'));
      expect(pulled.commit).toBe(source.commit);
      expect(pulled.fsck).toContain('no errors found');
    } finally {
      await nginx.stop();
    }
  });
});
