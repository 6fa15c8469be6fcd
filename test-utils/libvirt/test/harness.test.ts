// The harness itself: the private daemon answers and has only our pool and no network, and the tiny
// image's OCI layout is what OCK's is (one layer; its tar holds exactly disk/boot.qcow2, byte for byte).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tinyOciLayout } from '../src/index.ts';
import { libvirtFromInject } from '../src/vitest.ts';

describe('test-libvirt harness', () => {
  it('runs a private daemon with the images pool and no network', async () => {
    const { uri, pool, pids } = libvirtFromInject();
    expect(pids.libvirtd).toBeGreaterThan(0);
    const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', uri, ...args]);
    expect((await virsh('pool-list', '--name')).stdout.trim()).toBe(pool.name);
    expect((await virsh('net-list', '--all', '--name')).stdout.trim()).toBe('');
  });

  it('lays the tiny image out as OCK: layer 0 holds disk/boot.qcow2', async () => {
    const { bootImage } = libvirtFromInject();
    const layout = await tinyOciLayout('1.33');
    const inspect = JSON.parse(
      (await execa('skopeo', ['inspect', '--raw', `oci:${layout.dir}:${layout.tag}`])).stdout,
    ) as { layers: { digest: string }[] };
    expect(inspect.layers).toHaveLength(1);
    const layer = await readFile(join(layout.dir, 'blobs', 'sha256', inspect.layers[0]!.digest.slice(7)));
    const tar = gunzipSync(layer);
    expect(tar.subarray(0, 15).toString()).toBe('disk/boot.qcow2');
    const size = Number.parseInt(tar.subarray(124, 135).toString(), 8);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(tar.subarray(512, 512 + size))).toBe(sha(await readFile(bootImage)));
  });
});
