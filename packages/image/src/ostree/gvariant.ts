/**
 * The two GVariant records libostree frames a content object with: `(uuuusa(ayay))`, the file
 * header whose checksum names the object, and `(tuuuusa(ayay))`, the header of an archive repo's
 * `.filez`. libostree stores the integers big-endian inside the variant, so they are written BE
 * here; the one framing offset (the end of the string) is little-endian, as GVariant's are.
 */

/** What a content object's header records. */
export interface FileHeaderFields {
  readonly uid: number;
  readonly gid: number;
  /** Full `st_mode`: `S_IFREG | perms` or `S_IFLNK | 0o777`. */
  readonly mode: number;
  /** Empty for a regular file. */
  readonly symlinkTarget: string;
  /** A serialized `a(ayay)`, verbatim (empty for no xattrs). */
  readonly xattrs: Uint8Array;
}

/** `S_IFREG` and `S_IFLNK` of `st_mode`. */
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

// GVariant picks the narrowest framing offsets that can address the whole container.
function offsetWidth(body: number, offsets: number): 1 | 2 | 4 | 8 {
  if (body + offsets <= 0xff) return 1;
  if (body + 2 * offsets <= 0xffff) return 2;
  if (body + 4 * offsets <= 0xffffffff) return 4;
  return 8;
}

function record(fixed: Buffer, fields: FileHeaderFields): Buffer {
  const target = Buffer.from(`${fields.symlinkTarget}\0`, 'utf8');
  const stringEnd = fixed.length + target.length;
  const body = stringEnd + fields.xattrs.length;
  const width = offsetWidth(body, 1);
  const out = Buffer.alloc(body + width);
  fixed.copy(out, 0);
  target.copy(out, fixed.length);
  out.set(fields.xattrs, stringEnd);
  out.writeUIntLE(stringEnd, body, Math.min(width, 6));
  return out;
}

function ids(fields: FileHeaderFields, into: Buffer, at: number): void {
  into.writeUInt32BE(fields.uid, at);
  into.writeUInt32BE(fields.gid, at + 4);
  into.writeUInt32BE(fields.mode, at + 8);
  into.writeUInt32BE(0, at + 12); // rdev: ostree stores no device files
}

/** `(uuuusa(ayay))`: what a content object's checksum covers before the data. */
export function fileHeader(fields: FileHeaderFields): Buffer {
  const fixed = Buffer.alloc(16);
  ids(fields, fixed, 0);
  return record(fixed, fields);
}

/** `(tuuuusa(ayay))`: the header of a `.filez` object, with the uncompressed size first. */
export function archiveFileHeader(fields: FileHeaderFields & { readonly size: bigint }): Buffer {
  const fixed = Buffer.alloc(24);
  fixed.writeBigUInt64BE(fields.size, 0);
  ids(fields, fixed, 8);
  return record(fixed, fields);
}

/** The stream framing of a header: `u32be(length) ‖ 4 zero bytes ‖ header`. */
export function framed(header: Buffer): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(header.length, 0);
  return Buffer.concat([prefix, header]);
}
