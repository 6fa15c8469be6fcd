// The GPT reader against sgdisk's table on the generated OCK disk, and its refusals.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateOckDisk } from '@ocne/test-images';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGpt } from '../src/index.js';

describe('readGpt', () => {
  let work: string;
  let raw: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ocne-gpt-'));
    raw = join(work, 'disk.raw');
    await execa('qemu-img', ['convert', '-O', 'raw', await generateOckDisk(), raw]);
  }, 120_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  const reader = (path: string) => async (offset: number, length: number) => {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };

  it('reads the partitions partx reads, with their names and GUIDs', async () => {
    const table = await readGpt(reader(raw));
    const partx = (await execa('partx', ['-g', '-b', '-o', 'NR,START,SIZE,NAME,UUID', raw])).stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    expect(table.sectorSize).toBe(512);
    expect(table.diskGuid).toBe('0c0bd15c-0000-4000-8000-000000000000');
    expect(
      table.partitions.map((p) => [String(p.number), String(p.firstLba), String(p.size), p.name, p.guid]),
    ).toEqual(partx);
    expect(table.partitions[0]?.typeGuid).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
    expect(table.partitions.map((p) => p.offset)).toEqual(table.partitions.map((p) => p.firstLba * 512));
  });

  it('refuses a table whose checksum does not match, and a disk without one', async () => {
    const bytes = Buffer.from(await reader(raw)(0, 34 * 512));
    const corrupt = Buffer.from(bytes);
    corrupt[1024 + 32] = (corrupt[1024 + 32] ?? 0) ^ 0xff; // first entry's unique GUID
    const fromBuffer = (buffer: Buffer) => async (offset: number, length: number) =>
      buffer.subarray(offset, offset + length);
    await expect(readGpt(fromBuffer(corrupt))).rejects.toMatchObject({
      code: 'OCNE_IMAGE_LAYOUT_INVALID',
      message: 'the GPT entry array checksum does not match',
    });
    await expect(readGpt(fromBuffer(Buffer.alloc(34 * 512)))).rejects.toMatchObject({
      code: 'OCNE_IMAGE_LAYOUT_INVALID',
      message: 'the disk has no GUID partition table',
    });
  });
});
