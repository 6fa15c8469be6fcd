// The one reader of ~/.oci/config and key files, on hostile input: files too large, binary, not
// UTF-8 or not regular files, prototype names as profiles and keys, a missing key file, a wrong
// passphrase. Every failure is a typed OcneError naming the file, never a secret from it; the
// session (which signs with the profile) and the credentials port (the controllers' Secrets) agree.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcneError } from '@ocne/core';
import { hostileInput } from '@ocne/test-hostile';
import { startOciApiServer } from '@ocne/test-oci-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciLookup, fileCredentials, OCI_CONFIG_MAX_BYTES, readOciProfile } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocne-oci-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let counter = 0;
/** A config file with these bytes; returns its path. */
async function configWith(bytes: string | Uint8Array): Promise<string> {
  counter += 1;
  const path = join(dir, `config-${counter}`);
  await writeFile(path, bytes);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isOcneError(error), String(error)).toBe(true);
  return error as { code: string; message: string };
}

const SECRET = 'S3CRET-PASSPHRASE-VALUE';

describe('readOciProfile on hostile files', () => {
  it('refuses a huge file without reading it all, naming its size', async () => {
    const path = await configWith(`[DEFAULT]\n${'x=y\n'.repeat(OCI_CONFIG_MAX_BYTES / 2)}`);
    const error = await failure(readOciProfile({ configFile: path }));
    expect(error.code).toBe('OCNE_OCI_CONFIG_INVALID');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/is \d+ bytes/);
  });

  it('refuses binary and non-UTF-8 files, and a FIFO that would never end', async () => {
    const binary = await configWith(
      Buffer.concat([Buffer.from('[DEFAULT]\n'), randomBytes(512), Buffer.of(0)]),
    );
    expect((await failure(readOciProfile({ configFile: binary }))).message).toContain('binary');
    const latin1 = await configWith(Buffer.from('[DEFAULT]\nuser=caf\xe9\n', 'latin1'));
    expect((await failure(readOciProfile({ configFile: latin1 }))).message).toContain('not UTF-8');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(readOciProfile({ configFile: fifo }))).message).toContain('not a regular file');
  });

  it('takes prototype names as plain names, without touching Object.prototype', async () => {
    const key = join(dir, 'proto.pem');
    await writeFile(key, 'PEM');
    const path = await configWith(
      `[__proto__]\ntenancy=t\nuser=u\nfingerprint=f\nregion=r\nkey_file=${key}\n__proto__=x\nconstructor=y\n[constructor]\ntoString=1\n`,
    );
    const read = await readOciProfile({ configFile: path, profile: '__proto__' });
    expect(read).toMatchObject({ profile: '__proto__', tenancy: 't', key: 'PEM' });
    expect(({} as Record<string, unknown>).tenancy).toBeUndefined();
    expect(Object.prototype.toString.call([])).toBe('[object Array]');
    const missing = await failure(readOciProfile({ configFile: path, profile: 'hasOwnProperty' }));
    expect(missing.message).toContain('no hasOwnProperty section found in OCI configuration file');
  });

  it('names a missing key file; a line error gives the line, never the value', async () => {
    const path = await configWith(`[DEFAULT]\ntenancy=t\nkey_file=${join(dir, 'absent.pem')}\n`);
    const error = await failure(readOciProfile({ configFile: path }));
    expect(error.message).toContain(join(dir, 'absent.pem'));
    const bad = await configWith(`[DEFAULT]\npass_phrase=${SECRET}\n${SECRET}\n`);
    const lineError = await failure(readOciProfile({ configFile: bad }));
    expect(lineError.message).toContain(`${bad}:3`);
    expect(lineError.message).not.toContain(SECRET);
  });

  it('any bytes end in a profile or OCNE_OCI_CONFIG_INVALID, for the session and the credentials alike', async () => {
    await fc.assert(
      fc.asyncProperty(hostileInput, async ({ bytes }) => {
        const path = await configWith(bytes);
        const results = await Promise.all([
          readOciProfile({ configFile: path }).then(
            () => 'ok',
            (e: unknown) => (isOcneError(e) ? e.code : `untyped: ${String(e)}`),
          ),
          fileCredentials({ configFile: path })
            .read({
              home: dir,
              env: {},
              profile: 'DEFAULT',
              signal: new AbortController().signal,
              emit: () => {},
              config: undefined as never,
            })
            .then(
              () => 'ok',
              (e: unknown) => (isOcneError(e) ? e.code : `untyped: ${String(e)}`),
            ),
        ]);
        expect(results[0]).toBe(results[1]);
        expect(['ok', 'OCNE_OCI_CONFIG_INVALID']).toContain(results[0]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});

describe('the session with a bad key', () => {
  it('is OCNE_OCI_CONFIG_INVALID for a wrong passphrase, a missing one, and a key file that is no key', async () => {
    const server = await startOciApiServer();
    try {
      const keyDir = join(dir, 'encrypted');
      const configFile = await server.writeConfig(keyDir, { passphrase: 'right' });
      const text = await readFile(configFile, 'utf8');
      const open = async (config: string) => {
        const lookup = createOciLookup({ configFile: config, endpoint: server.url, env: {} });
        try {
          return await failure(lookup.compartmentId('a', 'DEFAULT'));
        } finally {
          lookup.close();
        }
      };
      const wrong = await open(await configWith(text.replace('pass_phrase=right', `pass_phrase=${SECRET}`)));
      expect(wrong.code).toBe('OCNE_OCI_CONFIG_INVALID');
      expect(wrong.message).toContain('passphrase');
      expect(wrong.message).not.toContain(SECRET);
      const none = await open(
        await configWith(text.replace('pass_phrase=right\n', '').replace('pass_phrase=right', '')),
      );
      expect(none.code).toBe('OCNE_OCI_CONFIG_INVALID');
      await mkdir(join(dir, 'nokey'), { recursive: true });
      await writeFile(join(dir, 'nokey', 'k.pem'), 'not a key');
      const notKey = await open(
        await configWith(text.replace(/key_file=.*/, `key_file=${join(dir, 'nokey', 'k.pem')}`)),
      );
      expect(notKey.code).toBe('OCNE_OCI_CONFIG_INVALID');
      expect(server.log).toHaveLength(0); // nothing was sent with a key that cannot sign
    } finally {
      await server.close();
    }
  });
});
