// `pnpm bench ostree`: createImage({ type: 'ostree' }) on a larger generated image (OSTREE_BENCH_MB,
// default 200 MB of /usr content in many files) and the real-nginx base: the time in all,
// unencapsulation throughput, the server image, and the peak
// RSS of this process while it runs, against the ostree CLI doing the same import (path B:
// extract the layers, `ostree pull-local`). The peak RSS must stay under 300 MB whatever the image
// size (streaming); the times are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableRow } from '@ocne/test-bench';
import { copyToDir, nginxRealBaseFixture, ostreeImageFixture } from '@ocne/test-ostree';
import { createImage } from '../src/index.ts';

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
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    layers: { digest: string; size: number }[];
  };
  const compressed = manifest.layers.reduce((n, l) => n + l.size, 0);
  const nginx = await nginxRealBaseFixture();
  const base = peak;
  // The whole of createImage({ type: 'ostree' }): the image is already in a `dir:` layout, as
  // after a pull, so the time is the unpacking and the server image, told apart by its steps.
  const t1 = performance.now();
  const stepEnds = new Map<string, number>();
  const op = createImage({
    type: 'ostree',
    kubernetesVersion: '1.33',
    home: join(work, 'home'),
    baseImage: `oci:${nginx.layout}:${nginx.tag}`,
    pull: async () => ({ directory: dir }),
  });
  op.onEvent((e) => {
    if (e.type === 'step' && e.status === 'succeeded') stepEnds.set(e.step, performance.now());
  });
  const result = await op;
  const createMs = performance.now() - t1;
  const unpacked = stepEnds.get('Unpacking ostree image') ?? t1;
  const unencapMs = unpacked - t1;
  const serverMs = (stepEnds.get('Generating container image') ?? unpacked) - unpacked;
  const importPeak = peak;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());

  // Path B, the ostree CLI: extract every layer's repo, then pull-local into an archive repo.
  const t3 = performance.now();
  const extracted = join(work, 'extracted');
  execFileSync('mkdir', ['-p', extracted]);
  for (const layer of manifest.layers) {
    execFileSync('tar', [
      '--numeric-owner',
      '-xpzf',
      join(dir, layer.digest.slice('sha256:'.length)),
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
  console.log(`createImage({ type: 'ostree' }) in all: ${(createMs / 1000).toFixed(1)} s`);
  console.log(
    `peak RSS: ${mib(peak)}; during the import ${mib(importPeak)}, before it ${mib(base)} (limit ${mib(LIMIT)})`,
  );
  tableRow({
    what: `createImage ostree: ${mib(compressed)} of layers, ${result.contentObjects} content objects`,
    ours: `${(createMs / 1000).toFixed(1)} s in all (unpack ${(unencapMs / 1000).toFixed(1)} s), peak RSS ${mib(peak)}`,
    peer: `ostree CLI tar + pull-local: ${(cliMs / 1000).toFixed(1)} s`,
    ratio: `${(unencapMs / cliMs).toFixed(2)}x (unpack)`,
    goal: 'RSS < 300 MB; unpack about the CLI',
  });
  if (peak > LIMIT) {
    console.error('peak RSS over the limit: the import is not streaming');
    process.exitCode = 1;
  }
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}
