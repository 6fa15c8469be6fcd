// The test registry is the real server with the authentication it claims: skopeo (containers/image,
// an independent client) pushes with the right credentials in Basic and Bearer-token mode, and is
// refused with wrong ones.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../src/index.ts';

const run = promisify(execFile);
let work: string;
let image: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-registry-test-'));
  // A tiny OCI image made by umoci: an empty layer and a config.
  image = join(work, 'image');
  await run('umoci', ['init', '--layout', image]);
  await run('umoci', ['new', '--image', `${image}:t`]);
  await writeFile(join(work, 'x'), 'x');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(['basic', 'token'] as const)('%s authentication', (auth) => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ auth });
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('lets skopeo push and inspect with the right credentials, over TLS with the test CA', async () => {
    const dest = `docker://${registry.host}/test/image:1`;
    const creds = `${registry.username}:${registry.password}`;
    await run('skopeo', [
      'copy',
      '--dest-cert-dir',
      registry.certDir,
      '--dest-creds',
      creds,
      `oci:${image}:t`,
      dest,
    ]);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--cert-dir',
      registry.certDir,
      '--creds',
      creds,
      dest,
    ]);
    expect(JSON.parse(stdout).Name).toBe(`${registry.host}/test/image`);
    expect(
      (await registry.requests()).some((r) => r.method === 'PUT' && r.uri.includes('/manifests/1')),
    ).toBe(true);
    if (auth === 'token') expect(registry.tokenServer?.requests.some((r) => r.status === 200)).toBe(true);
  });

  it('refuses wrong credentials', async () => {
    const dest = `docker://${registry.host}/test/image:1`;
    await expect(
      run('skopeo', [
        'inspect',
        '--cert-dir',
        registry.certDir,
        '--creds',
        `${registry.username}:wrong`,
        dest,
      ]),
    ).rejects.toThrow(/unauthorized|authentication required|401/i);
  });

  it('stops by PID', async () => {
    const pid = registry.pid;
    await registry.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    registry = await startTestRegistry({ auth });
  });
});
