// Test images: real qcow2 files made by qemu-img (random content, so gzip cannot shrink them and
// every byte travels; or sparse, so a large virtual size costs no disk).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';

/** A qcow2 image at `path` holding `mib` MiB of random data. */
export function randomQcow2(path: string, mib: number): void {
  const raw = `${path}.raw`;
  writeFileSync(raw, randomBytes(mib * 2 ** 20));
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, path]);
  rmSync(raw);
}

/** A sparse qcow2 image of `size` (e.g. `4G`), its clusters preallocated as holes. */
export function sparseQcow2(path: string, size: string): void {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', path, size]);
}
