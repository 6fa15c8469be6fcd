// Test helpers shared by the tests of every package that makes Ignition configs: the real
// references a config is checked against, and a normal form for comparing configs whatever data-URL
// encoding they chose.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { referenceSchema, TOOL_VERSIONS, testTool } from '@ocne/test-tools';
import ajvDraft04 from 'ajv-draft-04';

// The schema of the same Ignition release as the ignition-validate the tests run.
const IGNITION_SCHEMA = referenceSchema(
  `github.com/coreos/ignition/v2@${TOOL_VERSIONS['ignition-validate']}`,
  'config/v3_4/schema/ignition.json',
);

const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
const validate34 = ajv.compile(JSON.parse(readFileSync(IGNITION_SCHEMA, 'utf8')));

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
 * The bytes of a `data:` URL (`;base64` or percent-escaped), gunzipped when `compression` is
 * `gzip`. Written here rather than taken from `@ocne/ignition`, whose own tests use this package:
 * it would otherwise depend on the package it tests, and check that package with its own decoder.
 */
function dataUrlBytes(source: string, compression: unknown): Buffer {
  const comma = source.indexOf(',');
  if (comma < 0) throw new TypeError(`not a data URL: ${source.slice(0, 40)}`);
  const data = source.slice(comma + 1);
  const raw = source.slice(0, comma).endsWith(';base64')
    ? Buffer.from(data, 'base64')
    : // Each %XX is one byte (not part of a UTF-8 sequence to decode as a whole); the rest is text.
      Buffer.concat(
        data
          .split(/(%[0-9A-Fa-f]{2})/)
          .map((part) =>
            /^%[0-9A-Fa-f]{2}$/.test(part) ? Buffer.from(part.slice(1), 'hex') : Buffer.from(part),
          ),
      );
  return compression === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * A copy of a config with every data URL replaced by `form` of the bytes it stands for
 * (`decoded`), and the encoding fields (`source`, `compression`) removed, so two configs compare
 * by meaning.
 */
export function decodedWith(config: unknown, form: (bytes: Buffer) => unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.source === 'string' && o.source.startsWith('data:')) {
      const { source, compression, ...rest } = o;
      return { ...(walk(rest) as object), decoded: form(dataUrlBytes(source, compression)) };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  return walk(config);
}

/** {@link decodedWith} the bytes as UTF-8 text (`contents.decoded`). */
export function decoded(config: unknown): unknown {
  return decodedWith(config, (bytes) => bytes.toString('utf8'));
}
