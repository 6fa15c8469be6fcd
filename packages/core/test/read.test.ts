// readRegularFile: a file a user names is read only when it is a regular file, and never past the
// limit plus one byte; pipes and devices are refused before a byte is read.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile } from '@ocne/core';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ocne-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unix = process.platform !== 'win32';

describe('readRegularFile', () => {
  it('reads a regular file of up to maxBytes bytes, and calls a larger one too large', async () => {
    const path = join(dir, 'f');
    writeFileSync(path, 'x'.repeat(200_000));
    const read = await readRegularFile(path, { maxBytes: 200_000 });
    expect(read.kind).toBe('file');
    expect(read.kind === 'file' && read.bytes.length).toBe(200_000);
    expect(await readRegularFile(path, { maxBytes: 199_999 })).toEqual({
      kind: 'too-large',
      maxBytes: 199_999,
    });
    writeFileSync(path, '');
    expect(await readRegularFile(path, { maxBytes: 0 })).toEqual({ kind: 'file', bytes: new Uint8Array(0) });
  });

  it('stops after maxBytes + 1 bytes: a sparse file of 64 GiB is answered at once', async () => {
    const path = join(dir, 'sparse');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 64 * 1024 ** 3);
    closeSync(fd);
    const started = performance.now();
    expect(await readRegularFile(path, { maxBytes: 1024 * 1024 })).toEqual({
      kind: 'too-large',
      maxBytes: 1024 * 1024,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses a folder', async () => {
    expect(await readRegularFile(dir, { maxBytes: 10 })).toEqual({ kind: 'not-a-file', type: 'directory' });
  });

  it.skipIf(!unix)('refuses a named pipe without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await readRegularFile(fifo, { maxBytes: 10 })).toEqual({ kind: 'not-a-file', type: 'named pipe' });
  });

  it.skipIf(!unix)('refuses devices: /dev/urandom, /dev/zero, /dev/null', async () => {
    for (const device of ['/dev/urandom', '/dev/zero', '/dev/null']) {
      expect(await readRegularFile(device, { maxBytes: 10 })).toEqual({
        kind: 'not-a-file',
        type: 'character device',
      });
    }
  });

  it('throws what the file system says, and the signal’s reason', async () => {
    await expect(readRegularFile(join(dir, 'missing'), { maxBytes: 10 })).rejects.toMatchObject({
      code: 'ENOENT',
    });
    const reason = new Error('stop');
    await expect(
      readRegularFile(join(dir, 'missing'), { maxBytes: 10, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });
});
