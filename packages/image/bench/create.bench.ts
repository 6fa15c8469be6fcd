// `pnpm bench create`: createImage --type oci on a 4 GiB (virtual, sparse) OCK-like disk whose root
// holds 1 GiB (OCNE_BENCH_FILLER_MIB) of incompressible data, so layer 0 and the extracted disk
// have the size of the memory bound (a 4 GiB sparse qcow2 and a 1 GiB layer). Reports the
// wall time per editor (loop always; guestfs too with OCNE_BENCH_GUESTFS=1, it takes minutes under
// TCG) and the process's peak RSS, which must stay bounded (streaming, nothing held in memory).
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableRow } from '@ocne/test-bench';
import { buildOckOciImage, generateOckDisk } from '@ocne/test-images';
import { execa } from 'execa';
import { createImage, imageCacheDirectory } from '../src/index.ts';

const MiB = 1024 * 1024;
const work = await mkdtemp(join(tmpdir(), 'ocne-bench-image-'));
try {
  let t = performance.now();
  const fillerMiB = Number(process.env.OCNE_BENCH_FILLER_MIB ?? 1024);
  const disk = await generateOckDisk({ sizeMiB: 4096, fillerMiB });
  const oci = join(work, 'oci');
  const { layerDigest } = await buildOckOciImage({ disk, directory: oci });
  console.log(
    `fixture: ${((performance.now() - t) / 1000).toFixed(1)} s (disk ${((await stat(disk)).size / MiB).toFixed(0)} MiB on disk, 4096 MiB virtual)`,
  );
  const layer = (await stat(join(oci, 'blobs', 'sha256', layerDigest.slice(7)))).size;
  console.log(`layer 0: ${(layer / MiB).toFixed(0)} MiB gzip`);

  const editors =
    process.env.OCNE_BENCH_GUESTFS === '1' ? (['loop', 'guestfs'] as const) : (['loop'] as const);
  for (const editor of editors) {
    const home = join(work, editor);
    await mkdir(home);
    t = performance.now();
    const op = createImage({
      editor,
      home,
      kubernetesVersion: '1.33',
      pull: async ({ reference }) => {
        const directory = imageCacheDirectory(home, reference);
        await mkdir(directory, { recursive: true });
        await execa('skopeo', ['copy', '--quiet', `oci:${oci}:1.33`, `dir:${directory}`]);
        return { directory };
      },
    });
    let pulled = 0;
    let extracted = 0;
    op.onEvent((e) => {
      if (e.type === 'step' && e.status === 'started' && e.step.startsWith('Extracting'))
        pulled = performance.now();
      if (e.type === 'step' && e.status === 'succeeded' && e.step.startsWith('Extracting'))
        extracted = performance.now();
    });
    await op;
    const end = performance.now();
    console.log(
      `${editor}: ${((end - t) / 1000).toFixed(1)} s in all (skopeo copy ${((pulled - t) / 1000).toFixed(1)} s, extract ${((extracted - pulled) / 1000).toFixed(1)} s, edit and move ${((end - extracted) / 1000).toFixed(1)} s)`,
    );
    const rss = process.resourceUsage().maxRSS / 1024;
    tableRow({
      what: `createImage oci (${editor} editor): 4 GiB sparse qcow2, ${(layer / MiB).toFixed(0)} MiB layer 0`,
      ours: `${((end - pulled) / 1000).toFixed(1)} s (extract + edit + move), peak RSS ${rss.toFixed(0)} MB`,
      peer: 'peak RSS bound 300 MB (upstream: builder pod + qemu-nbd, not runnable here)',
      ratio: `${(rss / 300).toFixed(2)}x of the bound`,
      goal: 'RSS < 300 MB',
    });
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(`peak RSS of this process: ${peak.toFixed(0)} MB (bound: 300 MB)`);
  if (peak > 300) {
    console.error('peak RSS above 300 MB');
    process.exitCode = 1;
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
