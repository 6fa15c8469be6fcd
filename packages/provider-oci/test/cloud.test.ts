// The cloud layer against the OCI API server with the real oci-* clients: configuration and
// authentication, compartment paths and image lookups across pages, and every fault ending in
// success after retries or a typed error in bounded time.
import { isOcneError } from '@ocne/core';
import { Region, SimpleAuthenticationDetailsProvider } from 'oci-common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOciLookup, OciServiceError } from '../src/index.js';
import { type CloudFixture, cloudFixture } from './helpers.js';

let f: CloudFixture;

beforeAll(async () => {
  // The SDK warns on the console about each failed call it makes.
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  f = await cloudFixture({ pageSize: 2 });
});
afterAll(() => f?.close());
afterEach(() => f.server.faults.clear());

const codeOf = (error: unknown) => (isOcneError(error) ? error.code : String(error));

describe('configuration', () => {
  it('signs with a passphrase-protected key of a named profile', async () => {
    const configFile = await f.server.writeConfig(`${f.dir}/pass`, {
      profile: 'WORK',
      passphrase: 'open sesame',
    });
    const id = f.server.model.addCompartmentPath('passphrase');
    const lookup = createOciLookup(f.options({ configFile }));
    expect(await lookup.compartmentId('passphrase', 'WORK')).toBe(id);
    lookup.close();
  });

  it("signs with the embedder's authentication provider, without a config file", async () => {
    const id = f.server.model.addCompartmentPath('embedded');
    const pem = f.server.key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const authenticationProvider = new SimpleAuthenticationDetailsProvider(
      f.server.tenancyId,
      f.server.userId,
      f.server.key.fingerprint,
      pem,
      null,
      Region.US_ASHBURN_1,
    );
    const { configFile: _unused, ...options } = f.options();
    const lookup = createOciLookup({ ...options, authenticationProvider, env: { HOME: `${f.dir}/nowhere` } });
    expect(await lookup.compartmentId('embedded', 'DEFAULT')).toBe(id);
    lookup.close();
  });

  it('finds the config file through OCI_CONFIG_FILE, then ~/.oci/config', async () => {
    const id = f.server.model.addCompartmentPath('byenv');
    const { configFile: _unused, ...options } = f.options();
    const viaEnv = createOciLookup({ ...options, env: { OCI_CONFIG_FILE: f.configFile } });
    expect(await viaEnv.compartmentId('byenv', 'DEFAULT')).toBe(id);
    viaEnv.close();
    await f.server.writeConfig(`${f.dir}/home/.oci`);
    const viaHome = createOciLookup({ ...options, env: { HOME: `${f.dir}/home` } });
    expect(await viaHome.compartmentId('byenv', 'DEFAULT')).toBe(id);
    viaHome.close();
  });

  it('says what is wrong with a missing file or profile', async () => {
    const missing = createOciLookup(f.options({ configFile: `${f.dir}/nothing` }));
    const error = await missing.compartmentId('a', 'DEFAULT').catch((e: unknown) => e);
    expect(codeOf(error)).toBe('OCNE_OCI_CONFIG_INVALID');
    expect((error as Error).message).toContain(`${f.dir}/nothing`);
    const noProfile = createOciLookup(f.options());
    expect(codeOf(await noProfile.compartmentId('a', 'NOPE').catch((e: unknown) => e))).toBe(
      'OCNE_OCI_CONFIG_INVALID',
    );
  });

  it('reports a refused signature as an authentication error with the request id and what to do', async () => {
    const configFile = await f.server.writeConfig(`${f.dir}/wrong`, { wrongKey: true });
    const lookup = createOciLookup(f.options({ configFile }));
    const error = await lookup.compartmentId('a/b', 'DEFAULT').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OciServiceError);
    expect(error).toMatchObject({
      code: 'OCNE_OCI_AUTH_FAILED',
      status: 401,
      serviceCode: 'NotAuthenticated',
      operation: 'ListCompartments',
      attempts: 1,
    });
    const { requestId, message } = error as OciServiceError;
    expect(requestId).toMatch(/\/[0-9A-F]{8}$/);
    expect(message).toContain(requestId);
    expect(message).toContain('fingerprint');
    expect(f.server.log.at(-1)?.authFailure).toBe('bad-signature');
  });
});

