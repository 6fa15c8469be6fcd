// `pnpm bench image`: push and pull of one 1 GiB layer through the real registry (docker-registry
// on 127.0.0.1 with TLS and Basic auth), with throughput and the process's peak RSS, which must
// stay under 300 MB: blobs are streamed by byte ranges, never held in memory. The figure is
// process-wide peak RSS (getrusage), so it includes Node itself and the test registry helpers.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullImage, uploadImage } from '@ocne/image';
import { tableRow } from '@ocne/test-bench';
import { startTestRegistry } from '@ocne/test-registry';

const SIZE = Number(process.env.OCNE_BENCH_LAYER_BYTES ?? 1024 * 1024 * 1024);
const LIMIT_MB = 300;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

const work = await mkdtemp(join(tmpdir(), 'ocne-bench-registry-'));
const registry = await startTestRegistry({ auth: 'basic' });
let failed = false;
try {
  // An OCI layout with one layer of random bytes, written and hashed in 4 MiB pieces.
  const layout = join(work, 'layout');
  await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
  const layerPath = join(layout, 'blobs/sha256/layer');
  const hash = createHash('sha256');
  const file = await open(layerPath, 'w');
  for (let done = 0; done < SIZE; ) {
    const chunk = randomBytes(Math.min(4 * 1024 * 1024, SIZE - done));
    hash.update(chunk);
    await file.write(chunk);
    done += chunk.length;
  }
  await file.close();
  const layerDigest = `sha256:${hash.digest('hex')}`;
  const { rename } = await import('node:fs/promises');
  await rename(layerPath, join(layout, 'blobs/sha256', layerDigest.slice(7)));
  const put = async (value: object) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(layout, 'blobs/sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const config = await put({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
  });
  const manifest = await put({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: SIZE }],
  });
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }],
    }),
  );
  const before = peakRssMb();
  console.log(`layer: ${mb(SIZE)} MiB; peak RSS before the transfers: ${before.toFixed(0)} MB`);

  const auth = { username: registry.username, password: registry.password };
  const tls = { caFile: registry.pki.caPath };
  const reference = `docker://${registry.host}/bench/layer:1`;
  let t0 = performance.now();
  await uploadImage({ type: 'ostree', source: `oci:${layout}`, destination: reference, auth, tls });
  let seconds = (performance.now() - t0) / 1000;
  const afterPush = peakRssMb();
  console.log(
    `push: ${seconds.toFixed(1)} s, ${(SIZE / 1024 / 1024 / seconds).toFixed(0)} MiB/s, peak RSS ${afterPush.toFixed(0)} MB`,
  );

  t0 = performance.now();
  const pulled = await pullImage({ reference, arch: 'amd64', home: join(work, 'home'), auth, tls });
  seconds = (performance.now() - t0) / 1000;
  const afterPull = peakRssMb();
  console.log(
    `pull: ${seconds.toFixed(1)} s, ${(SIZE / 1024 / 1024 / seconds).toFixed(0)} MiB/s (digest verified), peak RSS ${afterPull.toFixed(0)} MB`,
  );
  if (pulled.layers[0]?.digest !== layerDigest) throw new Error('pulled the wrong layer');
  tableRow({
    what: `push + pull of a ${mb(SIZE)} MiB layer (docker-registry, TLS, Basic auth)`,
    ours: `pull ${seconds.toFixed(1)} s, peak RSS ${afterPull.toFixed(0)} MB`,
    peer: `peak RSS bound ${LIMIT_MB} MB`,
    ratio: `${(afterPull / LIMIT_MB).toFixed(2)}x of the bound`,
    goal: `RSS < ${LIMIT_MB} MB`,
  });
  if (afterPull > LIMIT_MB) {
    console.log(`FAIL: peak RSS ${afterPull.toFixed(0)} MB is over ${LIMIT_MB} MB`);
    failed = true;
  } else {
    console.log(`ok: peak RSS ${afterPull.toFixed(0)} MB stays under ${LIMIT_MB} MB`);
  }
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
