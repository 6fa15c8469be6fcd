// Test helpers: the real references an Ignition config is checked against, and a normal form for
// comparing configs whatever data-URL encoding they chose.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testTool } from '@ocne/test-tools';
import ajvDraft04 from 'ajv-draft-04';
import { decodeDataUrl } from '../src/data-url.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The steering repository's reference schemas, next to the checkout. */
export const SCHEMAS: string = join(here, '../../../../shared/schemas');

const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
const validate34 = ajv.compile(
  JSON.parse(readFileSync(join(SCHEMAS, 'ignition/v3_4/ignition.json'), 'utf8')),
);

/** Errors of the Ignition 3.4 JSON Schema for a config, or [] when it validates. */
export function schemaErrors(config: unknown): string[] {
  return validate34(config) ? [] : (validate34.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Runs the real ignition-validate v2.23.0 on a config; returns its exit code and output. */
export function ignitionValidate(json: string): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ocne-ign-'));
  try {
    const file = join(dir, 'config.ign');
    writeFileSync(file, json);
    try {
      const out = execFileSync(testTool('ignition-validate'), [file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { status: 0, output: out };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { status: e.status, output: `${e.stdout}${e.stderr}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A copy of a config with every data URL decoded to text (`contents.decoded`) and the encoding
 * fields (`source`, `compression`) removed, so two configs compare by meaning.
 */
export function decoded(config: unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.source === 'string' && o.source.startsWith('data:')) {
      const { source, compression, ...rest } = o;
      const bytes = decodeDataUrl(source as string, compression as string | null | undefined)!;
      return { ...(walk(rest) as object), decoded: Buffer.from(bytes).toString('utf8') };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  return walk(config);
}
