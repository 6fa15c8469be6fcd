/**
 * A GUID partition table reader. The loop editor maps partitions by offset because the kernels it
 * must run on may not parse GPT themselves (no `losetup -P`, no partprobe, no udev); the table is
 * read here, checksums verified, from any byte source.
 */
import { crc32 } from 'node:zlib';
import { OcneError } from '@ocne/core';

/** One used entry of the table. */
export interface GptPartition {
  /** 1-based, as Linux numbers partitions (`sda2`, `nbd0p2`): the entry's index + 1. */
  readonly number: number;
  /** The partition type GUID, lower case, in the usual text form. */
  readonly typeGuid: string;
  readonly guid: string;
  readonly name: string;
  readonly firstLba: number;
  /** Inclusive, as the table stores it. */
  readonly lastLba: number;
  /** Byte offset and length in the disk. */
  readonly offset: number;
  readonly size: number;
}

/** A read table. */
export interface GptTable {
  readonly sectorSize: number;
  readonly diskGuid: string;
  readonly partitions: readonly GptPartition[];
}

/** Reads `length` bytes at `offset` of the disk (fewer only at its end). */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

/** The EFI System Partition type. */
export const GPT_TYPE_EFI_SYSTEM = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';

/** GUIDs are stored with their first three fields little-endian. */
export function formatGuid(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = [...bytes.subarray(from, to)];
    if (reverse) part.reverse();
    return part.map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

const invalid = (message: string): OcneError => new OcneError('OCNE_IMAGE_LAYOUT_INVALID', message);

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`the GPT ${what} is out of range`);
  return Number(value);
}

/**
 * Reads the primary GPT (header at LBA 1, 512- or 4096-byte sectors) and its used entries.
 *
 * @throws `OcneError` `OCNE_IMAGE_LAYOUT_INVALID` when there is no GPT, or its header or entry
 *   array fails its CRC32.
 */
export async function readGpt(read: ReadBytes): Promise<GptTable> {
  for (const sectorSize of [512, 4096]) {
    const header = await read(sectorSize, 92);
    if (header.length < 92 || Buffer.from(header.subarray(0, 8)).toString('latin1') !== 'EFI PART') continue;
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const headerSize = view.getUint32(12, true);
    if (headerSize < 92 || headerSize > sectorSize)
      throw invalid(`the GPT header size ${headerSize} is invalid`);
    const full = Buffer.from(await read(sectorSize, headerSize));
    const storedCrc = full.readUInt32LE(16);
    full.writeUInt32LE(0, 16);
    if (crc32(full) !== storedCrc) throw invalid('the GPT header checksum does not match');
    const entriesLba = safeNumber(view.getBigUint64(72, true), 'entry array location');
    const count = view.getUint32(80, true);
    const entrySize = view.getUint32(84, true);
    if (entrySize < 128 || entrySize % 8 !== 0 || count > 4096) {
      throw invalid(`the GPT entry array (${count} × ${entrySize} bytes) is invalid`);
    }
    const entries = Buffer.from(await read(entriesLba * sectorSize, count * entrySize));
    if (entries.length !== count * entrySize) throw invalid('the GPT entry array is cut short');
    if (crc32(entries) !== view.getUint32(88, true))
      throw invalid('the GPT entry array checksum does not match');
    const partitions: GptPartition[] = [];
    for (let i = 0; i < count; i++) {
      const entry = entries.subarray(i * entrySize, (i + 1) * entrySize);
      const typeGuid = formatGuid(entry.subarray(0, 16));
      if (typeGuid === '00000000-0000-0000-0000-000000000000') continue;
      const firstLba = safeNumber(entry.readBigUInt64LE(32), 'partition start');
      const lastLba = safeNumber(entry.readBigUInt64LE(40), 'partition end');
      if (lastLba < firstLba) throw invalid(`GPT partition ${i + 1} ends before it starts`);
      const name = entry.subarray(56, 128).toString('utf16le').replace(/\0.*$/s, '');
      partitions.push({
        number: i + 1,
        typeGuid,
        guid: formatGuid(entry.subarray(16, 32)),
        name,
        firstLba,
        lastLba,
        offset: firstLba * sectorSize,
        size: (lastLba - firstLba + 1) * sectorSize,
      });
    }
    return { sectorSize, diskGuid: formatGuid(header.subarray(56, 72)), partitions };
  }
  throw invalid('the disk has no GUID partition table');
}
