// imageUploadOci (what `ocne image upload --type oci` runs) with a CLI context, against the OCI
// API server, pointed at it as a user would point the CLI at an endpoint: OCI_CONFIG_FILE and
// OCNE_OCI_ENDPOINT in the environment, the compartment by path.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type OciApiServer, readTarGz, startOciApiServer } from '@ocne/test-oci-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { imageUploadOci } from '../src/commands/image-upload-oci.js';
import { CliContext } from '../src/context.js';

const home = mkdtempSync(join(tmpdir(), 'ocne-image-upload-oci-'));
let server: OciApiServer;
let env: Record<string, string>;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  server = await startOciApiServer({ importDurationMs: 100 });
  env = {
    HOME: home,
    OCI_CONFIG_FILE: await server.writeConfig(join(home, 'oci'), { profile: 'WORK' }),
    OCNE_OCI_ENDPOINT: server.url,
  };
});
afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

function context(): { context: CliContext; stderr: () => string } {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  const context = new CliContext({
    stdin: undefined,
    stdout: new PassThrough(),
    stderr,
    env,
    tty: false,
    signal: undefined,
  });
  return { context, stderr: () => Buffer.concat(chunks).toString() };
}

describe('image upload --type oci', { timeout: 60_000 }, () => {
  it('uploads and imports the image, logging its OCID', async () => {
    const compartmentId = server.model.addCompartmentPath('ocne/images');
    const file = join(home, 'boot.qcow2-1.33-arm64.oci');
    writeFileSync(`${file}.raw`, randomBytes(3 * 2 ** 20));
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', `${file}.raw`, file]);
    const { context: cli, stderr } = context();
    await imageUploadOci(cli, { file, arch: 'arm64', compartment: 'ocne/images', profile: 'WORK' });
    const [image] = [...server.model.images.values()];
    expect(image).toMatchObject({
      compartmentId,
      displayName: 'ock',
      lifecycleState: 'AVAILABLE',
      freeformTags: { 'ocne/architecture': 'arm64', 'ocne/kubernetes': '1.33' },
    });
    expect(stderr()).toContain(`Image OCID is ${image?.id}`);
    const object = server.storage.object(server.namespace, 'ocne-images', 'ocne_boot.qcow2-1.33-arm64.oci');
    expect((await readTarGz(object.file)).map((e) => e.name)).toEqual([
      'output.QCOW2',
      'image_metadata.json',
    ]);
  });

  it('takes the compartment from the configuration and refuses a bad architecture', async () => {
    const { context: cli } = context();
    await expect(imageUploadOci(cli, { file: 'x', arch: 'x86' })).rejects.toMatchObject({
      code: 'OCNE_USAGE',
    });
    const config = join(home, 'cluster.yaml');
    writeFileSync(config, 'provider: oci\nname: c\nproviders:\n  oci:\n    compartment: missing/level\n');
    const file = join(home, 'boot.qcow2-1.33-arm64.oci');
    await expect(imageUploadOci(cli, { file, arch: 'arm64', config, profile: 'WORK' })).rejects.toMatchObject(
      {
        code: 'OCNE_OCI_COMPARTMENT_NOT_FOUND',
      },
    );
  });
});
