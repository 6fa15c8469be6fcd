/**
 * Reading a file a user names, safely: only a regular file, and never more than a limit. A path
 * given as a configuration may be a named pipe that nobody writes to (opening it for reading
 * would wait forever), a device such as `/dev/urandom` (endless) or `/dev/zero`, or simply huge;
 * the callers (the configuration loader, the cluster cache) need a clear answer quickly instead.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Options of {@link readRegularFile}. */
export interface ReadRegularFileOptions {
  /** The most bytes the file may have. Reading stops at `maxBytes + 1`: a larger file is never read whole. */
  maxBytes: number;
  /** Stops reading (between chunks): the signal's reason is thrown. */
  signal?: AbortSignal | undefined;
}

/** What a path is when it is not a regular file. */
export type NonRegularFileType =
  | 'directory'
  | 'named pipe'
  | 'socket'
  | 'character device'
  | 'block device'
  | 'other';

/** What {@link readRegularFile} found at the path. */
export type ReadRegularFileResult =
  | { kind: 'file'; bytes: Uint8Array }
  | { kind: 'too-large'; maxBytes: number }
  | { kind: 'not-a-file'; type: NonRegularFileType };

/** Bytes read at a time: a configuration fits in one or two reads. */
const CHUNK = 64 * 1024;

function typeOf(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): NonRegularFileType {
  if (info.isDirectory()) return 'directory';
  if (info.isFIFO()) return 'named pipe';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'other';
}

/**
 * Reads a regular file of at most `maxBytes` bytes. The file is opened without blocking (a named
 * pipe without a writer does not hold the call) and its type is checked on the open file, so a
 * path swapped for a pipe between a check and the read is still refused. Anything but a regular
 * file is `not-a-file`, without a byte read; a file over the limit is `too-large` after reading
 * `maxBytes + 1` bytes at most (a file that grows while it is read counts as it is read).
 *
 * Its system calls are synchronous: a configuration or the cluster cache is read in microseconds,
 * where each asynchronous call would wait for libuv's thread pool (about a tenth of a millisecond
 * on a busy machine). So the read does not yield: an abort is seen before it starts, not during
 * it (a file is at most `maxBytes + 1` bytes read).
 *
 * @throws the file system's error (`ENOENT`, `EACCES`, ...) as it is; the signal's reason when aborted.
 */
export async function readRegularFile(
  path: string,
  options: ReadRegularFileOptions,
): Promise<ReadRegularFileResult> {
  const { maxBytes, signal } = options;
  signal?.throwIfAborted();
  // O_NONBLOCK only matters for pipes and devices (Windows has neither flag nor pipes by path).
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { kind: 'not-a-file', type: typeOf(info) };
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const want = Math.min(CHUNK, maxBytes + 1 - total);
      const buffer = new Uint8Array(want);
      const bytesRead = readSync(fd, buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) return { kind: 'too-large', maxBytes };
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return { kind: 'file', bytes };
  } finally {
    closeSync(fd);
  }
}
