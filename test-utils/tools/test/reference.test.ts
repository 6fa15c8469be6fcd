// The pins of test-utils/tools/versions.json are the only versions: scripts/test-tools.sh builds
// each tool at its pinned version and names none itself; the reference files kept in this package
// are the upstream bytes versions.json says they are; referenceSchema finds the fetched and the
// kept files and refuses a module nothing pins.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REFERENCE_SCHEMAS, referenceSchema, TOOL_VERSIONS } from '../src/index.ts';
import pins from '../versions.json' with { type: 'json' };

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '../../..');
const KEPT = join(here, '../reference');

/** The id git gives a file's content (`git hash-object`). */

describe('reference pins', () => {
  it('scripts/test-tools.sh builds every pinned tool at its pinned version, naming no version itself', () => {
    const script = readFileSync(join(ROOT, 'scripts/test-tools.sh'), 'utf8');
    const builds = script.split('\n').filter((line) => line.startsWith('build '));
    expect(builds.map((line) => line.split(' ')[1])).toEqual(Object.keys(TOOL_VERSIONS));
    for (const line of builds) {
      const name = line.split(' ')[1];
      expect(line).toContain(`"$(version_of ${name})"`);
      expect(line).not.toMatch(/\bv\d+\.\d+/);
    }
  });

  it('the kept files are the ones versions.json names, unchanged, structure without upstream prose', () => {
    for (const [module, files] of Object.entries(pins.keptSchemas)) {
      for (const [path, sha256] of Object.entries(files)) {
        const bytes = readFileSync(join(KEPT, module, path));
        expect({ path, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ path, sha256 });
        // No `description: <text>` anywhere (a property named description is a field, and stays).
        const prose: string[] = [];
        const walk = (value: unknown, at: string): void => {
          if (Array.isArray(value)) {
            for (const [i, v] of value.entries()) walk(v, `${at}[${i}]`);
          } else if (value !== null && typeof value === 'object')
            for (const [k, v] of Object.entries(value)) {
              if (k === 'description' && typeof v === 'string') prose.push(at);
              else walk(v, `${at}.${k}`);
            }
        };
        for (const doc of parseAllDocuments(bytes.toString('utf8'))) walk(doc.toJS(), path);
        expect(prose).toEqual([]);
      }
      const present = (readdirSync(join(KEPT, module), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))
        .sort();
      expect(present).toEqual(Object.keys(files).sort());
    }
  });

  it('referenceSchema finds fetched and kept files and refuses what nothing pins', () => {
    const crd = 'config/crd/bases/cluster.x-k8s.io_clusters.yaml';
    expect(referenceSchema('sigs.k8s.io/cluster-api@v1.9.9', crd)).toBe(
      join(REFERENCE_SCHEMAS, 'sigs.k8s.io/cluster-api@v1.9.9', crd),
    );
    const oci = 'config/crd/bases/infrastructure.cluster.x-k8s.io_ociclusters.yaml';
    expect(referenceSchema('github.com/oracle/cluster-api-provider-oci@v0.21.0', oci)).toBe(
      join(KEPT, 'github.com/oracle/cluster-api-provider-oci@v0.21.0', oci),
    );
    expect(() => referenceSchema('sigs.k8s.io/cluster-api@v1.8.0', crd)).toThrow(
      'sigs.k8s.io/cluster-api@v1.8.0 is not a reference module pinned in test-utils/tools/versions.json',
    );
    expect(() => referenceSchema('sigs.k8s.io/cluster-api@v1.9.9', 'docs/book/README.md')).toThrow(
      'add its folder to sigs.k8s.io/cluster-api@v1.9.9 in test-utils/tools/versions.json',
    );
  });
});
