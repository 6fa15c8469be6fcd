// References as containers/image reads them, credentials found where containers and docker keep
// them (most specific entry first), and WWW-Authenticate challenges.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLocalLocation, parseRegistryReference } from '@ocne/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCredentials, parseChallenge } from '../src/registry/auth.ts';

describe('parseRegistryReference', () => {
  it.each([
    [
      'docker://container-registry.oracle.com/olcne/ock:1.33',
      'container-registry.oracle.com',
      'olcne/ock',
      '1.33',
      undefined,
    ],
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined],
    ['docker.io/x/y', 'docker.io', 'x/y', 'latest', undefined],
    ['index.docker.io/busybox:1', 'docker.io', 'library/busybox', '1', undefined],
    ['localhost/a', 'localhost', 'a', 'latest', undefined],
    ['127.0.0.1:5000/a/b:t', '127.0.0.1:5000', 'a/b', 't', undefined],
    [`h.io/a:t@sha256:${'a'.repeat(64)}`, 'h.io', 'a', 't', `sha256:${'a'.repeat(64)}`],
    [`h.io/a@sha256:${'b'.repeat(64)}`, 'h.io', 'a', undefined, `sha256:${'b'.repeat(64)}`],
  ])('%s', (value, registry, repository, tag, digest) => {
    expect(parseRegistryReference(value)).toEqual({ registry, repository, tag, digest });
  });

  it.each(['', 'docker://', 'h.io/UPPER:1', 'h.io/a:bad tag', 'h.io/a@sha256:123', 'h.io/a::1'])(
    'refuses %j',
    (value) => {
      expect(() => parseRegistryReference(value)).toThrow(
        expect.objectContaining({ code: 'OCNE_IMAGE_REFERENCE_INVALID' }),
      );
    },
  );
});

describe('parseLocalLocation', () => {
  it('splits at the first colon after the transport, as containers does', () => {
    expect(parseLocalLocation('oci-archive:/x/a.tar:ock-ostree:latest')).toEqual({
      transport: 'oci-archive',
      path: '/x/a.tar',
      name: 'ock-ostree:latest',
    });
    expect(parseLocalLocation('dir:/a:b')).toEqual({ transport: 'dir', path: '/a:b', name: undefined });
    expect(parseLocalLocation('docker://x/y')).toBeUndefined();
  });
});

describe('findCredentials', () => {
  let home: string;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'ocne-auth-'));
    await mkdir(join(home, '.docker'));
    await writeFile(
      join(home, '.docker/config.json'),
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: b64('hub:1') }, 'r.io': { auth: b64('docker:2') } },
      }),
    );
    await writeFile(
      join(home, 'auth.json'),
      JSON.stringify({ auths: { 'r.io/team': { auth: b64('team:3') }, 'r.io': { auth: b64('all:4') } } }),
    );
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('reads REGISTRY_AUTH_FILE first, the most specific key first, then ~/.docker/config.json', async () => {
    const env = { REGISTRY_AUTH_FILE: join(home, 'auth.json') };
    expect(await findCredentials('r.io', 'team/app', { env, home })).toEqual({
      username: 'team',
      password: '3',
    });
    expect(await findCredentials('r.io', 'other/app', { env, home })).toEqual({
      username: 'all',
      password: '4',
    });
    expect(await findCredentials('r.io', 'other/app', { env: {}, home })).toEqual({
      username: 'docker',
      password: '2',
    });
    expect(await findCredentials('docker.io', 'library/x', { env: {}, home })).toEqual({
      username: 'hub',
      password: '1',
    });
    expect(await findCredentials('none.io', 'x', { env, home })).toBeUndefined();
  });
});

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges', () => {
    expect(
      parseChallenge('Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull,push"'),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a/token', service: 'reg', scope: 'repository:x/y:pull,push' },
    });
    expect(parseChallenge('Basic realm="ocne"')).toEqual({ scheme: 'basic', params: { realm: 'ocne' } });
  });
});
