// The one catalogue of error codes: every `OCNE_` code the SDK's sources name is in it, every code
// in it is raised somewhere, and docs/errors.md lists each exactly once.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, isOcneErrorCode, OcneError } from '@ocne/core';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const catalogue = join(root, 'packages/core/src/codes.ts');

/** Names that look like codes but are environment variables. */
const ENVIRONMENT = new Set(['OCNE_DEFAULTS', 'OCNE_CATALOG', 'OCNE_HELM', 'OCNE_OCI_ENDPOINT']);

/** Every quoted `OCNE_…` name in a text, with its line. */
function codesIn(text: string): { code: string; line: number }[] {
  const found: { code: string; line: number }[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    for (const m of line.matchAll(/['"`](OCNE_[A-Z0-9_]+)['"`]/g))
      found.push({ code: m[1] as string, line: index + 1 });
  }
  return found;
}

function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && path !== catalogue) files.push(path);
    }
  };
  for (const pkg of readdirSync(join(root, 'packages'))) {
    try {
      walk(join(root, 'packages', pkg, 'src'));
    } catch {}
  }
  return files;
}

describe('the error-code catalogue', () => {
  const uses = sources().flatMap((file) =>
    codesIn(readFileSync(file, 'utf8')).map((u) => ({ ...u, file: relative(root, file) })),
  );

  it('has every code the sources name', () => {
    const unlisted = uses.filter((u) => !ENVIRONMENT.has(u.code) && !isOcneErrorCode(u.code));
    expect(unlisted.map((u) => `${u.file}:${u.line}: ${u.code}`)).toEqual([]);
  });

  it('a code missing from the catalogue is found, with its file and line', () => {
    expect(codesIn("ok\nthrow new OcneError('OCNE_NOT_A_CODE', 'x');")).toEqual([
      { code: 'OCNE_NOT_A_CODE', line: 2 },
    ]);
    expect(isOcneErrorCode('OCNE_NOT_A_CODE')).toBe(false);
    expect(isOcneErrorCode('toString')).toBe(false);
  });

  it('has no code that nothing raises', () => {
    const used = new Set(uses.map((u) => u.code));
    expect(Object.keys(ERROR_CODES).filter((code) => !used.has(code))).toEqual([]);
  });

  it('is what docs/errors.md lists, each code exactly once', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const listed = [...doc.matchAll(/^\| `(OCNE_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.length).toBe(new Set(listed).size);
    expect([...listed].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('types OcneError by it', () => {
    const error = new OcneError('OCNE_USAGE', 'no nodes');
    expect(ERROR_CODES[error.code].meaning).toMatch(/impossible/);
  });
});
