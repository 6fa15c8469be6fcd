/**
 * Random bytes from the operating system's generator, for keys and tokens. Kept here, at the
 * file-system edge of the SDK: the pure packages (`@ocne/ignition`'s PKI) take randomness as a
 * parameter and pass this in production.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * `length` bytes of the operating system's CSPRNG: read from `/dev/urandom` where there is one
 * (the kernel's generator, which `node:crypto` uses too, without loading `node:crypto`: that costs a
 * cold `ocne cluster join` more than all of its token work), else from `node:crypto`.
 */
export function systemRandomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    // A character device that is not the kernel's generator (a container that bound something
    // else there) would still read: only take it when it is one.
    if (fstatSync(fd).isCharacterDevice()) {
      let filled = 0;
      while (filled < length) {
        const n = readSync(fd, out, filled, length - filled, null);
        if (n <= 0) break;
        filled += n;
      }
      if (filled === length) return out;
    }
  } catch {
    // no /dev/urandom (Windows) or it cannot be read: node:crypto below
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return process.getBuiltinModule('node:crypto').randomFillSync(out);
}
