// A BYO start through the facade loads neither the OCI SDK, nor libvirt bindings, nor the
// Kubernetes client: checked in a real Node process that records every module it resolves.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

describe('module graph of a BYO start', () => {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      join(root, 'scripts/source-hooks.mjs'),
      join(here, 'fixtures/byo-start-modules.ts'),
      join(root, 'examples/byo/byo.yaml'),
    ],
    { encoding: 'utf8' },
  );
  const modules = JSON.parse(out) as string[];
  const packages = new Set(
    modules
      .filter((m) => m.includes('/node_modules/'))
      .map((m) => /^((?:@[^/]+\/)?[^/]+)/.exec(m.split('/node_modules/').at(-1) ?? '')?.[1]),
  );

  it('loads the byo provider from its own package, by name', () => {
    expect(modules.some((m) => m.endsWith('/packages/provider-byo/src/byo.ts'))).toBe(true);
    expect(modules.some((m) => m.endsWith('/packages/provider-byo/src/provider.ts'))).toBe(true);
  });

  it('loads no oci-*, @unraid/libvirt or @kubernetes/client-node module', () => {
    expect([...packages].filter((p) => p !== undefined && /^oci-|^@unraid\/|^@kubernetes\//.test(p))).toEqual(
      [],
    );
    // Only the YAML parser and the X.509 stack (for the cluster CA) are third-party here.
    const allowed = /^(yaml|@peculiar\/.*|asn1js|pvtsutils|pvutils|reflect-metadata|tslib|tsyringe)$/;
    expect([...packages].filter((p) => !allowed.test(p ?? ''))).toEqual([]);
    expect(packages.has('yaml') && packages.has('@peculiar/x509')).toBe(true);
  });
});

describe('module graph of an OCI template', () => {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      join(root, 'scripts/source-hooks.mjs'),
      join(here, 'fixtures/template-modules.ts'),
      join(root, 'examples/oci/capi.yaml'),
    ],
    { encoding: 'utf8' },
  );
  const modules = JSON.parse(out) as string[];

  it('renders from @ocne/capi/templates without loading a Kubernetes client, helm or the OCI SDK', () => {
    expect(modules.some((m) => m.endsWith('/packages/capi/src/templates.ts'))).toBe(true);
    expect(modules.some((m) => m.endsWith('/packages/capi/src/index.ts'))).toBe(false);
    expect(
      modules.filter(
        (m) => /node_modules\/(@kubernetes|oci-)/.test(m) || m.includes('/packages/kubernetes/'),
      ),
    ).toEqual([]);
  });
});
