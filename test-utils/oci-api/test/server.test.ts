// The OCI API server driven by the real oci-* clients (and by hand-signed requests for what no
// client sends): signatures, the resource model, imports on the test clock, object storage, faults.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as common from 'oci-common';
import { ComputeClient } from 'oci-core';
import { IdentityClient } from 'oci-identity';
import { ObjectStorageClient } from 'oci-objectstorage';
import { WorkRequestClient } from 'oci-workrequests';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateTestKey, type OciApiServer, signedFetch, startOciApiServer } from '../src/index.js';

let server: OciApiServer;
let dir: string;
let configPath: string;

const clientConfig = (attempts = 1) => ({
  retryConfiguration:
    attempts === 1
      ? common.NoRetryConfigurationDetails
      : {
          terminationStrategy: new common.MaxAttemptsTerminationStrategy(attempts),
          delayStrategy: new common.FixedTimeDelayStrategy(0.01),
        },
  circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }),
});

function clients(path = configPath, attempts = 1) {
  const auth = new common.ConfigFileAuthenticationDetailsProvider(path, 'DEFAULT');
  const identity = new IdentityClient({ authenticationDetailsProvider: auth }, clientConfig(attempts));
  const compute = new ComputeClient({ authenticationDetailsProvider: auth }, clientConfig(attempts));
  const workRequests = new WorkRequestClient({ authenticationDetailsProvider: auth }, clientConfig(attempts));
  const objects = new ObjectStorageClient({ authenticationDetailsProvider: auth }, clientConfig(attempts));
  for (const client of [identity, compute, workRequests, objects]) client.endpoint = server.url;
  return { identity, compute, workRequests, objects };
}

/** CreateImage details importing `objectName` of the bucket ocne-images. */
const importDetails = (compartmentId: string, objectName: string) => ({
  compartmentId,
  displayName: 'ock',
  imageSourceDetails: {
    sourceType: 'objectStorageTuple',
    namespaceName: server.namespace,
    bucketName: 'ocne-images',
    objectName,
  } as never,
});

const identityOf = () => ({
  keyId: `${server.tenancyId}/${server.userId}/${server.key.fingerprint}`,
  privateKey: server.key.privateKey,
});

beforeAll(async () => {
  // The SDK logs every failed or retried call with console.warn.
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'info').mockImplementation(() => {});
  server = await startOciApiServer({ pageSize: 2 });
  dir = await mkdtemp(join(tmpdir(), 'oci-api-test-'));
  configPath = await server.writeConfig(join(dir, 'oci'));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => server.faults.clear());

describe('signatures', () => {
  const url = () => `${server.url}/20160918/images`;
  const body = JSON.stringify({ compartmentId: 'x' });

  it('accepts a correctly signed request and logs what was signed', async () => {
    const response = await signedFetch(`${server.url}/20160918/regions`, identityOf());
    expect(response.status).toBe(200);
    const entry = server.log.at(-1);
    expect(entry).toMatchObject({
      operation: 'ListRegions',
      status: 200,
      signedHeaders: ['x-date', '(request-target)', 'host'],
    });
  });

  it('refuses a tampered body with 401 NotAuthenticated', async () => {
    const response = await signedFetch(url(), identityOf(), {
      method: 'POST',
      body,
      sendBody: body.replace('"x"', '"y"'),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'NotAuthenticated' });
    expect(server.log.at(-1)?.authFailure).toBe('body-digest');
  });

  it('refuses a date older than five minutes', async () => {
    const response = await signedFetch(`${server.url}/20160918/regions`, identityOf(), {
      date: new Date(Date.now() - 6 * 60_000),
    });
    expect(response.status).toBe(401);
    expect(server.log.at(-1)?.authFailure).toBe('clock-skew');
  });

  it('refuses a signature made with another key under the same key id', async () => {
    const response = await signedFetch(`${server.url}/20160918/regions`, {
      keyId: identityOf().keyId,
      privateKey: generateTestKey().privateKey,
    });
    expect(response.status).toBe(401);
    expect(server.log.at(-1)?.authFailure).toBe('bad-signature');
  });

  it('refuses a request without a signature, and a POST that did not sign its body', async () => {
    expect((await fetch(`${server.url}/20160918/regions`)).status).toBe(401);
    const response = await signedFetch(url(), identityOf(), { method: 'POST', body, excludeBody: true });
    expect(response.status).toBe(401);
    expect(server.log.at(-1)?.authFailure).toBe('missing-header');
  });

  it('gives the real client a 401 OciError for a wrong key, with the request id', async () => {
    const wrong = await server.writeConfig(join(dir, 'wrong'), { wrongKey: true });
    const { identity } = clients(wrong);
    const error = await identity.listRegions({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 401, serviceCode: 'NotAuthenticated' });
    expect((error as { opcRequestId: string }).opcRequestId).toMatch(/\/[0-9A-F]{8}$/);
  });

  it('takes a key file with a passphrase', async () => {
    const path = await server.writeConfig(join(dir, 'pass'), { passphrase: 'secret words' });
    const { identity } = clients(path);
    const response = await identity.listRegions({});
    expect(response.items.map((r) => r.name)).toContain('us-ashburn-1');
  });
});

