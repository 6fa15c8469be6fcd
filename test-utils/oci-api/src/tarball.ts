/**
 * What the server's image import reads from an uploaded object: a gzipped tar, streamed (an
 * image is gigabytes), listing its entries, checking the qcow2 magic of `output.QCOW2` and
 * parsing `image_metadata.json`, as OCI's import of a "QCOW2 + metadata" export does.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** One file of the tar. */
export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** The first bytes (up to 4). */
  readonly head: Buffer;
  /** The whole content, for small entries (≤ 1 MiB). */
  readonly content?: Buffer;
}

const BLOCK = 512;
const SMALL = 1 << 20;

function octal(field: Buffer): number {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // Base-256 (GNU) for sizes above 8 GiB.
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(data.subarray(offset, space).toString());
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}

/** The entries of a `.tar.gz` file; rejects when it is not one. */
export async function readTarGz(path: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let current:
    | {
        name: string;
        size: number;
        remaining: number;
        pad: number;
        chunks: Buffer[];
        kept: number;
        kind: string;
      }
    | undefined;
  let pax: Map<string, string> | undefined;
  let ended = false;
  const stream = createReadStream(path).pipe(createGunzip());
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (!ended) {
      if (current !== undefined) {
        if (current.remaining > 0) {
          if (pending.length === 0) break;
          const take = Math.min(current.remaining, pending.length);
          const piece = pending.subarray(0, take);
          if (current.size <= SMALL) current.chunks.push(Buffer.from(piece));
          else if (current.kept < 4) {
            const head = Buffer.from(piece.subarray(0, 4 - current.kept));
            current.chunks.push(head);
            current.kept += head.length;
          }
          current.remaining -= take;
          pending = pending.subarray(take);
          continue;
        }
        if (pending.length < current.pad) break;
        pending = pending.subarray(current.pad);
        const data = Buffer.concat(current.chunks);
        if (current.kind === 'x') pax = paxRecords(data);
        else if (current.kind === '0' || current.kind === '\0') {
          entries.push({
            name: current.name,
            size: current.size,
            head: data.subarray(0, 4),
            ...(current.size <= SMALL ? { content: data } : {}),
          });
        }
        current = undefined;
        continue;
      }
      if (pending.length < BLOCK) break;
      const header = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) {
        ended = true;
        break;
      }
      const kind = String.fromCharCode(header[156] ?? 0);
      const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
      const base = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      let name = prefix === '' ? base : `${prefix}/${base}`;
      let size = octal(header.subarray(124, 136));
      if (pax !== undefined && kind !== 'x') {
        name = pax.get('path') ?? name;
        size = pax.has('size') ? Number(pax.get('size')) : size;
        pax = undefined;
      }
      current = {
        name,
        size,
        remaining: size,
        pad: (BLOCK - (size % BLOCK)) % BLOCK,
        chunks: [],
        kept: 0,
        kind,
      };
    }
  }
  if (current !== undefined) throw new Error('the tar ends inside an entry');
  return entries;
}
