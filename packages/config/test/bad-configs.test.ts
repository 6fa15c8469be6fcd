/**
 * A corpus of bad configuration files (`fixtures/bad/NN-*.yaml`). Each file starts with header
 * comments that state how loading it must fail:
 *
 * - `# expect: <CODE> <line>:<column> [<path>]`: the code, location and YAML path of the first
 *   error. The location is `-` when the error has no position (a required value nobody set). No
 *   path means the error must have none (syntax errors, a top level that is not a mapping).
 * - `# as: defaults` (optional): load the file as the defaults file instead of the cluster file.
 * - `# with-defaults: <file>` (optional): load it as the cluster file over that defaults file,
 *   relative to the fixture (helpers live in `fixtures/bad/_defaults/`, which are not cases).
 * - `# secret: <text>` (optional): text that must appear nowhere in the error.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@ocne/config';
import { ERROR_CODES, isOcneError } from '@ocne/core';
import { afterAll, describe, expect, it } from 'vitest';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bad');
const CODES: readonly string[] = Object.entries(ERROR_CODES)
  .filter(([, info]) => info.area === '@ocne/config')
  // The files a configuration names are read later, by readConfigFiles (test/files.test.ts).
  .filter(([code]) => !/^OCNE_CONFIG_(FILE_|NOT_A_)/.test(code))
  .map(([code]) => code);

interface Expected {
  code: string;
  file: string;
  line: number | undefined;
  column: number | undefined;
  path: string | undefined;
}

interface Fixture {
  name: string;
  file: string;
  expected: Expected;
  as: 'cluster' | 'defaults';
  withDefaults: string | undefined;
  secret: string | undefined;
}

function readFixture(name: string): Fixture {
  const file = join(FIXTURES, name);
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const headers = new Map<string, string>();
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^# ([a-z-]+): (.*)$/.exec(line);
    if (m === null) break;
    if (headers.has(m[1]!)) throw new Error(`${name}: header "${m[1]}" given twice`);
    headers.set(m[1]!, m[2]!.trim());
  }
  const unknown = [...headers.keys()].filter((k) => !['expect', 'as', 'with-defaults', 'secret'].includes(k));
  if (unknown.length > 0) throw new Error(`${name}: unknown header ${unknown.join(', ')}`);
  if (!text.startsWith('# expect: ')) throw new Error(`${name}: the first line must be "# expect: ..."`);
  const m = /^(OCNE_[A-Z_]+) (?:(\d+):(\d+)|-)(?: (\S+))?$/.exec(headers.get('expect')!);
  if (m === null) throw new Error(`${name}: cannot read "# expect: ${headers.get('expect')}"`);
  if (!CODES.includes(m[1]!)) throw new Error(`${name}: ${m[1]} is not a config error code`);
  const as = headers.get('as') ?? 'cluster';
  if (as !== 'cluster' && as !== 'defaults') throw new Error(`${name}: "# as:" must be defaults or cluster`);
  const withDefaults = headers.get('with-defaults');
  if (withDefaults !== undefined && as === 'defaults')
    throw new Error(`${name}: with-defaults needs a cluster file`);
  return {
    name,
    file,
    expected: {
      code: m[1]!,
      file,
      line: m[2] === undefined ? undefined : Number(m[2]),
      column: m[3] === undefined ? undefined : Number(m[3]),
      path: m[4],
    },
    as,
    withDefaults: withDefaults === undefined ? undefined : resolve(dirname(file), withDefaults),
    secret: headers.get('secret'),
  };
}

const names = readdirSync(FIXTURES)
  .filter((n) => n.endsWith('.yaml'))
  .sort();
const fixtures: Fixture[] = names.map(readFixture);

const home = mkdtempSync(join(tmpdir(), 'ocne-bad-configs-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function load(f: Fixture): Promise<unknown> {
  if (f.as === 'defaults') return loadConfig({ defaults: f.file, config: { provider: 'libvirt' }, home });
  return loadConfig({ configPath: f.file, defaults: f.withDefaults ?? false, home });
}

/** The error loading rejects with, or a marker when loading succeeds. */
async function failure(f: Fixture): Promise<unknown> {
  try {
    await load(f);
  } catch (error) {
    return error;
  }
  return 'loading succeeded';
}

describe('the bad configuration corpus', () => {
  it('has at least 40 fixtures, named NN-description.yaml with distinct numbers', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    for (const n of names) expect(n).toMatch(/^\d{2,3}-[a-z0-9]+(-[a-z0-9]+)*\.yaml$/);
    const numbers = names.map((n) => n.split('-')[0]);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('covers every config error code that a file can cause', () => {
    const used = new Set(fixtures.map((f) => f.expected.code));
    for (const code of CODES.filter((c) => c !== 'OCNE_CONFIG_READ_FAILED')) expect(used).toContain(code);
  });
});

describe.each(fixtures)('$name', (f) => {
  it(`is rejected with ${f.expected.code} at ${f.expected.line ?? '-'}:${f.expected.column ?? '-'} ${f.expected.path ?? ''}`, async () => {
    const error = await failure(f);
    expect(isOcneError(error), `expected an OcneError, got ${String(error)}`).toBe(true);
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect({ code: e.code, file: e.file, line: e.line, column: e.column, path: e.path }).toEqual(f.expected);
  });

  it('reports issues without stack traces, each with the first error first', async () => {
    const error = await failure(f);
    expect(isOcneError(error), `expected an OcneError, got ${String(error)}`).toBe(true);
    const e = error as ConfigError;
    expect(e.message).not.toContain('    at ');
    expect(e.issues.length).toBeGreaterThan(0);
    expect(e.message).toContain(e.issues[0]!.message);
    expect(e.issues[0]).toMatchObject({ code: e.code, severity: 'error', file: e.file });
    for (const issue of e.issues) {
      expect(issue.message).not.toContain('    at ');
      expect(issue.message).not.toBe('');
      expect(issue.file).toBeTruthy();
    }
  });
});

const withSecrets = fixtures.filter((f) => f.secret !== undefined);

describe('secrets', () => {
  it('the corpus has a case with a secret', () => {
    expect(withSecrets.length).toBeGreaterThan(0);
  });

  it.each(withSecrets)('$name does not reveal the secret', async (f) => {
    const secret = f.secret!;
    const error = await failure(f);
    expect(isOcneError(error), `expected an OcneError, got ${String(error)}`).toBe(true);
    const e = error as ConfigError;
    expect(readFileSync(f.file, 'utf8')).toContain(secret);
    expect(e.message).not.toContain(secret);
    expect(String(e)).not.toContain(secret);
    expect(e.describe()).not.toContain(secret);
    expect(JSON.stringify(e.issues)).not.toContain(secret);
  });
});
