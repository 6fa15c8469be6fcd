// `pnpm bench ostree`: the ostree image on a larger generated image (OSTREE_BENCH_MB, default 200
// MB of /usr content in many files): unencapsulation throughput, the server image, and the peak
// RSS of this process while it runs, against the ostree CLI doing the same import (path B:
// extract the layers, `ostree pull-local`). The peak RSS must stay under 300 MB whatever the image
// size (streaming); the times are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyToDir, nginxBaseFixture, ostreeImageFixture } from '@ocne/test-ostree';
import { openDirImage, openOciLayoutImage } from '../src/layout/oci-layout.ts';
import { writeServerImage } from '../src/ostree/server-image.ts';
import { unencapsulate } from '../src/ostree/unencapsulate.ts';

const MB = Number(process.env.OSTREE_BENCH_MB ?? 200);
const LIMIT = 300 * 1024 * 1024;

const t0 = performance.now();
const fixture = await ostreeImageFixture({ bigMb: MB });
console.log(
  `fixture (${MB} MB, ${fixture.contentObjects} content objects): ${((performance.now() - t0) / 1000).toFixed(1)} s (cached after the first run)`,
);
const work = await mkdtemp(join(tmpdir(), 'ocne-ostree-bench-'));
let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 20);
try {
  const dir = join(work, 'dir');
  await copyToDir(`oci:${fixture.layout}:ock`, dir);
  const image = await openDirImage(dir);
  const compressed = image.manifest.layers.reduce((n, l) => n + l.size, 0);
  const base = peak;
  const t1 = performance.now();
  const result = await unencapsulate({ image, repo: join(work, 'repo') });
  const unencapMs = performance.now() - t1;
  const importPeak = peak;
  const t2 = performance.now();
  const baseImage = await openOciLayoutImage((await nginxBaseFixture()).layout, 'nginx');
  await writeServerImage({
    base: baseImage,
    repo: join(work, 'repo'),
    destination: join(work, 'server.tar'),
    workDir: work,
    commit: result.commit,
  });
  const serverMs = performance.now() - t2;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());

  // Path B, the ostree CLI: extract every layer's repo, then pull-local into an archive repo.
  const t3 = performance.now();
  const extracted = join(work, 'extracted');
  execFileSync('mkdir', ['-p', extracted]);
  for (const layer of image.manifest.layers) {
    execFileSync('tar', [
      '--numeric-owner',
      '-xpzf',
      image.blobPath(layer.digest),
      '-C',
      extracted,
      'sysroot/ostree/repo',
    ]);
  }
  execFileSync('ostree', ['init', `--repo=${join(work, 'cli')}`, '--mode=archive']);
  execFileSync('ostree', [
    'pull-local',
    `--repo=${join(work, 'cli')}`,
    join(extracted, 'sysroot/ostree/repo'),
    result.commit,
  ]);
  const cliMs = performance.now() - t3;

  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    `layers: ${mib(compressed)} compressed, ${result.contentObjects} content + ${result.metadataObjects} metadata objects`,
  );
  console.log(
    `unencapsulate (TypeScript): ${(unencapMs / 1000).toFixed(1)} s, ${(MB / (unencapMs / 1000)).toFixed(1)} MB/s of content`,
  );
  console.log(
    `ostree CLI (tar + pull-local): ${(cliMs / 1000).toFixed(1)} s (ratio ${(unencapMs / cliMs).toFixed(2)})`,
  );
  console.log(`server image (layer + oci-archive): ${(serverMs / 1000).toFixed(1)} s`);
  console.log(
    `peak RSS: ${mib(peak)}; during the import ${mib(importPeak)}, before it ${mib(base)} (limit ${mib(LIMIT)})`,
  );
  if (peak > LIMIT) {
    console.error('peak RSS over the limit: the import is not streaming');
    process.exitCode = 1;
  }
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}
