/**
 * The cluster cache reader against hostile files (issue 12): it reads `~/.ocne/clusters.yaml` with
 * the configuration reader's parser and codec, so merge-key cycles, alias bombs, prototype keys,
 * pipes, oversized files and CR line ends end in `OCNE_CACHE_INVALID` (or are read right), never in
 * a raw exception or a hang; and a property over the generator of `@ocne/config`'s tests.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_LIMITS, ConfigError } from '@ocne/config';
import { enableParseMemo, isOcneError } from '@ocne/core';
import { hostileInput, sameValue } from '@ocne/test-hostile';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterCache } from '../src/cache.js';

const root = mkdtempSync(join(tmpdir(), 'ocne-cache-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A cache whose file holds these bytes. */
function cacheWith(content: string | Uint8Array): ClusterCache {
  const home = join(root, `home-${counter++}`);
  mkdirSync(join(home, '.ocne'), { recursive: true });
  writeFileSync(join(home, '.ocne', 'clusters.yaml'), content);
  return new ClusterCache({ home, lockTimeoutMs: 2_000 });
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  const error = await p.then(
    () => new Error('it succeeded'),
    (e: unknown) => e,
  );
  expect(isOcneError(error), `expected an OcneError, got ${String((error as Error)?.stack ?? error)}`).toBe(
    true,
  );
  return error as Error & { code?: string };
}

const entry = (name: string, config: string): string =>
  `    ${name}:\n        kubeconfig: /k/${name}\n        config:\n${config
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `            ${l}`)
    .join('\n')}\n`;

