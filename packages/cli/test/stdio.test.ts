// The CLI's stdout and stderr written to their descriptors (src/stdio.ts): what a user would see is
// every byte, in order, and a failed write reported, whether the descriptor takes the text at once
// or is a full non-blocking pipe that only the stream can wait for.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectOutput } from '../src/stdio.js';

const work = mkdtempSync(join(tmpdir(), 'ocne-stdio-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `text` and resolves to what the callback got. */
const write = (out: DirectOutput, text: string) =>
  new Promise<Error | null | undefined>((resolve) => {
    out.write(text, resolve);
  });

describe('DirectOutput', () => {
  it('writes every byte, in order, to the descriptor, without making its stream', async () => {
    const path = join(work, 'out.txt');
    const fd = openSync(path, 'w');
    let made = false;
    const out = new DirectOutput(fd, () => {
      made = true;
      return new Writable();
    });
    const text = `${'ü€ line\n'.repeat(20_000)}end`;
    expect(await write(out, 'first\n')).toBeUndefined();
    expect(await write(out, text)).toBeUndefined();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(`first\n${text}`);
    expect(made).toBe(false);
  });

  it('reports a failed write through the callback (a full device)', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const error = await write(new DirectOutput(fd, () => new Writable()), 'lost\n');
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
  });

  it('hands the rest of a full non-blocking pipe to the stream, and everything after it', async () => {
    const fifo = join(work, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Read and write ends on one descriptor, non-blocking: a write fails with EAGAIN once the
    // pipe's buffer (64 KiB on Linux) is full, as a stdout pipe another process made non-blocking.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const streamed: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        streamed.push(chunk);
        done();
      },
    });
    try {
      const out = new DirectOutput(fd, () => stream);
      const big = 'x'.repeat(200_000);
      expect(await write(out, big)).toBeFalsy();
      expect(await write(out, 'after\n')).toBeFalsy();
      const inPipe = 65_536;
      // What the pipe took plus what the stream got is the whole text, in order.
      const rest = Buffer.concat(streamed).toString();
      expect(rest.endsWith('after\n')).toBe(true);
      expect(rest.length).toBe(big.length - inPipe + 'after\n'.length);
      expect(out.stream).toBe(stream);
    } finally {
      closeSync(fd);
    }
  });
});

describe('isTerminal', () => {
  it('is false for a file, a pipe and /dev/null, without loading tty (or net, which tty loads)', () => {
    const script = [
      "import { isTerminal } from './packages/cli/src/stdio.ts';",
      "import { openSync } from 'node:fs';",
      `const file = openSync(${JSON.stringify(join(work, 'file'))}, 'w');`,
      "const devNull = openSync('/dev/null', 'w');",
      // fd 1 is the pipe execFileSync reads.
      'const answers = [isTerminal(file), isTerminal(1), isTerminal(devNull), isTerminal(99)];',
      'const loaded = process.moduleLoadList.filter((m) => /^NativeModule (tty|net)$/.test(m));',
      'console.log(JSON.stringify({ answers, loaded }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../../..'),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ answers: [false, false, false, false], loaded: [] });
  });

  it('is true for a terminal', () => {
    // `script` runs the check with a pseudo-terminal as its stdio.
    const check = `${process.execPath} --input-type=module -e "import { isTerminal } from './packages/cli/src/stdio.ts'; console.log(isTerminal(2) ? 'terminal' : 'not')"`;
    const out = execFileSync('script', ['-qc', check, '/dev/null'], {
      cwd: join(import.meta.dirname, '../../..'),
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('terminal');
  });
});
