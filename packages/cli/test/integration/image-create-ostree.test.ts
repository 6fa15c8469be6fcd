// `ocne image create --type ostree` against the real registry, nothing cached: the ostree-ext image
// (F2) and a base image with a real nginx (F4) are in docker-registry (TLS, Basic auth); the
// configuration's osRegistry names the first (as upstream reads it), --base-image the second. Both
// are pulled with the user's containers files, and the archive lands where upstream saves it.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nginxRealBaseFixture, type OstreeImageFixture, ostreeImageFixture } from '@ocne/test-ostree';
import { startTestRegistry, type TestRegistry } from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocneInProcess } from './in-process.ts';

const run = promisify(execFile);
let work: string;
let home: string;
let registry: TestRegistry;
let source: OstreeImageFixture;

const push = (from: string, to: string) =>
  run('skopeo', [
    'copy',
    '--dest-cert-dir',
    registry.certDir,
    '--dest-creds',
    `${registry.username}:${registry.password}`,
    from,
    `docker://${registry.host}/${to}`,
  ]);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-cli-ostree-'));
  source = await ostreeImageFixture();
  const nginx = await nginxRealBaseFixture();
  registry = await startTestRegistry({ auth: 'basic' });
  await push(`oci:${source.layout}:ock`, 'olcne/ock-ostree:1.32');
  await push(`oci:${nginx.layout}:${nginx.tag}`, 'ocne/nginx:1.22');
  home = join(work, 'home');
  await mkdir(join(home, '.config/containers/certs.d', registry.host), { recursive: true });
  await writeFile(join(home, '.config/containers/certs.d', registry.host, 'ca.crt'), registry.pki.ca);
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const ocne = (argv: string[]) => ocneInProcess(argv, { HOME: home, REGISTRY_AUTH_FILE: registry.authFile });

describe('ocne image create --type ostree', { timeout: 180_000 }, () => {
  it("pulls the configuration's ostree image and --base-image, and saves the server image", async () => {
    const config = join(work, 'cluster.yaml');
    await writeFile(config, `osRegistry: ${registry.host}/olcne/ock-ostree\n`);
    const { code, stderr } = await ocne([
      'image',
      'create',
      '--type',
      'ostree',
      '--config',
      config,
      '-v',
      '1.32',
      '--base-image',
      `${registry.host}/ocne/nginx:1.22`,
    ]);
    const archive = join(home, '.ocne', 'images', 'ock-1.32-amd64-ostree.tar');
    expect(stderr).toContain(`Saved image to ${archive}`);
    expect(code).toBe(0);
    const { stdout } = await run('skopeo', ['inspect', '--config', `oci-archive:${archive}`]);
    const image = JSON.parse(stdout) as { config: { Cmd: string[]; Labels: Record<string, string> } };
    expect(image.config.Cmd).toEqual(['nginx', '-g', 'daemon off;']);
    expect(image.config.Labels.fixture).toBe('nginx-real');
    const repo = join(work, 'repo');
    // The served repository holds the pushed commit under `ock`.
    await mkdir(repo);
    const layout = join(work, 'layout');
    await run('skopeo', ['copy', `oci-archive:${archive}`, `oci:${layout}:s`]);
    await run('umoci', ['raw', 'unpack', '--image', `${layout}:s`, join(repo, 'rootfs')]);
    const served = join(repo, 'rootfs', 'usr/share/nginx/html/ostree');
    const { stdout: commit } = await run('ostree', ['rev-parse', `--repo=${served}`, 'ock']);
    expect(commit.trim()).toBe(source.commit);
  });

  it('says which image is missing when the base image is not in the registry', async () => {
    const { code, stderr } = await ocne([
      'image',
      'create',
      '--type',
      'ostree',
      '-v',
      '1.32',
      '--base-image',
      `${registry.host}/ocne/no-such-nginx:1`,
      '--config',
      join(work, 'cluster.yaml'),
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('no-such-nginx');
  });
});
