// uploadOciImage and ensureOciImageDetails against the OCI API server with the real oci-*
// clients: a generated qcow2 streamed as a multipart upload and imported; a reset mid-way
// recovered (in the same run and by a second run) without sending the file twice; failures typed.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { OcneEvent } from '@ocne/core';
import { readTarGz, startOciApiServer } from '@ocne/test-oci-api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ensureOciImageDetails,
  OCI_ARM_SHAPES,
  type UploadOciImageOptions,
  uploadOciImage,
} from '../src/index.js';
import { type CloudFixture, cloudFixture } from './helpers.js';
import { randomQcow2 } from './images.js';

const MiB = 2 ** 20;
let f: CloudFixture;
let image: string;
let imageSize: number;
let compartmentId: string;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  f = await cloudFixture({ importDurationMs: 200 });
  image = join(f.dir, 'boot.qcow2-1.33-amd64.oci');
  randomQcow2(image, 12);
  imageSize = statSync(image).size;
  compartmentId = f.server.model.addCompartmentPath('ocne/images');
});
afterAll(() => f?.close());
afterEach(() => f.server.faults.clear());

const options = (extra: Partial<UploadOciImageOptions> = {}): UploadOciImageOptions => ({
  ...f.options(),
  file: image,
  compartment: 'ocne/images',
  architecture: 'amd64',
  partSize: MiB,
  parallelUploads: 3,
  pollIntervalMs: 20,
  ...extra,
});

/** Body bytes the server read for UploadPart since log entry `from`. */
const partBytes = (from: number) =>
  f.server.log
    .slice(from)
    .filter((e) => e.operation === 'UploadPart')
    .reduce((n, e) => n + e.bytes, 0);

