/**
 * Regression tests of hostile and careless configuration files (issue 12): merge keys that name
 * their own mapping, merge-key and alias bombs, prototype keys, syntax errors by the thousand,
 * huge keys and values, pipes and devices given as the file, aliases in Helm values, numbers past
 * 2^53, negative CPU counts, bytes that are not UTF-8 and CR-only line ends. Each one failed before
 * its fix: with a raw exception, a hang, a wrong value or output without bound.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONFIG_LIMITS,
  ConfigError,
  type ConfigIssue,
  LayerKind,
  loadConfig,
  type ResolvedConfig,
  resolveConfig,
} from '@ocne/config';
import { ERROR_CODES, isOcneError } from '@ocne/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Lexer } from 'yaml';

const home = mkdtempSync(join(tmpdir(), 'ocne-hostile-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let counter = 0;
function file(content: string | Uint8Array): string {
  const path = join(home, `config-${counter++}.yaml`);
  writeFileSync(path, content);
  return path;
}

const BYO = 'provider: byo\nvirtualIp: 192.168.122.230\nproviders:\n  byo:\n    networkInterface: enp1s0\n';

const load = (config: string): Promise<ResolvedConfig> =>
  loadConfig({ configPath: file(config), defaults: false, home, env: {} });

/** The ConfigError loading rejects with (fails the test on success or on any other error). */
async function failure(loading: Promise<unknown>): Promise<ConfigError> {
  const error = await loading.then(
    () => new Error('loading succeeded'),
    (e: unknown) => e,
  );
  expect(isOcneError(error), `expected an OcneError, got ${String((error as Error)?.stack ?? error)}`).toBe(
    true,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const where = (e: ConfigError | ConfigIssue) => ({
  code: e.code,
  line: e.line,
  column: e.column,
  path: e.path,
});

describe('merge keys that name their own mapping (bug 1)', () => {
  it('is a located error at the "<<", not a RangeError', async () => {
    const e = await failure(load('name: demo\nproxy: &p\n  httpsProxy: http://p:3128\n  <<: *p\n'));
    expect(where(e)).toEqual({ code: 'OCNE_CONFIG_SYNTAX', line: 4, column: 3, path: 'proxy' });
    expect(e.message).toContain('merge key ("<<") names *p, a mapping that contains it');
  });

  it('also at the top level, through a list of sources and through another mapping', async () => {
    for (const text of [
      '&top\n<<: *top\nname: x\n',
      'proxy: &p\n  <<: [*p, *p]\n',
      'providers: &p\n  oci:\n    proxy:\n      <<: *p\n',
      'applications:\n  - name: x\n    config: &c\n      <<: *c\n',
    ]) {
      const e = await failure(load(text));
      expect(e.code, text).toBe('OCNE_CONFIG_SYNTAX');
      expect(e.message, text).toMatch(/merge key|contains it/);
    }
  });
});

describe('merge-key and alias bombs (bug 2)', () => {
  /** `levels` levels of `fanout` references each, in well under 1 KB. */
  function bomb(levels: number, fanout: number, merge: boolean): string {
    const lines = ['x-0: &b0 {httpsProxy: x, unknown: y}'];
    for (let i = 1; i <= levels; i++) {
      const refs = Array.from({ length: fanout }, () => `*b${i - 1}`).join(', ');
      lines.push(merge ? `x-${i}: &b${i}\n  <<: [${refs}]` : `x-${i}: &b${i} [${refs}]`);
    }
    return `${lines.join('\n')}\n`;
  }

  it('nine levels of merge keys end in OCNE_CONFIG_LIMIT, quickly and located', async () => {
    const text = `${bomb(9, 9, true)}<<: *b9\n`;
    expect(text.length).toBeLessThan(1024);
    const started = performance.now();
    const e = await failure(load(text));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(e.code).toBe('OCNE_CONFIG_LIMIT');
    expect(e.message).toContain(`more than ${CONFIG_LIMITS.maxExpandedValues} values`);
    expect(e.line).toBeGreaterThan(0);
    expect(e.issues.length).toBeLessThanOrEqual(CONFIG_LIMITS.maxIssues + 2);
  });

  it('so do merge keys under any key and aliases of lists in Helm values', async () => {
    for (const text of [
      `${bomb(9, 9, true)}proxy: *b9\n`,
      `${bomb(9, 9, true)}providers:\n  oci:\n    proxy:\n      <<: [*b9, *b8]\n`,
      `${bomb(9, 9, false)}applications:\n  - name: a\n    config: *b9\n`,
    ]) {
      const e = await failure(load(text));
      expect(e.code, text).toBe('OCNE_CONFIG_LIMIT');
    }
    // Where the schema wants a string, a list is a type error before anything is expanded.
    expect((await failure(load(`${bomb(9, 9, false)}podSubnet: *b9\n`))).code).toBe('OCNE_CONFIG_TYPE');
  });

  it('aliases nested deeper than the limit through each other end in OCNE_CONFIG_LIMIT', async () => {
    const n = CONFIG_LIMITS.maxDepth + 20;
    const lines = ['x-0: &d0 [1]'];
    for (let i = 1; i <= n; i++) lines.push(`x-${i}: &d${i} [*d${i - 1}]`);
    lines.push(`applications:\n  - name: a\n    config: *d${n}`);
    const e = await failure(load(`${lines.join('\n')}\n`));
    expect(e.code).toBe('OCNE_CONFIG_LIMIT');
    expect(e.message).toContain(`deeper than ${CONFIG_LIMITS.maxDepth} levels`);
  });

  it('text nested deeper than the limit is refused while parsing, at the place', async () => {
    const depth = 5_000;
    const e = await failure(load(`name: x\napplications: ${'['.repeat(depth)}${']'.repeat(depth)}\n`));
    expect(where(e)).toMatchObject({ code: 'OCNE_CONFIG_LIMIT', line: 2 });
    expect(e.column).toBeLessThan(CONFIG_LIMITS.maxDepth + 20);
  });

  it('merge keys a configuration really uses still work', async () => {
    const ok = await load(
      `x-node: &node\n  memory: 8Gi\n  cpu: 4\nx-big: &big\n  <<: *node\n  memory: 16Gi\nproviders:\n  libvirt:\n    controlPlaneNode: *big\n    workerNode:\n      <<: [*big, *node]\n      storage: 30Gi\n`,
    );
    expect(ok.cluster.providers.libvirt.controlPlaneNode).toMatchObject({ memory: '16Gi', cpu: 4 });
    expect(ok.cluster.providers.libvirt.workerNode).toMatchObject({
      memory: '16Gi',
      cpu: 4,
      storage: '30Gi',
    });
  });
});

describe('prototype keys are ordinary keys (bug 3)', () => {
  it('__proto__ sets nothing: an unknown-key warning, and the checks apply', async () => {
    const r = await load(`${BYO}__proto__:\n  controlPlaneNodes: three\n  podSubnet: [1]\n`);
    expect(r.cluster.controlPlaneNodes).toBe(1);
    expect(r.cluster.podSubnet).toBe('10.244.0.0/16');
    expect(r.warnings.map((w) => [w.code, w.path])).toEqual([['OCNE_CONFIG_UNKNOWN_KEY', '__proto__']]);
    expect(({} as Record<string, unknown>).controlPlaneNodes).toBeUndefined();
  });

  it('constructor, toString and friends get unknown-key warnings at every level', async () => {
    const r = await load(
      `${BYO}constructor: 1\ntoString: x\nproxy:\n  hasOwnProperty: y\n  valueOf: z\ncertificateInformation:\n  __proto__: {country: DE}\n`,
    );
    expect(r.warnings.map((w) => w.path)).toEqual([
      'constructor',
      'toString',
      'proxy.hasOwnProperty',
      'proxy.valueOf',
      'certificateInformation.__proto__',
    ]);
    expect(r.warnings[0]?.message).toBe('unknown key "constructor" (ignored)');
    expect(r.cluster.certificateInformation.country).toBe('US');
  });

  it('are errors in the strict defaults file', async () => {
    const e = await failure(
      loadConfig({ defaults: file('constructor: x\n'), config: { provider: 'libvirt' }, home, env: {} }),
    );
    expect(where(e)).toEqual({ code: 'OCNE_CONFIG_UNKNOWN_KEY', line: 1, column: 1, path: 'constructor' });
  });

  it('reach Helm values as written, as own keys', async () => {
    const r = await load(
      'applications:\n  - name: a\n    config:\n      __proto__: {x: 1}\n      constructor: 2\n',
    );
    const config = r.cluster.applications[0]?.config as Record<string, unknown>;
    expect(Object.hasOwn(config, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(config, '__proto__')?.value).toEqual({ x: 1 });
    expect(config.constructor).toBe(2);
    expect((config as { x?: unknown }).x).toBeUndefined();
  });

  it('a layer whose data inherits values contributes only its own keys', () => {
    const data = Object.create({ workerNodes: 5, name: 'inherited' }) as Record<string, unknown>;
    const { cluster } = resolveConfig([{ kind: LayerKind.ClusterFile, source: '<test>', data }], {
      skipValidation: true,
    });
    expect(cluster.workerNodes).toBe(0);
    expect(cluster.name).toBe('ocne');
  });
});

describe('syntax errors by the thousand (bug 6)', () => {
  it('the text is parsed once however many errors it has, and 50 are listed', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `k${i}: "bad`).join('\n');
    const lex = vi.spyOn(Lexer.prototype, 'lex');
    const e = await failure(load(text));
    expect(lex).toHaveBeenCalledTimes(1);
    expect(e.code).toBe('OCNE_CONFIG_SYNTAX');
    expect(e.issues).toHaveLength(CONFIG_LIMITS.maxIssues + 1);
    expect(e.issues.at(-1)).toMatchObject({ code: 'OCNE_CONFIG_LIMIT', severity: 'error' });
    expect(e.issues.at(-1)?.message).toMatch(/^\d+ more errors not listed/);
  });
});

describe('many and huge keys and values (bug 7)', () => {
  it('unknown keys cost linear time: 50 warnings listed and the rest counted', async () => {
    const text = (n: number) => Array.from({ length: n }, (_, i) => `workerNode${i}: ${i}`).join('\n');
    const small = text(2_500);
    const large = text(20_000);
    const time = async (t: string): Promise<number> => {
      const started = performance.now();
      await loadConfig({ config: t, defaults: false, home, env: {} });
      return performance.now() - started;
    };
    await time(small); // warm-up
    const smallMs = Math.min(await time(small), await time(small), await time(small));
    const largeMs = await time(large);
    // 8 times the keys: about 8 times the time (each key was compared with every other one: 64).
    expect(largeMs / smallMs).toBeLessThan(24);
    const r = await loadConfig({ config: large, defaults: false, home, env: {} });
    expect(r.warnings).toHaveLength(CONFIG_LIMITS.maxIssues + 1);
    expect(r.warnings.at(-1)).toMatchObject({ code: 'OCNE_CONFIG_LIMIT', severity: 'warning' });
    expect(r.warnings.at(-1)?.message).toBe(
      `${20_000 - CONFIG_LIMITS.maxIssues} more warnings not listed (the first 50 are)`,
    );
  }, 60_000);

  it('a key of 400,000 characters gets no "did you mean" and is not echoed whole', async () => {
    const key = `workerNode${'s'.repeat(400_000)}`;
    const started = performance.now();
    // An explicit key: an implicit one may not be longer than 1024 characters.
    const r = await load(`? ${key}\n: 1\n`);
    expect(performance.now() - started).toBeLessThan(5_000);
    const [w] = r.warnings;
    expect(w?.message).not.toContain('did you mean');
    expect(w?.message.length).toBeLessThan(200);
    expect(w?.message).toContain('(400010 characters)');
    expect(w?.path?.length).toBeLessThan(250);
  });

  it('a 1 MB name is not echoed into the message', async () => {
    const e = await failure(load(`name: ${'A'.repeat(1_000_000)}\n`));
    expect(e.code).toBe('OCNE_CONFIG_INVALID_VALUE');
    expect(e.message.length).toBeLessThan(500);
    expect(e.message).toContain('(1000000 characters)');
  });

  it('a file over the size limit is refused, one at the limit is read', async () => {
    const max = CONFIG_LIMITS.maxConfigBytes;
    const head = 'name: big\n# ';
    const atLimit = `${head}${'z'.repeat(max - head.length - 1)}\n`;
    expect(Buffer.byteLength(atLimit)).toBe(max);
    expect((await load(atLimit)).cluster.name).toBe('big');
    const e = await failure(load(`${atLimit}x`));
    expect(e.code).toBe('OCNE_CONFIG_LIMIT');
    expect(e.message).toContain('is larger than 1 MiB');
    const text = await failure(loadConfig({ config: `${atLimit}x`, defaults: false, home, env: {} }));
    expect(text.code).toBe('OCNE_CONFIG_LIMIT');
  });

  it('a sparse file of 64 GiB is refused without being read', async () => {
    const path = join(home, 'sparse.yaml');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 64 * 1024 ** 3);
    closeSync(fd);
    const started = performance.now();
    const e = await failure(loadConfig({ configPath: path, defaults: false, home, env: {} }));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(e.code).toBe('OCNE_CONFIG_LIMIT');
    rmSync(path);
  });

  it.skipIf(process.platform === 'win32')('a named pipe nobody writes to is refused at once', async () => {
    const fifo = join(home, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const e = await failure(loadConfig({ configPath: fifo, defaults: false, home, env: {} }));
    expect(e.code).toBe('OCNE_CONFIG_READ_FAILED');
    expect(e.message).toContain('it is a named pipe, not a regular file');
    const d = await failure(loadConfig({ defaults: fifo, config: { provider: 'libvirt' }, home, env: {} }));
    expect(d.code).toBe('OCNE_CONFIG_READ_FAILED');
  });

  it.skipIf(process.platform === 'win32')('/dev/urandom is refused without reading it', async () => {
    const e = await failure(loadConfig({ configPath: '/dev/urandom', defaults: false, home, env: {} }));
    expect(e.code).toBe('OCNE_CONFIG_READ_FAILED');
    expect(e.message).toContain('it is a character device, not a regular file');
  });

  it('a folder is still "a folder, not a file"', async () => {
    const e = await failure(loadConfig({ configPath: home, defaults: false, home, env: {} }));
    expect(e.message).toContain('it is a folder, not a file');
  });
});

describe('aliases in Helm values (bug 8)', () => {
  it('reach the resolved configuration as what they name, merge keys expanded', async () => {
    const r = await load(
      'applications:\n  - name: a\n    config:\n      base: &d {image: nginx, replicas: 2}\n      copy: *d\n      port: &p 8080\n      again: *p\n      merged:\n        <<: *d\n        replicas: 3\n  - name: b\n    config: *d\n',
    );
    const [a, b] = r.cluster.applications;
    expect(a?.config).toEqual({
      base: { image: 'nginx', replicas: 2 },
      copy: { image: 'nginx', replicas: 2 },
      port: 8080,
      again: 8080,
      merged: { image: 'nginx', replicas: 3 },
    });
    expect(b?.config).toEqual({ image: 'nginx', replicas: 2 });
    expect(JSON.stringify(r.cluster.applications)).not.toContain('"source"');
  });
});

describe('smaller things (bug 10)', () => {
  it('ocpus: 99999999999999999999999 is an error, not "1e+23"', async () => {
    const e = await failure(
      load('providers:\n  oci:\n    controlPlaneShape:\n      ocpus: 99999999999999999999999\n'),
    );
    expect(where(e)).toEqual({
      code: 'OCNE_CONFIG_TYPE',
      line: 4,
      column: 14,
      path: 'providers.oci.controlPlaneShape.ocpus',
    });
    expect(e.message).toContain('found 99999999999999999999999, which is too large');
    expect((await failure(load('workerNodes: 9007199254740993\n'))).code).toBe('OCNE_CONFIG_TYPE');
  });

  it('libvirt cpu: -5 is refused', async () => {
    const e = await failure(load('providers:\n  libvirt:\n    workerNode:\n      cpu: -5\n'));
    expect(where(e)).toEqual({
      code: 'OCNE_CONFIG_INVALID_VALUE',
      line: 4,
      column: 12,
      path: 'providers.libvirt.workerNode.cpu',
    });
    expect(e.message).toContain('expected a positive number of CPUs, found -5');
  });

  it('bytes that are not UTF-8 are an error at their place, not U+FFFD', async () => {
    const bytes = Buffer.concat([
      Buffer.from('name: demo\nprovider: by'),
      Buffer.from([0xff]),
      Buffer.from('o\n'),
    ]);
    const e = await failure(loadConfig({ configPath: file(bytes), defaults: false, home, env: {} }));
    expect(where(e)).toEqual({ code: 'OCNE_CONFIG_SYNTAX', line: 2, column: 13, path: undefined });
    expect(e.message).toContain('not valid UTF-8: byte 0xFF');
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
    ]) {
      const b = Buffer.concat([Buffer.from('name: x\n# '), Buffer.from(bad), Buffer.from('\n')]);
      const f = await failure(loadConfig({ configPath: file(b), defaults: false, home, env: {} }));
      expect(where(f), String(bad)).toEqual({
        code: 'OCNE_CONFIG_SYNTAX',
        line: 2,
        column: 3,
        path: undefined,
      });
    }
  });

  it('text with a lone surrogate (given as a string) is an error too', async () => {
    const e = await failure(
      loadConfig({ config: 'name: demo\nx: "\uD800"\n', defaults: false, home, env: {} }),
    );
    expect(where(e)).toEqual({ code: 'OCNE_CONFIG_SYNTAX', line: 2, column: 5, path: undefined });
  });

  it('a file with CR line ends reads as its lines, not as an empty config', async () => {
    const r = await load('# made on a classic Mac\rname: crlines\rworkerNodes: 2\r');
    expect(r.cluster).toMatchObject({ name: 'crlines', workerNodes: 2 });
    const e = await failure(load('name: demo\r\rpodSubnet: 10.0.0.0/33\r'));
    expect(where(e)).toEqual({ code: 'OCNE_CONFIG_INVALID_VALUE', line: 3, column: 12, path: 'podSubnet' });
  });
});

describe('the limits', () => {
  it('are the ones the catalogue documents', () => {
    const { meaning } = ERROR_CODES.OCNE_CONFIG_LIMIT;
    const mib = (bytes: number) => `${bytes / 1024 ** 2} MiB`;
    expect(meaning).toContain(`larger than ${mib(CONFIG_LIMITS.maxConfigBytes)}`);
    expect(meaning).toContain(`the cache: ${mib(CONFIG_LIMITS.maxCacheBytes)}`);
    expect(meaning).toContain(`deeper than ${CONFIG_LIMITS.maxDepth} levels`);
    expect(meaning).toContain(`more than ${CONFIG_LIMITS.maxExpandedValues.toLocaleString('en-US')} values`);
    expect(meaning).toContain(`cut at ${CONFIG_LIMITS.maxIssues} errors or warnings`);
    expect(Object.isFrozen(CONFIG_LIMITS)).toBe(true);
  });
});
