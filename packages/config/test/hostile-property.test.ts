/**
 * The property behind issue 12: for hostile YAML (merge keys, aliases and anchors in every
 * position, prototype keys, deep nesting, huge scalars, bytes that are not UTF-8; see
 * `@ocne/test-hostile`), `loadConfig` resolves or rejects with an `OcneError`, within a second per
 * input, with a bounded number of issues and messages of bounded length. `bench/fuzz.ts` runs
 * the same generator 10,000 times, each input in a worker it can stop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_LIMITS, type ConfigIssue, loadConfig } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { type HostileInput, hostileInput } from '@ocne/test-hostile';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

// At least 2,000 runs in `npm test`; OCNE_HOSTILE_RUNS raises them for a longer search.
const NUM_RUNS = Math.max(2_000, Number(process.env.OCNE_HOSTILE_RUNS ?? 2_000));
const PER_INPUT_MS = 1_000;

const home = mkdtempSync(join(tmpdir(), 'ocne-hostile-property-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const path = join(home, 'config.yaml');

/** Lines of the bytes as YAML counts them (CR, LF and CRLF each end one). */
function lineCount(bytes: Uint8Array): number {
  let lines = 1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) lines++;
  }
  return lines;
}

/** What is wrong with the outcome of one load, or `undefined`. */
function problem(input: HostileInput, error: unknown, ms: number): string | undefined {
  if (ms > PER_INPUT_MS) return `took ${ms.toFixed(0)} ms`;
  if (error === undefined) return undefined;
  if (!isOcneError(error)) {
    return `rejected with something other than an OcneError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  const issues = (error as { issues?: readonly ConfigIssue[] }).issues ?? [];
  if (issues.length > CONFIG_LIMITS.maxIssues + 2) return `${issues.length} issues listed`;
  if (error.message.includes('    at ')) return `a stack trace in the message: ${error.message}`;
  const max = lineCount(input.bytes) + 1;
  for (const issue of issues) {
    if (issue.message.length > 1_000) return `a message of ${issue.message.length} characters`;
    if ((issue.path?.length ?? 0) > 4 * CONFIG_LIMITS.maxEcho)
      return `a path of ${issue.path?.length} characters`;
    if (issue.line !== undefined && !(issue.line >= 1 && issue.line <= max)) {
      return `line ${issue.line} outside 1..${max}: ${JSON.stringify(issue)}`;
    }
  }
  return undefined;
}

async function check(input: HostileInput, asDefaults: boolean): Promise<void> {
  writeFileSync(path, input.bytes);
  const started = performance.now();
  let error: unknown;
  let warnings: readonly ConfigIssue[] = [];
  try {
    const result = await (asDefaults
      ? loadConfig({ defaults: path, config: { provider: 'libvirt' }, home, env: {} })
      : loadConfig({ configPath: path, defaults: false, home, env: {} }));
    warnings = result.warnings;
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  const p =
    problem(input, error, ms) ??
    (warnings.length > 4 * (CONFIG_LIMITS.maxIssues + 1) ? `${warnings.length} warnings` : undefined);
  const shown = new TextDecoder().decode(input.bytes.subarray(0, 300));
  expect(
    p,
    `${input.kind}, ${input.bytes.length} bytes, as the ${asDefaults ? 'defaults' : 'cluster'} file: ${JSON.stringify(shown)}`,
  ).toBeUndefined();
}

describe('hostile configuration files', () => {
  it('the checker catches other exceptions, slow loads and unbounded output', () => {
    const input = { kind: 'test', bytes: new TextEncoder().encode('a: 1\n') };
    expect(problem(input, undefined, 5)).toBeUndefined();
    expect(problem(input, new RangeError('Maximum call stack size exceeded'), 5)).toMatch(
      /other than an OcneError/,
    );
    expect(problem(input, undefined, 1_500)).toMatch(/took 1500 ms/);
  });

  it(
    `loadConfig resolves or throws an OcneError within ${PER_INPUT_MS} ms, ${NUM_RUNS} inputs`,
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileInput, fc.nat(3), (input, n) => check(input, n === 3)),
        {
          numRuns: NUM_RUNS,
        },
      );
    },
    Math.max(300_000, NUM_RUNS * 150),
  );
});
