// The embedding example runs as a user would run it and writes its Ignition files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

describe('examples/embed.ts', () => {
  it('prints every event as a JSON line and writes init and join Ignition', () => {
    const out = mkdtempSync(join(tmpdir(), 'ocne-embed-test-'));
    try {
      const stdout = execFileSync(
        process.execPath,
        ['--import', join(root, 'scripts/source-hooks.mjs'), join(root, 'examples/embed.ts'), out],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const events = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { operation: string; type: string });
      expect(events.filter((e) => e.type === 'done').map((e) => e.operation)).toEqual([
        'start',
        'join',
        'delete',
      ]);
      for (const name of ['cluster-init.ign', 'cluster-join.ign']) {
        expect(JSON.parse(readFileSync(join(out, name), 'utf8')).ignition.version).toBe('3.4.0');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
