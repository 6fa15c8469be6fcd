// `ocne --help` and `--version` stay fast: they load commander and the CLI's own modules, never the
// facade (`@ocne/cluster`) nor `@ocne/config`, which the commands import on first use.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

const modules = (...argv: string[]): string[] =>
  JSON.parse(
    execFileSync(
      process.execPath,
      ['--import', join(root, 'scripts/source-hooks.mjs'), join(here, 'fixtures/help-modules.ts'), ...argv],
      { encoding: 'utf8', cwd: root },
    ),
  ) as string[];

describe('module graph of help and version', () => {
  it.each([['--help'], ['--version'], ['cluster', 'join', '--help']])(
    '%s loads no other package than commander',
    (...argv) => {
      const loaded = modules(...argv).filter((m) => !m.startsWith('node:'));
      expect(loaded.some((m) => m.endsWith('/packages/cli/src/main.ts'))).toBe(true);
      // A command's module loads only when the command line names it.
      expect(loaded.some((m) => m.endsWith('/packages/cli/src/commands/join-move.ts'))).toBe(
        argv[0] === 'cluster',
      );
      const others = loaded.filter(
        (m) => !m.includes('/packages/cli/') && !m.includes('/node_modules/commander/'),
      );
      expect(others).toEqual([]);
    },
    // A child Node process each; the machine may be busy.
    30_000,
  );
});
