// `import('@ocne/config')` must stay light: no OCI SDK, no Kubernetes client, nothing native.
// A real Node process imports the package and reports every module it resolved.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function modulesLoadedBy(specifier: string): string[] {
  const out = execFileSync(process.execPath, [join(here, 'fixtures/module-graph.mjs'), specifier], {
    cwd: here,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('module graph of @ocne/config', () => {
  const modules = modulesLoadedBy('@ocne/config');

  it('loads the package from source and its one dependency', () => {
    expect(modules.some((m) => m.endsWith('/packages/config/src/index.ts'))).toBe(true);
    expect(modules.some((m) => m.includes('/node_modules/yaml/'))).toBe(true);
  });

  it('loads neither oci-* nor @kubernetes/client-node, nor any other third-party package', () => {
    const thirdParty = new Set(
      modules
        .filter((m) => m.includes('/node_modules/'))
        .map((m) => /^((?:@[^/]+\/)?[^/]+)/.exec(m.split('/node_modules/').at(-1) ?? '')?.[1]),
    );
    expect([...thirdParty]).toEqual(['yaml']);
    expect(modules.filter((m) => /oci-|@kubernetes|libvirt/.test(m))).toEqual([]);
  });
});
