// The OCI cloud layer over HTTPS, as Oracle Cloud is reached: the test OCI API server serves TLS
// with a certificate from a fresh test CA, and the real oci-* clients trust that CA through the
// session's own setting (an undici dispatcher of these clients only), never process-wide.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOcneError } from '@ocne/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOciLookup, uploadOciImage } from '../../src/index.js';
import { type CloudFixture, cloudFixture } from '../helpers.js';
import { randomQcow2 } from '../images.js';

let f: CloudFixture;
let ca: string;
let compartmentId: string;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  f = await cloudFixture({ tls: true, importDurationMs: 200 });
  ca = await readFile(f.server.caPath!, 'utf8');
  compartmentId = f.server.model.addCompartmentPath('ocne/tls');
});
afterAll(() => f?.close());

describe('the cloud layer over TLS', { timeout: 60_000 }, () => {
  it('resolves a compartment path, finds the newest image and uploads one, trusting the test CA', async () => {
    expect(f.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const lookup = createOciLookup(f.options({ caCertificates: ca }));
    try {
      expect(await lookup.compartmentId('ocne/tls', 'DEFAULT')).toBe(compartmentId);
      const image = join(f.dir, 'boot.qcow2-1.33-arm64.oci');
      randomQcow2(image, 3);
      const uploaded = await uploadOciImage({
        ...f.options({ caCertificates: ca }),
        file: image,
        compartment: 'ocne/tls',
        architecture: 'arm64',
        partSize: 2 ** 20,
        pollIntervalMs: 20,
      });
      expect(f.server.requests('UploadPart').length).toBeGreaterThan(1);
      expect(
        await lookup.latestImage({
          name: 'ock',
          kubernetesVersion: '1.33',
          architecture: 'arm64',
          compartmentId,
          profile: 'DEFAULT',
        }),
      ).toBe(uploaded.imageId);
    } finally {
      lookup.close();
    }
  });

  it('reads the CA from OCI_DEFAULT_CERTS_PATH, as the OCI Go SDK does', async () => {
    const lookup = createOciLookup(f.options({ env: { OCI_DEFAULT_CERTS_PATH: f.server.caPath! } }));
    try {
      expect(await lookup.compartmentId('ocne/tls', 'DEFAULT')).toBe(compartmentId);
    } finally {
      lookup.close();
    }
  });

  it('without the CA the server is not trusted (a typed error), and nothing process-wide trusts it', async () => {
    const lookup = createOciLookup(f.options());
    const error = await lookup.compartmentId('ocne/tls', 'DEFAULT').catch((e: unknown) => e);
    lookup.close();
    expect(isOcneError(error), String(error)).toBe(true);
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
    // After sessions that trusted the CA, a plain fetch of this process still refuses the server.
    await expect(fetch(`${f.server.url}/n/`)).rejects.toThrow();
  });
});