describe('a hostile cluster cache', () => {
  it('a merge key naming its own mapping is OCNE_CACHE_INVALID at the "<<", not a RangeError', async () => {
    const cache = cacheWith(`clusters:\n${entry('a', 'name: a\nproxy: &p\n    <<: *p')}`);
    const error = await rejection(cache.list());
    expect(error.code).toBe('OCNE_CACHE_INVALID');
    expect(error.message).toContain(`${cache.path}:7:17: clusters.a.config.proxy: a merge key`);
    expect(error.cause).toBeInstanceOf(ConfigError);
  });

  it('a merge-key bomb inside an entry is OCNE_CACHE_INVALID with OCNE_CONFIG_LIMIT', async () => {
    const lines = ['x-0: &b0 {httpsProxy: x}'];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `x-${i}: &b${i}\n    <<: [${Array(9)
          .fill(`*b${i - 1}`)
          .join(', ')}]`,
      );
    const cache = cacheWith(`clusters:\n${entry('a', `name: a\n${lines.join('\n')}\nproxy: *b9`)}`);
    const error = await rejection(cache.list());
    expect(error.code).toBe('OCNE_CACHE_INVALID');
    expect((error.cause as ConfigError).code).toBe('OCNE_CONFIG_LIMIT');
  });

  it('entries that all alias one large config are refused once they read far more than the file', async () => {
    const big = `name: big\nclusterDefinitionInline: "${'x'.repeat(20_000)}"`;
    const aliases = Array.from(
      { length: 50 },
      (_, i) => `    e${i}:\n        kubeconfig: /k\n        config: *c\n`,
    ).join('');
    const text = `clusters:\n    a:\n        kubeconfig: /k\n        config: &c\n${big
      .split('\n')
      .map((l) => `            ${l}`)
      .join('\n')}\n${aliases}`;
    const started = performance.now();
    const error = await rejection(cacheWith(text).list());
    expect(performance.now() - started).toBeLessThan(5_000);
    expect((error.cause as ConfigError).code).toBe('OCNE_CONFIG_LIMIT');
    // One alias is fine.
    const one = `clusters:\n    a:\n        kubeconfig: /k\n        config: &c\n            name: a\n    b:\n        kubeconfig: /k\n        config: *c\n`;
    expect((await cacheWith(one).list()).map((c) => c.config.name)).toEqual(['a', 'a']);
  });

  it('prototype keys are ordinary keys of an entry', async () => {
    const cache = cacheWith(
      `clusters:\n${entry('a', 'name: a\n__proto__:\n    workerNodes: 7\nconstructor: x\nproxy:\n    toString: y')}`,
    );
    const [a] = await cache.list();
    expect(a?.config.workerNodes).toBe(0);
    expect(a?.config.name).toBe('a');
    expect(({} as { workerNodes?: unknown }).workerNodes).toBeUndefined();
  });

  it('a cluster named __proto__ is a cluster like any other', async () => {
    const cache = cacheWith(`clusters:\n${entry('__proto__', 'name: x')}${entry('constructor', 'name: y')}`);
    expect((await cache.list()).map((c) => c.name)).toEqual(['__proto__', 'constructor']);
    expect((await cache.get('__proto__'))?.kubeconfig).toBe('/k/__proto__');
  });

  it('CR line ends are read as lines', async () => {
    const cache = cacheWith(
      'clusters:\r    a:\r        kubeconfig: /k\r        config:\r            name: a\r            workerNodes: 3\r',
    );
    const [a] = await cache.list();
    expect(a?.config.workerNodes).toBe(3);
  });

  it('a file over the limit is OCNE_CACHE_INVALID without being read whole', async () => {
    const cache = cacheWith('');
    const fd = openSync(cache.path, 'w');
    ftruncateSync(fd, 32 * 1024 ** 3);
    closeSync(fd);
    const error = await rejection(cache.list());
    expect(error.code).toBe('OCNE_CACHE_INVALID');
    expect((error.cause as ConfigError).code).toBe('OCNE_CONFIG_LIMIT');
    expect(error.message).toContain(`larger than ${CONFIG_LIMITS.maxCacheBytes / 1024 ** 2} MiB`);
  });

  it.skipIf(process.platform === 'win32')('a named pipe in its place is refused at once', async () => {
    const cache = cacheWith('');
    rmSync(cache.path);
    execFileSync('mkfifo', [cache.path]);
    const error = await rejection(cache.list());
    expect(error.code).toBe('OCNE_CACHE_READ_FAILED');
    expect(error.message).toContain('it is a named pipe, not a regular file');
  });

  it('bytes that are not UTF-8 are located', async () => {
    const bytes = Buffer.concat([
      Buffer.from('clusters:\n    a:\n        kubeconfig: /k/'),
      Buffer.from([0xff]),
    ]);
    const cache = cacheWith(bytes);
    const error = await rejection(cache.list());
    expect(error.message).toContain(`${cache.path}:3:24: not valid UTF-8`);
    expect(readFileSync(cache.path).equals(bytes)).toBe(true);
  });

  it('any hostile file, as the cache or as an entry, is read or refused with an OcneError within a second', async () => {
    const decoder = new TextDecoder();
    await fc.assert(
      fc.asyncProperty(hostileInput, fc.boolean(), async ({ bytes }, asEntry) => {
        const content = asEntry ? `clusters:\n${entry('x', decoder.decode(bytes))}` : bytes;
        const cache = cacheWith(content);
        const started = performance.now();
        const outcome = await cache.list().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(performance.now() - started).toBeLessThan(1_000);
        if (outcome !== undefined) {
          expect(isOcneError(outcome), String((outcome as Error)?.stack ?? outcome)).toBe(true);
          expect((outcome as Error).message.length).toBeLessThan(1_500);
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('with the parse memo (the CLI), lists and gets what it does without it, first read and from the memo', async () => {
    const decoder = new TextDecoder();
    const outcome = async (cache: ClusterCache) => {
      try {
        const list = await cache.list();
        return { list, got: await cache.get(list[0]?.name ?? 'x') };
      } catch (error) {
        return { code: (error as { code?: unknown }).code, message: (error as Error).message };
      }
    };
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(hostileInput, fc.boolean(), async ({ bytes }, asEntry) => {
        const cache = cacheWith(asEntry ? `clusters:\n${entry('x', decoder.decode(bytes))}` : bytes);
        const without = await outcome(cache);
        try {
          enableParseMemo({ directory: join(root, `memo-${runs++}`), codeId: 'test' });
          const computed = await outcome(cache);
          const remembered = await outcome(cache);
          expect(sameValue(computed, without)).toBe(true);
          expect(sameValue(remembered, without)).toBe(true);
        } finally {
          enableParseMemo(undefined);
        }
      }),
      { numRuns: 200 },
    );
    // And a valid cache, so that the memo surely serves real entries.
    const cache = cacheWith(`clusters:\n${entry('a', 'name: a\nprovider: byo')}${entry('b', 'name: b')}`);
    const without = await outcome(cache);
    expect((without as { list: unknown[] }).list).toHaveLength(2);
    enableParseMemo({ directory: join(root, 'memo-valid'), codeId: 'test' });
    try {
      await outcome(cache);
      expect(sameValue(await outcome(cache), without)).toBe(true);
    } finally {
      enableParseMemo(undefined);
    }
  }, 120_000);
});