describe('uploadOciImage', { timeout: 60_000 }, () => {
  it('streams the archive in parts, imports it, and reports progress', async () => {
    const from = f.server.log.length;
    const events: OcneEvent[] = [];
    const result = await uploadOciImage({ ...options(), onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({
      compartmentId,
      namespace: f.server.namespace,
      bucket: 'ocne-images',
      objectName: 'ocne_boot.qcow2-1.33-amd64.oci',
      resumedParts: 0,
      pca: false,
    });
    expect(result.parts).toBe(Math.ceil(result.objectSize / MiB));
    const stored = f.server.model.image(result.imageId);
    expect(stored).toMatchObject({
      lifecycleState: 'AVAILABLE',
      displayName: 'ock',
      compartmentId,
      freeformTags: { 'ocne/architecture': 'amd64', 'ocne/kubernetes': '1.33' },
    });
    // The object is upstream's format: the qcow2, then the metadata.
    const object = f.server.storage.object(f.server.namespace, 'ocne-images', result.objectName);
    const entries = await readTarGz(object.file);
    expect(entries.map((e) => [e.name, e.size])).toEqual([
      ['output.QCOW2', imageSize],
      ['image_metadata.json', expect.any(Number)],
    ]);
    const metadata = JSON.parse(entries[1]?.content?.toString() ?? '');
    expect(metadata.externalLaunchOptions).toMatchObject({
      firmware: 'UEFI_64',
      launchOptionsSource: 'NATIVE',
    });
    expect(metadata.additionalMetadata.shapeCompatibilities).toHaveLength(56);
    // Every byte once, no PutObject of the whole archive.
    expect(partBytes(from)).toBe(result.objectSize);
    expect(f.server.requests('PutObject')).toEqual([]);
    const progress = events.filter((e) => e.type === 'progress' && e.step.startsWith('Uploading'));
    expect(progress.at(-1)).toMatchObject({ transferredBytes: imageSize, totalBytes: imageSize });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'progress', step: 'Importing compute image', transferredBytes: 100 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', message: `Image OCID is ${result.imageId}` }),
    );
  });

  it('streams the first part while making it; an archive shorter than a part is sent whole after all', async () => {
    const from = f.server.log.length;
    const result = await uploadOciImage(options({ partSize: 64 * MiB, imageName: 'one-part' }));
    expect(result.parts).toBe(1);
    // The request that streamed the part as a whole 64 MiB one broke off at the archive's end; the
    // part went again with its real length, and only that copy is stored.
    const parts = f.server.log.slice(from).filter((e) => e.operation === 'UploadPart');
    expect(parts.map((e) => e.status === 200)).toEqual([false, true]);
    expect(parts[1]!.bytes).toBe(result.objectSize);
    expect(parts[0]!.bytes).toBeLessThanOrEqual(result.objectSize);
    const object = f.server.storage.object(f.server.namespace, 'ocne-images', result.objectName);
    expect((await readTarGz(object.file)).map((e) => [e.name, e.size])[0]).toEqual([
      'output.QCOW2',
      imageSize,
    ]);
  });

  it('resends only the part a reset cut off', async () => {
    const from = f.server.log.length;
    f.server.faults.add({ operation: 'UploadPart', nth: [5], resetAfterBytes: MiB / 2 });
    const result = await uploadOciImage(options());
    expect(f.server.log.slice(from).some((e) => e.operation === 'UploadPart' && e.fault === 'reset')).toBe(
      true,
    );
    expect(partBytes(from)).toBeLessThanOrEqual(1.1 * result.objectSize);
  });

  it('resumes a failed upload in a second run without sending the stored parts again', async () => {
    const from = f.server.log.length;
    f.server.faults.add({ operation: 'UploadPart', nth: [6], resetAfterBytes: MiB / 2 });
    const failed = await uploadOciImage(options({ parallelUploads: 1, retry: { attempts: 1 } })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toMatchObject({ code: 'OCNE_OCI_UNREACHABLE', operation: 'UploadPart' });
    const events: OcneEvent[] = [];
    const result = await uploadOciImage({
      ...options({ parallelUploads: 1 }),
      onEvent: (e) => events.push(e),
    });
    expect(result.resumedParts).toBe(5);
    expect(partBytes(from)).toBeLessThanOrEqual(1.1 * result.objectSize);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', message: expect.stringContaining('Resuming the upload') }),
    );
    expect(f.server.model.image(result.imageId).lifecycleState).toBe('AVAILABLE');
  });

  it('says the import failed, with the work request error', async () => {
    f.server.faults.add({
      operation: 'CreateImage',
      failImport: { code: 'InvalidImageFormat', message: 'bad disk' },
    });
    const error = await uploadOciImage(options()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'OCNE_OCI_IMPORT_FAILED',
      message: expect.stringContaining('InvalidImageFormat: bad disk'),
    });
  });

  it('ends a hanging part upload with a timeout error, in bounded time', async () => {
    f.server.faults.add({ operation: 'UploadPart', hang: true });
    const started = Date.now();
    const error = await uploadOciImage(
      options({ requestTimeoutMs: 200, retry: { attempts: 2, baseDelayMs: 5 } }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'OCNE_OCI_TIMEOUT', operation: 'UploadPart' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a file that is not a qcow2 image before any request', async () => {
    const from = f.server.log.length;
    const error = await uploadOciImage(options({ file: f.configFile })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'OCNE_OCI_IMAGE_FILE_INVALID' });
    expect(f.server.log.length).toBe(from);
  });

  it('writes the Private Cloud Appliance metadata when Oracle Cloud has one region', async () => {
    const pca = await startOciApiServer({ regions: ['pca-region'], importDurationMs: 50 });
    try {
      const config = await pca.writeConfig(join(f.dir, 'pca'));
      const result = await uploadOciImage(
        options({ configFile: config, endpoint: pca.url, compartment: pca.model.addCompartmentPath('p') }),
      );
      expect(result.pca).toBe(true);
      const object = pca.storage.object(pca.namespace, 'ocne-images', result.objectName);
      const metadata = JSON.parse((await readTarGz(object.file))[1]?.content?.toString() ?? '');
      expect(metadata.externalLaunchOptions.launchOptionsSource).toBe('CUSTOM');
    } finally {
      await pca.close();
    }
  });
});

describe('ensureOciImageDetails', { timeout: 60_000 }, () => {
  it('makes the capability schema and limits an arm64 image to the Ampere shapes', async () => {
    const arm = join(f.dir, 'boot.qcow2-1.33-arm64.oci');
    randomQcow2(arm, 1);
    const { imageId } = await uploadOciImage(options({ file: arm, architecture: 'arm64' }));
    expect([...f.server.model.shapes(imageId)]).toContain('a1-2c.160.1024');
    await ensureOciImageDetails({ ...f.options(), imageId, compartmentId, architecture: 'arm64' });
    const schema = [...f.server.model.capabilitySchemas.values()].find((s) => s.imageId === imageId);
    expect(Object.keys(schema?.schemaData ?? {}).sort()).toEqual(['Compute.Firmware', 'Compute.LaunchMode']);
    expect([...f.server.model.shapes(imageId)].sort()).toEqual(
      [...OCI_ARM_SHAPES, 'VM.Standard.Generic'].sort(),
    );
    // Again: nothing changes, nothing fails.
    await ensureOciImageDetails({ ...f.options(), imageId, compartmentId, architecture: 'arm64' });
    expect([...f.server.model.capabilitySchemas.values()].filter((s) => s.imageId === imageId)).toHaveLength(
      1,
    );
  });

  it('refuses when there is not exactly one global capability schema', async () => {
    const odd = await startOciApiServer({ globalSchemas: 2 });
    try {
      const config = await odd.writeConfig(join(f.dir, 'odd'));
      const image = odd.model.addImage({ compartmentId: odd.tenancyId, displayName: 'ock' });
      const error = await ensureOciImageDetails({
        ...f.options({ configFile: config, endpoint: odd.url }),
        imageId: image.id,
        compartmentId: odd.tenancyId,
        architecture: 'amd64',
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'OCNE_OCI_CAPABILITY_SCHEMA' });
    } finally {
      await odd.close();
    }
  });
});