describe('identity and compute', () => {
  it('pages compartments (opc-next-page) and the SDK paginator follows them', async () => {
    const parent = server.model.addCompartment('parent');
    for (const name of ['a', 'b', 'c', 'd', 'e']) server.model.addCompartment(name, parent.id);
    const { identity } = clients();
    const first = await identity.listCompartments({ compartmentId: parent.id });
    expect(first.items).toHaveLength(2);
    expect(first.opcNextPage).toBeTruthy();
    const names: string[] = [];
    let page: string | undefined;
    do {
      const response = await identity.listCompartments({
        compartmentId: parent.id,
        ...(page ? { page } : {}),
      });
      names.push(...response.items.map((c) => c.name));
      page = response.opcNextPage;
    } while (page);
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('imports an image from an object through a work request that moves on the test clock', async () => {
    const { compute, workRequests } = clients();
    const compartmentId = server.model.addCompartmentPath('imports');
    server.clock.freeze();
    try {
      const created = await compute.createImage({
        createImageDetails: importDetails(compartmentId, 'missing-object'),
      });
      expect(created.image.lifecycleState).toBe('IMPORTING');
      const id = created.opcWorkRequestId;
      const first = await workRequests.getWorkRequest({ workRequestId: id });
      expect(first.workRequest.status).toBe('IN_PROGRESS');
      server.clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
      const failed = await workRequests.getWorkRequest({ workRequestId: id });
      expect(failed.workRequest.status).toBe('FAILED');
      expect(failed.workRequest.timeFinished).toBeTruthy();
      const errors = await workRequests.listWorkRequestErrors({ workRequestId: id });
      expect(errors.items[0]?.code).toBe('ObjectNotFound');
    } finally {
      server.clock.resume();
    }
  });

  it('replays a CreateImage with the same retry token instead of making a second image', async () => {
    const { compute } = clients();
    const compartmentId = server.model.addCompartmentPath('tokens');
    const details = importDetails(compartmentId, 'x');
    const a = await compute.createImage({ createImageDetails: details, opcRetryToken: 'token-1' });
    const b = await compute.createImage({ createImageDetails: details, opcRetryToken: 'token-1' });
    expect(b.image.id).toBe(a.image.id);
    const other = await compute
      .createImage({ createImageDetails: { ...details, displayName: 'other' }, opcRetryToken: 'token-1' })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ statusCode: 409, serviceCode: 'InvalidatedRetryToken' });
  });
});

