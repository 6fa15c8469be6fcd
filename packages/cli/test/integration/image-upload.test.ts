// `ocne image upload` against the real registry: the user's containers files are what it reads
// (credentials from REGISTRY_AUTH_FILE, the CA from ~/.config/containers/certs.d/<host>/), skopeo
// sees the pushed image, and failures end with upstream's exit codes and a typed error.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestRegistry, type TestRegistry } from '@ocne/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocneInProcess } from './in-process.ts';

const run = promisify(execFile);
let work: string;
let home: string;
let archive: string;
let registry: TestRegistry;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-cli-upload-'));
  const layout = join(work, 'layout');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:t`]);
  archive = join(work, 'ock-1.33-amd64-ostree.tar');
  await run('skopeo', ['copy', `oci:${layout}:t`, `oci-archive:${archive}`]);
  registry = await startTestRegistry({ auth: 'basic' });
  home = join(work, 'home');
  await mkdir(join(home, '.config/containers/certs.d', registry.host), { recursive: true });
  await writeFile(join(home, '.config/containers/certs.d', registry.host, 'ca.crt'), registry.pki.ca);
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const ocne = (argv: string[], env: Record<string, string> = {}) =>
  ocneInProcess(argv, { HOME: home, REGISTRY_AUTH_FILE: registry.authFile, ...env });

/** `image upload --type ostree` of the archive to `destination`, for amd64. */
const uploadArgs = (destination: string): string[] => [
  'image',
  'upload',
  '-t',
  'ostree',
  '-f',
  archive,
  '-d',
  destination,
  '-a',
  'amd64',
];

describe('ocne image upload', () => {
  it('pushes the oci-archive of --file to the --destination registry', async () => {
    const destination = `docker://${registry.host}/ocne/ock-ostree:1.33`;
    const { code, stderr } = await ocne(uploadArgs(destination));
    expect(stderr).toContain('Uploaded');
    expect(code).toBe(0);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--cert-dir',
      registry.certDir,
      '--creds',
      `${registry.username}:${registry.password}`,
      destination,
    ]);
    expect(stderr).toContain(JSON.parse(stdout).Digest);
  });

  it('ends with exit 1 and the typed error for wrong credentials', async () => {
    const authFile = join(work, 'wrong-auth.json');
    await writeFile(
      authFile,
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('ocne:wrong').toString('base64') } } }),
    );
    const { code, stderr } = await ocne(
      ['--log-format', 'json', ...uploadArgs(`docker://${registry.host}/ocne/x:1`)],
      { REGISTRY_AUTH_FILE: authFile },
    );
    expect(code).toBe(1);
    const error = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; code?: string; message?: string })
      .find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'OCNE_REGISTRY_AUTH_FAILED' });
    expect(error?.message).toContain(registry.host);
  });

  it('refuses missing or wrong flags as usage errors (exit 2), and --type olvm as not available (exit 1)', async () => {
    expect(
      (await ocne(['image', 'upload', '-t', 'ostree', '-f', archive, '-d', 'docker://h.io/x'])).code,
    ).toBe(2);
    expect(
      (await ocne(['image', 'upload', '-t', 'ostree', '-f', archive, '-a', 'x86', '-d', 'docker://h.io/x']))
        .code,
    ).toBe(2);
    expect((await ocne(['image', 'upload', '-t', 'ostree', '-f', archive, '-a', 'amd64'])).code).toBe(2);
    const olvm = await ocne([
      '--log-format',
      'json',
      'image',
      'upload',
      '-t',
      'olvm',
      '-f',
      archive,
      '-a',
      'amd64',
    ]);
    expect(olvm.code).toBe(1);
    expect(olvm.stderr).toContain('OCNE_IMAGE_UPLOAD_UNAVAILABLE');
    // --type oci (the default) goes to Oracle Cloud: without a compartment it stops before any request.
    const oci = await ocne(['--log-format', 'json', 'image', 'upload', '-f', archive, '-a', 'amd64']);
    expect(oci.code).toBe(1);
    expect(oci.stderr).not.toContain('OCNE_IMAGE_UPLOAD_UNAVAILABLE');
    expect(oci.stderr).toMatch(/"code":"OCNE_(OCI|CONFIG)_[A-Z_]+"/);
  });
});