describe('lookups', () => {
  it('resolves a compartment path through every page of each level', async () => {
    // Pages of 2: the wanted child is on the third page at both levels.
    for (const name of ['a1', 'a2', 'a3', 'a4']) f.server.model.addCompartment(name);
    const parent = f.server.model.addCompartment('zz-parent');
    for (const name of ['c1', 'c2', 'c3', 'c4']) f.server.model.addCompartment(name, parent.id);
    const child = f.server.model.addCompartment('zz-child', parent.id);
    const lookup = createOciLookup(f.options());
    const before = f.server.requests('ListCompartments').length;
    expect(await lookup.compartmentId('zz-parent/zz-child', 'DEFAULT')).toBe(child.id);
    expect(f.server.requests('ListCompartments').length - before).toBeGreaterThan(2);
    expect(await lookup.compartmentId('ocid1.compartment.oc1..given', 'DEFAULT')).toBe(
      'ocid1.compartment.oc1..given',
    );
    const missing = await lookup.compartmentId('zz-parent/nope', 'DEFAULT').catch((e: unknown) => e);
    expect(codeOf(missing)).toBe('OCNE_OCI_COMPARTMENT_NOT_FOUND');
    expect((missing as Error).message).toContain('could not find compartment named nope in zz-parent');
    lookup.close();
  });

  it('finds the newest tagged OCK image of an architecture, across pages', async () => {
    const compartmentId = f.server.model.addCompartmentPath('images');
    const tags = (arch: string, version = '1.33') => ({
      'ocne/architecture': arch,
      'ocne/kubernetes': version,
    });
    const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString();
    const add = (minutes: number, freeformTags: Record<string, string>, extra = {}) =>
      f.server.model.addImage({
        compartmentId,
        displayName: 'ock',
        freeformTags,
        timeCreated: at(minutes),
        ...extra,
      });
    const oldAmd = add(1, tags('amd64'));
    const newAmd = add(5, tags('amd64'));
    const arm = add(9, tags('arm64')); // newer, other architecture
    add(10, {}); // newest, untagged
    add(11, tags('amd64', '1.32')); // other version
    add(12, tags('amd64'), { lifecycleState: 'IMPORTING' }); // not usable yet
    f.server.model.addImage({
      compartmentId,
      displayName: 'other',
      freeformTags: tags('amd64'),
      timeCreated: at(20),
    });
    const lookup = createOciLookup(f.options());
    const query = { name: 'ock', kubernetesVersion: '1.33', compartmentId, profile: 'DEFAULT' } as const;
    expect(await lookup.latestImage({ ...query, architecture: 'amd64' })).toBe(newAmd.id);
    expect(oldAmd.id).not.toBe(newAmd.id);
    expect(await lookup.latestImage({ ...query, architecture: 'arm64' })).toBe(arm.id);
    expect(
      await lookup.latestImage({ ...query, kubernetesVersion: '1.31', architecture: 'arm64' }),
    ).toBeUndefined();
    lookup.close();
  });
});

describe('faults end in success after retries or a typed error, never a hang', () => {
  const lookupWith = () => createOciLookup(f.options());
  const id = () => f.server.model.addCompartmentPath('faults');

  it.each([
    ['429 TooManyRequests', { status: 429 }],
    ['429 without a code', { status: 429, code: null }],
    ['503', { status: 503 }],
    ['500', { status: 500 }],
    ['409 IncorrectState', { status: 409, code: 'IncorrectState' }],
    ['a connection reset', { resetAfterBytes: 0 }],
    ['latency', { latencyMs: 200 }],
  ])('%s twice, then success', async (_name, action) => {
    const expected = id();
    f.server.faults.add({ operation: 'ListCompartments', times: 2, ...action });
    const lookup = lookupWith();
    expect(await lookup.compartmentId('faults', 'DEFAULT')).toBe(expected);
    lookup.close();
  });

  it.each([
    ['429', { status: 429 }, 'OCNE_OCI_THROTTLED', 4],
    ['503', { status: 503 }, 'OCNE_OCI_REQUEST_FAILED', 4],
    ['a connection reset', { resetAfterBytes: 0 }, 'OCNE_OCI_UNREACHABLE', 4],
    ['409 Conflict', { status: 409 }, 'OCNE_OCI_REQUEST_FAILED', 1],
    ['404', { status: 404 }, 'OCNE_OCI_NOT_FOUND', 1],
  ])('%s for good is %s after the retries', async (_name, action, code, attempts) => {
    id();
    f.server.faults.add({ operation: 'ListCompartments', ...action });
    const lookup = lookupWith();
    const error = await lookup.compartmentId('faults', 'DEFAULT').catch((e: unknown) => e);
    expect(error).toMatchObject({ code, attempts, operation: 'ListCompartments' });
    lookup.close();
  });

  it('a server that hangs is a timeout within attempts × the time limit', async () => {
    id();
    f.server.faults.add({ operation: 'ListCompartments', hang: true });
    const lookup = createOciLookup(
      f.options({ requestTimeoutMs: 150, retry: { attempts: 2, baseDelayMs: 5 } }),
    );
    const started = Date.now();
    const error = await lookup.compartmentId('faults', 'DEFAULT').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_OCI_TIMEOUT', attempts: 2 });
    expect(Date.now() - started).toBeLessThan(2000);
    lookup.close();
  });

  it("the caller's signal stops a hanging request at once", async () => {
    id();
    f.server.faults.add({ operation: 'ListCompartments', hang: true });
    const lookup = lookupWith();
    const result = lookup
      .compartmentId('faults', 'DEFAULT', AbortSignal.timeout(100))
      .catch((e: unknown) => e);
    expect(await result).toMatchObject({ name: 'TimeoutError' });
    lookup.close();
  });
});
