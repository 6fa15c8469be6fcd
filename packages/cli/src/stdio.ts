/**
 * The process's stdout and stderr for the CLI's own text, written to their file descriptors
 * without making `process.stdout` or `process.stderr`. Node builds those streams on first use, and
 * for a pipe that loads `net` and its bindings, for a file the stream machinery: a fifth of the
 * built-ins a cold `cluster join` loaded, for a few lines of text. A command that needs the real
 * stream (`cluster console` pipes a session into it) takes {@link DirectOutput.stream}.
 */
import type { Stats } from 'node:fs';

/** What the CLI writes its text to: a stream, or a {@link DirectOutput}. */
export interface TextOutput {
  /** Writes `text`; `callback` gets the error of a failed write, else nothing. */
  write(text: string, callback?: (error?: Error | null) => void): unknown;
}

const fs = () => process.getBuiltinModule('node:fs');

/**
 * Standard output or standard error as a {@link TextOutput}: each write is a `writeSync` of the
 * whole text to the descriptor, as Node's own stream does for files and (on Linux) pipes. When the
 * descriptor cannot take more without blocking (`EAGAIN`: a full pipe that another process made
 * non-blocking), or once {@link stream} was taken, the rest goes through the stream, in order.
 */
export class DirectOutput implements TextOutput {
  readonly #fd: number;
  readonly #open: () => NodeJS.WritableStream;
  #stream: NodeJS.WritableStream | undefined;

  /**
   * @param fd - The descriptor: 1 or 2 (or another one, with the stream to fall back to).
   * @param stream - Makes the descriptor's stream when it is needed. @defaultValue `process.stdout` for 1, else `process.stderr`
   */
  constructor(fd: number, stream?: () => NodeJS.WritableStream) {
    this.#fd = fd;
    this.#open = stream ?? (() => (fd === 1 ? process.stdout : process.stderr));
  }

  /** The descriptor's stream (`process.stdout`, `process.stderr`); every later write goes through it. */
  get stream(): NodeJS.WritableStream {
    if (this.#stream === undefined) {
      const stream = this.#open();
      // A failed write is reported through its callback; the 'error' event after it, unheard,
      // would end the process with a stack trace.
      stream.on('error', () => {});
      this.#stream = stream;
    }
    return this.#stream;
  }

  write(text: string, callback?: (error?: Error | null) => void): boolean {
    if (this.#stream !== undefined) return this.#stream.write(text, callback);
    let rest = Buffer.from(text);
    try {
      while (rest.length > 0) rest = rest.subarray(fs().writeSync(this.#fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN')
        return this.stream.write(rest, callback ?? (() => {}));
      callback?.(error as Error);
      return false;
    }
    callback?.();
    return true;
  }
}

/** Linux's major device number of the memory devices: `/dev/null`, `/dev/zero`, `/dev/full`... */
const LINUX_MEMORY_DEVICES = 1;

/**
 * Whether descriptor `fd` is a terminal. Only a character device can be one, so a pipe or a file
 * is told apart by `fstat` without loading `tty` (which loads `net`), and on Linux so is
 * `/dev/null`, where scripts and services send what they do not read.
 */
export function isTerminal(fd: number): boolean {
  let stats: Stats;
  try {
    stats = fs().fstatSync(fd);
  } catch {
    return false;
  }
  if (!stats.isCharacterDevice()) return false;
  if (process.platform === 'linux' && ((stats.rdev >> 8) & 0xfff) === LINUX_MEMORY_DEVICES) return false;
  return process.getBuiltinModule('node:tty').isatty(fd);
}
