// `ocne image create` through the real process, with the generated OCK image in the cache of the
// home it runs with: upstream's log lines, the image at upstream's path, usage errors as upstream.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOckOciImage, generateOckDisk } from '@ocne/test-images';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocne as runOcne } from './cli-process.js';

const work = mkdtempSync(join(tmpdir(), 'ocne-image-cli-'));
const home = join(work, 'home');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ocne = (args: string[]) => runOcne(home, args);
const IMAGE = '127.0.0.1:9/olcne/ock';

describe('ocne image create', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const oci = join(work, 'oci');
    await buildOckOciImage({ disk: await generateOckDisk(), directory: oci });
    // The image's registry is loopback port 9, where nothing listens: the pull is refused at once and
    // the complete cached copy serves (a test never reaches a registry outside this machine).
    const cache = join(home, '.ocne', 'images', `docker:__${IMAGE.replaceAll('/', '_')}:1.33`);
    mkdirSync(cache, { recursive: true });
    await execa('skopeo', ['copy', '--quiet', `oci:${oci}:1.33`, `dir:${cache}`]);
  }, 120_000);

  it('creates the oci image from the cached OCK image and says where', async () => {
    const run = await ocne([
      'image',
      'create',
      '--editor',
      'loop',
      '-v',
      '1.33',
      '-K',
      'foo=bar',
      '--boot-volume-container-image',
      IMAGE,
    ]);
    const path = join(home, '.ocne', 'images', 'boot.qcow2-1.33-amd64.oci');
    expect(run.stderr).toContain('Creating Image');
    expect(run.stderr).toContain('Getting local boot image for architecture: amd64');
    expect(run.stderr).toContain(`New boot image was created successfully at ${path}`);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', path])).stdout) as {
      format: string;
    };
    expect(info.format).toBe('qcow2');
  });

  it('refuses a bad architecture as upstream does, and an image that is not cached', async () => {
    const arch = await ocne(['image', 'create', '--arch', 'x86']);
    expect(arch.status).toBe(2);
    expect(arch.stderr).toContain('Architecture must be one of: amd64, arm64');
    const missing = await ocne([
      'image',
      'create',
      '--editor',
      'loop',
      '-v',
      '1.32',
      '--boot-volume-container-image',
      IMAGE,
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('127.0.0.1:9');
    expect(existsSync(join(home, '.ocne', 'images', 'boot.qcow2-1.32-amd64.oci'))).toBe(false);
  });
});
