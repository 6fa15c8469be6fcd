// `ocne cluster template` against Oracle Cloud (the OCI API server): a compartment path and no
// image OCIDs resolve through the real oci-* clients, pointed at the server the way a user points
// the CLI at an endpoint (OCI_CONFIG_FILE for the profile, OCNE_OCI_ENDPOINT for the URL); and a
// configuration with every OCID loads no OCI SDK at all.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OciApiServer, startOciApiServer } from '@ocne/test-oci-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { root, ocne as runOcne } from './cli-process.js';

const home = mkdtempSync(join(tmpdir(), 'ocne-template-oci-'));
let server: OciApiServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startOciApiServer({ pageSize: 2 });
  env = { OCI_CONFIG_FILE: await server.writeConfig(join(home, 'oci')), OCNE_OCI_ENDPOINT: server.url };
});
afterAll(async () => {
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

const imageIds = (yaml: string): string[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as { kind: string; spec: { template?: { spec?: { imageId?: string } } } })
    .filter((d) => d.kind === 'OCIMachineTemplate')
    .map((d) => d.spec.template?.spec?.imageId ?? '');

describe('ocne cluster template with Oracle Cloud lookups', () => {
  it('resolves a compartment path (past the first page) and the newest OCK images of both architectures', async () => {
    for (const name of ['a', 'b', 'c']) server.model.addCompartment(name);
    const dev = server.model.addCompartmentPath('ocne/dev');
    const tags = (arch: string) => ({ 'ocne/architecture': arch, 'ocne/kubernetes': '1.33' });
    server.model.addImage({
      compartmentId: dev,
      displayName: 'ock',
      freeformTags: tags('amd64'),
      timeCreated: '2026-01-01T00:00:00.000Z',
    });
    const amd = server.model.addImage({
      compartmentId: dev,
      displayName: 'ock',
      freeformTags: tags('amd64'),
      timeCreated: '2026-02-01T00:00:00.000Z',
    });
    const arm = server.model.addImage({
      compartmentId: dev,
      displayName: 'ock',
      freeformTags: tags('arm64'),
    });
    const path = join(home, 'path.yaml');
    writeFileSync(
      path,
      'provider: oci\nname: p\nkubernetesVersion: "1.33"\nproviders:\n  oci:\n    compartment: ocne/dev\n' +
        '',
    );
    const run = await runOcne(home, ['cluster', 'template', '-c', path], env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`compartmentId: ${dev}`);
    // The default control-plane shape is arm64 (A1), the workers' amd64 (E4).
    expect(imageIds(run.stdout)).toEqual([arm.id, amd.id]);
    expect(server.requests('ListImages').length).toBeGreaterThanOrEqual(2);
  });

  it('says which level of a path is missing', async () => {
    const path = join(home, 'missing.yaml');
    writeFileSync(path, 'provider: oci\nname: p\nproviders:\n  oci:\n    compartment: ocne/nope\n');
    const run = await runOcne(home, ['--log-format', 'json', 'cluster', 'template', '-c', path], env);
    expect(run.status).toBe(1);
    const error = JSON.parse(run.stderr.trim().split('\n').at(-1) ?? '{}');
    expect(error).toMatchObject({ type: 'error', code: 'OCNE_OCI_COMPARTMENT_NOT_FOUND' });
  });

  it('loads no OCI SDK module when the configuration has every OCID', () => {
    const loaded = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--import',
          join(root, 'scripts/source-hooks.mjs'),
          join(root, 'packages/cli/test/fixtures/loaded-modules.ts'),
          'cluster',
          'template',
          '-c',
          'examples/oci/capi.yaml',
        ],
        { encoding: 'utf8', cwd: root, env: { ...process.env, HOME: home } },
      ),
    ) as string[];
    expect(loaded.some((m) => m.includes('/packages/provider-oci/'))).toBe(true);
    expect(loaded.filter((m) => /\/oci-(common|core|identity|objectstorage|workrequests)\//.test(m))).toEqual(
      [],
    );
  }, 30_000);
});
