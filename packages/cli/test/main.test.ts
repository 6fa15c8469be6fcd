import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '@ocne/cli';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(readFileSync(join(here, '../package.json'), 'utf8')).version as string;

function capture() {
  let text = '';
  return {
    stream: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    text: () => text,
  };
}

describe('ocne CLI', () => {
  it('prints its version and exits 0', async () => {
    const out = capture();
    expect(await main({ argv: ['--version'], stdout: out.stream })).toBe(0);
    expect(out.text()).toBe(`${version}\n`);
  });

  it('an unknown command is a usage error: exit 2, message on stderr, nothing on stdout', async () => {
    const out = capture();
    const err = capture();
    expect(await main({ argv: ['frobnicate'], stdout: out.stream, stderr: err.stream })).toBe(2);
    expect(out.text()).toBe('');
    expect(err.text()).toContain("unknown command 'frobnicate'");
  });

  it('bin/ocne runs the CLI from the checkout', () => {
    const r = spawnSync(join(here, '../../../bin/ocne'), ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: ocne');
    // bin/ocne rebuilds the bundle first when a source changed: seconds on a busy machine.
  }, 60_000);
});