describe('object storage', () => {
  it('stores a multipart upload on disk and commits it with a multipart MD5', async () => {
    const { objects } = clients();
    const ns = (await objects.getNamespace({})).value;
    expect(ns).toBe(server.namespace);
    const created = await objects.createMultipartUpload({
      namespaceName: ns,
      bucketName: 'ocne-images',
      createMultipartUploadDetails: { object: 'big' },
    });
    const uploadId = created.multipartUpload.uploadId;
    const parts = [Buffer.alloc(1000, 1), Buffer.alloc(500, 2)];
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await objects.uploadPart({
        namespaceName: ns,
        bucketName: 'ocne-images',
        objectName: 'big',
        uploadId,
        uploadPartNum: i + 1,
        contentLength: part.length,
        uploadPartBody: part,
      });
      etags.push(r.eTag);
    }
    expect(server.requests('UploadPart').every((e) => e.bodySigned === false)).toBe(true);
    const listed = await objects.listMultipartUploadParts({
      namespaceName: ns,
      bucketName: 'ocne-images',
      objectName: 'big',
      uploadId,
    });
    expect(listed.items.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 1000],
      [2, 500],
    ]);
    const committed = await objects.commitMultipartUpload({
      namespaceName: ns,
      bucketName: 'ocne-images',
      objectName: 'big',
      uploadId,
      commitMultipartUploadDetails: { partsToCommit: etags.map((etag, i) => ({ partNum: i + 1, etag })) },
    });
    expect(committed.opcMultipartMd5).toMatch(/-2$/);
    expect(server.storage.object(ns, 'ocne-images', 'big').size).toBe(1500);
  });

  it('says BucketNotFound for a missing bucket', async () => {
    const { objects } = clients();
    const error = await objects
      .putObject({
        namespaceName: server.namespace,
        bucketName: 'nope',
        objectName: 'o',
        putObjectBody: Buffer.from('x'),
        contentLength: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 404, serviceCode: 'BucketNotFound' });
  });
});

describe('faults', () => {
  it('429 with TooManyRequests is retried by the SDK; a bare 429 is not', async () => {
    const { identity } = clients(configPath, 3);
    server.faults.add({ operation: 'ListRegions', status: 429, times: 2 });
    const before = server.requests('ListRegions').length;
    await identity.listRegions({});
    expect(server.requests('ListRegions').length - before).toBe(3);
    server.faults.add({ operation: 'ListRegions', status: 429, code: null, times: 1 });
    const error = await identity.listRegions({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 429, serviceCode: 'None' });
  });

  it('injects 5xx, latency and a connection reset', async () => {
    const { identity } = clients();
    server.faults.add({ operation: 'ListRegions', status: 503, times: 1 });
    expect(await identity.listRegions({}).catch((e: unknown) => e)).toMatchObject({
      statusCode: 503,
      serviceCode: 'ServiceUnavailable',
    });
    server.faults.add({ operation: 'ListRegions', latencyMs: 150, times: 1 });
    const started = Date.now();
    await identity.listRegions({});
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    server.faults.add({ operation: 'ListRegions', resetAfterBytes: 0, times: 1 });
    expect(await identity.listRegions({}).catch((e: unknown) => e)).toMatchObject({
      message: expect.stringMatching(/fetch failed/),
    });
  });

  it('caps the bandwidth of uploads', async () => {
    const { objects } = clients();
    server.faults.setBandwidth(1 << 20);
    const body = Buffer.alloc(512 * 1024, 7);
    const started = Date.now();
    await objects.putObject({
      namespaceName: server.namespace,
      bucketName: 'ocne-images',
      objectName: 'slow',
      putObjectBody: body,
      contentLength: body.length,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('hangs until the client gives up', async () => {
    server.faults.add({ operation: 'ListRegions', hang: true, times: 1 });
    const request = signedFetch(`${server.url}/20160918/regions`, identityOf(), {
      signal: AbortSignal.timeout(200),
    });
    await expect(request).rejects.toThrow();
    expect(server.log.at(-1)).toMatchObject({ operation: 'ListRegions', fault: 'hang', status: -1 });
  });
});
