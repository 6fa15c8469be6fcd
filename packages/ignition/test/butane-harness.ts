// The real butane v0.25.1 next to ours: running it, comparing outputs once data URLs are decoded,
// and the corpus and edge cases that both the fcos 1.5 tests and the tests of every other
// supported spec run through it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodedWith, ignitionValidate } from '@ocne/test-ignition';
import { testTool } from '@ocne/test-tools';
import { expect } from 'vitest';
import { translateButane } from '../src/butane.js';
import { IgnitionError } from '../src/errors.js';
import { parseIgnition } from '../src/parse.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES: string = join(here, 'fixtures/butane');
export const FILES: string = join(FIXTURES, 'files');
/** The corpus of realistic fcos 1.5.0 configs (`fixtures/butane/*.bu`), by name. */
export const corpus: string[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.bu'))
  .sort();

export const readFile = (path: string): Uint8Array => readFileSync(path);

/** Runs the real butane v0.25.1 with `--strict` on a file. */
export function realButane(
  file: string,
  filesDir: string = FILES,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(testTool('butane'), ['--strict', '--files-dir', filesDir, file], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the real butane on Butane text (written to a temporary file). */
export function realButaneText(
  text: string,
  filesDir: string = FILES,
): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ocne-butane-'));
  try {
    const file = join(dir, 'config.bu');
    writeFileSync(file, text);
    return realButane(file, filesDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes as text when they are UTF-8 (and survive the round trip), otherwise as base64. */
function bytesForm(bytes: Uint8Array): { text: string } | { base64: string } {
  const text = Buffer.from(bytes).toString('utf8');
  return Buffer.from(text, 'utf8').equals(Buffer.from(bytes))
    ? { text }
    : { base64: Buffer.from(bytes).toString('base64') };
}

/**
 * A copy of an Ignition config where every data URL is replaced by the bytes it stands for (as
 * text, or base64 when they are not UTF-8), without the encoding choices (`source`, `compression`).
 */
export const normalize = (config: unknown): unknown => decodedWith(config, bytesForm);

/** Butane text with another variant and version than the fcos 1.5.0 it was written for. */
export function respec(text: string, variant: string, version: string): string {
  return text
    .replace(/(["']?variant["']?\s*:\s*["']?)fcos/, `$1${variant}`)
    .replace(/(["']?version["']?\s*:\s*["']?)1\.5\.0/, `$1${version}`);
}

/**
 * Translates with ours and with the real butane and expects the same: both accept with the same
 * Ignition (butane's, upgraded to 3.4.0 as upstream does), or both refuse, ours at a line and
 * column butane reports (unless `position` is false). Ours may also refuse what butane
 * accepts when ignition-validate refuses butane's output as Ignition 3.4.0, the spec nodes get,
 * and, with `unsupported`, as a field outside the subset the SDK translates.
 */
export function expectButaneParity(
  text: string,
  options: { position?: boolean; filesDir?: string; unsupported?: boolean } = {},
): void {
  const filesDir = options.filesDir ?? FILES;
  let ours: unknown;
  let error: IgnitionError | undefined;
  try {
    ours = translateButane(text, { source: 'edge.bu', filesDir, readFile });
  } catch (e) {
    if (!(e instanceof IgnitionError)) throw e;
    error = e;
  }
  const real = realButaneText(text, filesDir);
  if (real.status === 0) {
    const theirs = parseIgnition(real.stdout, { source: 'butane output' });
    if (error !== undefined && options.unsupported === true) {
      // A field outside the subset the SDK translates, refused as such (never the spec itself).
      expect(error.code, error.message).toBe('OCNE_BUTANE_UNSUPPORTED');
      expect(['variant', 'version']).not.toContain(error.path);
      return;
    }
    if (error !== undefined) {
      // An older spec's butane lets through what Ignition 3.4 refuses (an empty link target, say):
      // upgraded to 3.4.0, as upstream does, its output would break the node, so ours refuses it.
      const validate = ignitionValidate(JSON.stringify(theirs));
      expect(validate.status, `butane and Ignition 3.4 accept it; ours: ${error.message}`).not.toBe(0);
      return;
    }
    expect(normalize(ours)).toEqual(normalize(theirs));
  } else {
    expect(error, `butane rejects it: ${real.stderr}`).toBeDefined();
    // Butane reports every problem, not in document order; ours stops at one of them.
    const reported = [...real.stderr.matchAll(/line (\d+) col (\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    if (options.position !== false && reported.length > 0) {
      expect(reported, `butane: ${real.stderr}\nours: ${error?.message}`).toContain(
        `${error?.line}:${error?.column}`,
      );
    }
  }
}

/**
 * Small configs at the edges of the spec (the part after `variant` and `version`): we accept
 * exactly what butane --strict accepts (with the same output), and reject what it rejects, at the
 * line and column it reports (except for inline Ignition configs, where butane points inside the
 * JSON text and we point at `inline`: `position: false`).
 */
export const EDGES: ReadonlyArray<string | { text: string; position: false }> = [
  'storage: {files: [{path: /a, overwrite: true, contents: {source: ""}}]}',
  'storage: {files: [{path: /a, contents: {verification: {hash: "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}}]}',
  'storage: {files: [{path: /a, contents: {inline: x, http_headers: [{name: a, value: b}]}}]}',
  'storage: {files: [{path: /a, mode: 0}]}',
  'systemd: {units: [{name: a.service, dropins: [{name: ""}]}]}',
  'systemd: {units: [{name: a.service, enabled: true, dropins: [{name: x.conf, contents: "[Service]\\nA=1"}]}]}',
  'systemd: {units: [{name: "a@.service", contents: "[Service]\\nA=1\\n"}, {name: "a@b.service", enabled: true}]}',
  'systemd: {units: [{name: "a@.service", contents: "[Service]\\nA=1\\n[Install]\\nWantedBy=x\\n"}, {name: "a@b.service", enabled: true}]}',
  'storage: {links: [{path: /a, target: /x}], files: [{path: /a/b}]}',
  'storage: {links: [{path: /a, target: /x}, {path: /a/c, target: /y}]}',
  'storage: {directories: [{path: /d}], links: [{path: /a, target: /d, hard: true}]}',
  'storage: {directories: [{path: /d/e}], links: [{path: /d/a, target: e, hard: true}]}',
  'storage: {directories: [{path: /d/e}], links: [{path: /d/a, target: ../e, hard: true}]}',
  'storage: {files: [{path: /etc/systemd/system/a.service}]}\nsystemd: {units: [{name: a.service, contents: "[Unit]"}]}',
  'storage: {files: [{path: /etc/systemd/system/a.service.d/x.conf}]}\nsystemd: {units: [{name: a.service, dropins: [{name: x.conf, contents: "[Unit]"}]}]}',
  'storage: {files: [{path: /etc/systemd/system/a.service}]}\nsystemd: {units: [{name: a.service, contents: ""}]}',
  'passwd: {users: [{name: a, ssh_authorized_keys: [k1, k1]}]}',
  'passwd: {users: [{name: a, ssh_authorized_keys: ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7dummykeyfortestsonly0123456789abcdefghijklmnopqrstuv admin@laptop"], ssh_authorized_keys_local: [ssh/ops.pub]}]}',
  'passwd: {users: [{name: a, groups: [x, x]}]}',
  'passwd: {groups: [{name: a}, {name: a}]}',
  'ignition: {proxy: {no_proxy: [a, a]}}',
  'ignition: {config: {merge: [{source: "http://a"}, {source: "http://a"}]}}',
  'ignition: {config: {merge: [{verification: {}}]}}',
  { text: 'ignition: {config: {merge: [{inline: "{}"}]}}', position: false },
  { text: 'ignition: {config: {merge: [{inline: "not json"}]}}', position: false },
  { text: 'ignition: {config: {merge: [{inline: "x", compression: gzip}]}}', position: false },
  'ignition: {config: {replace: {}}}',
  'ignition: {config: {replace: {compression: gzip}}}',
  'ignition: {security: {tls: {certificate_authorities: [{compression: ""}]}}}',
  'storage: {files: [{path: /a, contents: {source: "http://a", http_headers: [{name: x, value: "1"}, {name: x, value: "2"}]}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://a", http_headers: [{name: x, value: ""}]}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://a", http_headers: [{value: "1"}]}}]}',
  'storage: {files: [{path: /a, contents: {source: foo}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://x/%zz"}}]}',
  'storage: {files: [{path: /a, contents: {source: "s3://b/k?versionId="}}]}',
  'storage: {files: [{path: /a, contents: {source: "arn:aws:s3:us-west-2:123456789012:bucket"}}]}',
  'storage: {files: [{path: /a, contents: {source: "arn:aws:s3:::bucket/key"}}]}',
  'storage: {files: [{path: /a, contents: {source: "data:abc"}}]}',
  'storage: {files: [{path: /a, contents: {source: "HTTP://x"}}]}',
  'storage: {files: [{path: /a, contents: {source: "localhost:3128/x"}}]}',
  'storage: {files: [{path: /a, contents: {inline: a, compression: zip}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://a", verification: {hash: sha1-abc}}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://a", verification: {hash: sha256-abc}}}]}',
  'storage: {files: [{path: /a, contents: {source: "http://a", verification: {hash: nohash}}}]}',
  'storage: {files: [{path: /a, user: {id: 1, name: ""}}]}',
  'systemd: {units: [{name: a.snapshot}]}',
  'systemd: {units: [{name: a.service, dropins: [{name: a.conf, contents: "[X"}]}]}',
  'systemd: {units: [{name: a.service, contents: "", contents_local: ""}]}',
  'systemd: {units: [{name: a.service, contents_local: ""}]}',
  'x: &a {path: /a}\nstorage: {files: [{<<: *a}]}',
  'metadata: {name: x}',
  'storage: {disks: []}',
  'kernel_arguments: {should_exist: [a, a]}',
  'storage: {files: [{path: /a, mode: 0o4755}]}',
  'storage: {directories: [{path: /a, mode: 0o1777}]}',
  'storage: {directories: [{path: /a, mode: 0o2775}]}',
  'storage: {links: [{path: /a, target: /b, hard: true, group: {name: x}}]}',
  'storage: {files: [{path: /a/}]}',
  'storage: {files: [{path: /}]}',
  'storage: {files: [{path: "/a/./b"}]}',
  'systemd: {units: [{name: a.service, enabled: true, contents: "[Install]\\n"}]}',
  'systemd: {units: [{name: a.service, enabled: true, contents: ""}]}',
  'systemd: {units: [{name: a.service, enabled: true, mask: true, contents: "[Service]\\nA=1\\n"}]}',
  'systemd: {units: [{name: a.service, contents: "Foo=bar\\n[Unit]\\nA=1\\n"}]}',
  'systemd: {units: [{name: a.service, contents: "[Unit] x\\nA=1\\n"}]}',
  'systemd: {units: [{name: a.service, contents: "[Unit]\\n  A = 1 \\\\\\n\\n"}]}',
  'systemd: {units: [{name: a.service}, {name: a.service}]}',
  'systemd: {units: [{name: a.service, dropins: [{name: x.conf}, {name: x.conf}]}]}',
  'storage: {files: [{path: /a, append: [{}]}]}',
  'storage: {files: [{path: /a, append: [{inline: x}, {inline: x}]}]}',
  'passwd: {users: [{name: a, uid: 1e3}]}',
  'passwd: {users: [{name: a, uid: -1}]}',
  'ignition: {timeouts: {http_total: -5}}',
  'storage: {files: [{path: /a, contents: {local: configs/one, source: "http://x"}}]}',
  {
    text: 'ignition: {config: {merge: [{inline: "{\\"ignition\\":{\\"version\\":\\"3.4.0\\"},\\"bogus\\":1}"}]}}',
    position: false,
  },
  'ignition: {proxy: {http_proxy: "https://x"}}',
  'ignition: {proxy: {http_proxy: "x"}}',
  'ignition: {proxy: {http_proxy: ""}}',
  'storage: {files: [{path: /a, contents: {inline: !!binary "not base64!"}}]}',
  'storage: {files: [{path: /a, mode: 08}]}',
  'storage: {files: [{path: /a, mode: 0b110100100}]}',
  'storage: {files: [{path: /a, mode: +0644}]}',
  'storage: {files: [{path: /a, mode: 1_0_0}]}',
  'storage: {files: [{path: /a, mode: 2024-01-01}]}',
  'storage: {files: [{path: /a, overwrite: 1}]}',
  'storage: {files: [{path: /a, overwrite: Y, contents: {inline: x}}]}',
  'storage: {files: [{path: /a, contents: {inline: .inf}}]}',
  'storage: {files: [{path: !!str /a}]}',
  'storage: {files: [{path: 123}]}',
  'storage: {files: [{path: /a, contents: {local: ""}}]}',
  'storage: {files: [{path: /a, contents: {local: configs}}]}',
];
