// `createImage` end to end from a real registry: the generated OCK image is pushed with skopeo to
// docker-registry on 127.0.0.1 (TLS from a test CA, Basic auth), and createImage gets it with its
// default pull, as a user's machine would: the CA in the home's containers certs.d folder, the
// credentials in ~/.docker/config.json. The result has exactly upstream's edits; a second create
// reuses the cached image without fetching a blob again.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createImage } from '@ocne/image';
import {
  type RegistryProxy,
  startRegistryProxy,
  startTestRegistry,
  type TestRegistry,
} from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectUpstreamOciEdits,
  type Fixture,
  fixedUuids,
  KERNEL_ARGS,
  makeFixture,
} from '../helpers/oci-create.js';
import { skopeoPush } from './fixtures.ts';

describe('createImage from a registry with TLS and authentication', { timeout: 180_000 }, () => {
  let fixture: Fixture;
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  beforeAll(async () => {
    fixture = await makeFixture();
    registry = await startTestRegistry({ auth: 'basic' });
    proxy = await startRegistryProxy(registry);
    await skopeoPush(registry, fixture.oci, '1.33', 'olcne/ock:1.33');
    // What a user does once: trust the registry's CA and log in.
    const certs = join(fixture.home, '.config', 'containers', 'certs.d', proxy.host);
    await mkdir(certs, { recursive: true });
    await copyFile(registry.pki.caPath, join(certs, 'ca.crt'));
    await mkdir(join(fixture.home, '.docker'), { recursive: true });
    const auth = JSON.parse(await readFile(registry.authFile, 'utf8')) as { auths: Record<string, unknown> };
    const byProxy = { auths: { [proxy.host]: Object.values(auth.auths)[0] } };
    await writeFile(join(fixture.home, '.docker', 'config.json'), JSON.stringify(byProxy));
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    await fixture?.cleanup();
  });

  it('pulls the OCK image, makes the oci image, and the second create fetches no blob', async () => {
    const options = {
      type: 'oci' as const,
      arch: 'amd64' as const,
      kubernetesVersion: '1.33',
      kernelArguments: KERNEL_ARGS,
      bootVolumeContainerImage: `${proxy.host}/olcne/ock`,
      editor: 'loop' as const,
      home: fixture.home,
    };
    const first = createImage({ ...options, randomUuid: fixedUuids() });
    const result = await first;
    await expectUpstreamOciEdits(fixture.original, result.path);
    const blobGets = () =>
      proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).length;
    const fetched = blobGets();
    expect(fetched).toBeGreaterThan(0);
    expect(first.events.some((e) => e.type === 'progress' && e.transferredBytes > 0)).toBe(true);

    const second = await createImage({ ...options, randomUuid: fixedUuids() });
    await expectUpstreamOciEdits(fixture.original, second.path);
    expect(blobGets()).toBe(fetched);
  });

  it('wrong credentials are a typed error naming the registry, and nothing is written', async () => {
    const home = join(fixture.home, 'other');
    await mkdir(join(home, '.docker'), { recursive: true });
    const certs = join(home, '.config', 'containers', 'certs.d', proxy.host);
    await mkdir(certs, { recursive: true });
    await copyFile(registry.pki.caPath, join(certs, 'ca.crt'));
    const wrong = Buffer.from(`${registry.username}:not-the-password`).toString('base64');
    await writeFile(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { [proxy.host]: { auth: wrong } } }),
    );
    const error = await createImage({
      kubernetesVersion: '1.33',
      bootVolumeContainerImage: `${proxy.host}/olcne/ock`,
      editor: 'loop',
      home,
    })
      .promise()
      .catch((e: unknown) => e as { code: string; message: string });
    expect(error).toMatchObject({ code: 'OCNE_REGISTRY_AUTH_FAILED' });
    expect((error as { message: string }).message).toContain(proxy.host);
  });
});
