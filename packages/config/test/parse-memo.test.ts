// The parse memo (`@ocne/core`, turned on by the CLI) under the configuration reader: for hostile
// files and the examples, `loadConfig` with the memo, on its first read (computed) and its second
// (from the memo), gives what it gives without it: the same configuration, provenance and
// warnings, object for object, or the same error.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigIssue, loadConfig, type ResolvedConfig } from '@ocne/config';
import { enableParseMemo } from '@ocne/core';
import { hostileInput, sameValue } from '@ocne/test-hostile';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'ocne-parse-memo-'));
const home = join(work, 'home');
const path = join(work, 'config.yaml');
let memoRuns = 0;
afterEach(() => enableParseMemo(undefined));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Outcome = { ok: unknown } | { error: unknown };

/** What a user can see of a load: the values, where they came from, the warnings; or the error. */
async function outcome(asDefaults: boolean, overrides?: Record<string, unknown>): Promise<Outcome> {
  try {
    const r: ResolvedConfig = await loadConfig({
      ...(asDefaults ? { home, defaults: path } : { home, configPath: path }),
      ...(overrides ? { overrides, configOverrides: overrides } : {}),
    });
    return {
      ok: {
        cluster: r.cluster,
        defaults: r.defaults,
        warnings: r.warnings,
        provenance: r.provenance.entries(),
        defaultsProvenance: r.defaultsProvenance.entries(),
        layers: r.layers,
      },
    };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown; issues?: readonly ConfigIssue[] };
    return { error: { code: e.code, message: e.message, issues: e.issues } };
  }
}

async function compare(
  bytes: Uint8Array,
  asDefaults: boolean,
  overrides?: Record<string, unknown>,
): Promise<void> {
  writeFileSync(path, bytes);
  const without = await outcome(asDefaults, overrides);
  enableParseMemo({ directory: join(work, `memo-${memoRuns++}`), codeId: 'test' });
  const computed = await outcome(asDefaults, overrides);
  const remembered = await outcome(asDefaults, overrides);
  enableParseMemo(undefined);
  expect(sameValue(computed, without), 'the first read with the memo').toBe(true);
  expect(sameValue(remembered, without), 'the read from the memo').toBe(true);
}

describe('loadConfig with the parse memo', () => {
  it('reads hostile files as it does without it', async () => {
    await fc.assert(
      fc.asyncProperty(hostileInput, fc.boolean(), async (input, asDefaults) => {
        await compare(input.bytes, asDefaults);
      }),
      { numRuns: 300 },
    );
  });

  it('layers override objects as it does without it (object layers and merges are memoized too)', async () => {
    const byo = readFileSync(join(import.meta.dirname, '../../../examples/byo/byo.yaml'));
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
    const overrides = fc.dictionary(
      fc.constantFrom(
        'name',
        'proxy',
        'workerNodes',
        'virtualIp',
        'kubernetesVersion',
        '__proto__',
        'extra',
        'providers',
      ),
      fc.oneof(value, fc.dictionary(fc.constantFrom('httpsProxy', 'byo', 'x', '__proto__'), value)),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(overrides, async (o) => {
        await compare(byo, false, o);
      }),
      { numRuns: 150 },
    );
  });

  it('reads the examples as it does without it', async () => {
    for (const example of ['examples/byo/byo.yaml', 'examples/oci/capi.yaml']) {
      await compare(readFileSync(join(import.meta.dirname, '../../..', example)), false);
    }
  });

  it('serves the second read from the memo, and a changed file from the file', async () => {
    const directory = join(work, 'served');
    enableParseMemo({ directory, codeId: 'test' });
    writeFileSync(path, 'name: first\nprovider: libvirt\n');
    expect((await loadConfig({ home, configPath: path })).cluster.name).toBe('first');
    // What the memo holds is what the next read of the same text gets: change it to see that.
    for (const entry of readdirSync(directory)) {
      const file = join(directory, entry);
      writeFileSync(file, readFileSync(file, 'utf8').replaceAll('"first"', '"from-memo"'));
    }
    expect((await loadConfig({ home, configPath: path })).cluster.name).toBe('from-memo');
    writeFileSync(path, 'name: second\nprovider: libvirt\n');
    expect((await loadConfig({ home, configPath: path })).cluster.name).toBe('second');
  });
});
