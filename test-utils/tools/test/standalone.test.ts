// The repository stands alone: a fresh clone has nothing beside it, so no tracked file of
// scripts/, packages/ or test-utils/ may name a path that leaves the repository, such as the
// `shared/` folder the reference schemas once came from (they now come from their Go modules,
// through scripts/test-tools.sh). Grep-like, on the text of each file: a comment that points
// there is as wrong as code that reads it, since both send a reader to a folder they do not have.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A `../` chain at the start of a path (not inside one, as in `a/../b`). */
const CHAIN = /(?<![\w./-])((?:\.\.\/)+)/g;
/** Two dots, then `shared` as a path or as `join` arguments: a folder beside the checkout. */
const SHARED = /\.\.(?:[\\/]|['"`]\s*,\s*['"`])shared\b/;

/** Where a file (path relative to `root`) names a path outside `root`: `line N: why` each. */
function escapes(root: string, file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    const at = `${file}:${index + 1}`;
    if (SHARED.test(line)) found.push(`${at} reaches for a shared/ folder beside the repository`);
    for (const match of line.matchAll(CHAIN)) {
      const rel = relative(root, join(root, dirname(file), match[1]!));
      if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
        found.push(`${at} climbs out of the repository with '${match[1]}'`);
    }
  });
  return found;
}

/** The tracked files below the folders checked, as git lists them. */
function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', 'scripts', 'packages', 'test-utils'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\0').filter((f) => f !== '');
}

describe('the repository stands alone', () => {
  it('no tracked file of scripts/, packages/ or test-utils/ names a path outside it', () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((file) => {
      const bytes = readFileSync(join(ROOT, file));
      return bytes.includes(0) ? [] : escapes(ROOT, file, bytes.toString('utf8'));
    });
    expect(found).toEqual([]);
  });

  it('catches each way of leaving, and lets paths inside the repository be', () => {
    const up = '..';
    const text = [
      `export const SCHEMAS = join(here, '${up}/${up}/${up}/${up}/shared/schemas');`,
      `const s = join(here, '${up}', 'shared', 'schemas');`,
      `// see (${up}/shared/schemas/kubeadm-notes.md)`,
      `const examples = join(here, '${up}/${up}/${up}/examples');`,
      `local: configs/${up}/${up}/${up}/elsewhere.ts`,
    ].join('\n');
    expect(escapes('/repo', 'packages/capi/scripts/crds.ts', text)).toEqual([
      'packages/capi/scripts/crds.ts:1 reaches for a shared/ folder beside the repository',
      `packages/capi/scripts/crds.ts:1 climbs out of the repository with '${up}/${up}/${up}/${up}/'`,
      'packages/capi/scripts/crds.ts:2 reaches for a shared/ folder beside the repository',
      'packages/capi/scripts/crds.ts:3 reaches for a shared/ folder beside the repository',
    ]);
  });
});
