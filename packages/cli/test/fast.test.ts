// The CLI's own parser of plain command lines (src/fast.ts) against commander, the parser it stands
// in for: over generated command lines of every command, whenever it takes one it gives the action
// what commander gives it (each value, and whether it came from the command line or a default),
// and the usual command lines are its.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, OptionValues } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/command-table.js';
import { CliContext } from '../src/context.js';
import { type Declared, declare, parsePlain } from '../src/fast.js';
import { program } from '../src/program.js';

const work = mkdtempSync(join(tmpdir(), 'ocne-fast-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const file = join(work, 'cluster.yaml');
writeFileSync(file, 'name: x\n');

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const newContext = () =>
  new CliContext({ stdin: undefined, stdout: sink, stderr: sink, env: {}, tty: false, signal: undefined });

/** What commander hands the action of `cluster <word>` for `words`, or the error it stops with. */
async function commanderParse(
  word: string,
  words: readonly string[],
): Promise<{ values: OptionValues; sources: Record<string, string | undefined> } | { error: string }> {
  const STOP = Symbol('stop');
  let seen: { values: OptionValues; sources: Record<string, string | undefined> } | undefined;
  const ocne = program(newContext());
  ocne.hook('preAction', (_root: Command, action: Command) => {
    const values = { ...action.opts() };
    const sources = Object.fromEntries(
      action.options.map((o) => [o.attributeName(), action.getOptionValueSource(o.attributeName())]),
    );
    seen = { values, sources };
    throw STOP;
  });
  try {
    await ocne.parseAsync(['cluster', word, ...words], { from: 'user' });
  } catch (error) {
    if (error === STOP && seen !== undefined) return seen;
    return { error: String((error as Error).message ?? error) };
  }
  return { error: 'the action ran' };
}

/** The words a command line of this command may hold: its flags, values good and bad, and more. */
function wordsOf(declared: Declared): fc.Arbitrary<string[]> {
  // Every command takes -l too (commander adds it after the module's own flags).
  const flagWords = [
    ...declared.flags.flatMap((f) => [f.long, ...(f.short ? [f.short] : [])]),
    '-l',
    '--log-level',
  ];
  const values = ['1', '0', '65536', 'x', '', file, join(work, 'absent.yaml'), work, 'byo', 'debug', 'info'];
  const odd = [
    '-l',
    '--log-level',
    '--help',
    '-h',
    'extra',
    '--',
    `--config=${file}`,
    '-w1',
    '--bogus',
    '-rw',
    '-',
  ];
  return fc
    .array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .constantFrom(...flagWords)
            .chain((f) => fc.constantFrom(...values).map((v) => [f, v])),
        },
        { weight: 2, arbitrary: fc.constantFrom(...flagWords).map((f) => [f]) },
        { weight: 1, arbitrary: fc.constantFrom(...odd, ...values).map((w) => [w]) },
      ),
      { maxLength: 6 },
    )
    .map((groups) => groups.flat());
}

const plain = Object.entries(COMMANDS.cluster?.commands ?? {});

describe('the plain command-line parser', () => {
  it('takes the usual command lines', async () => {
    for (const [word, argv] of [
      ['join', ['-w', '1', '-c', file]],
      ['join', ['-c', file, '-n', '2', '-w', '3', '-l', 'debug']],
      ['template', ['-c', file]],
      ['show', ['-C', 'demo']],
      ['list', []],
      ['delete', ['-C', 'demo']],
    ] as const) {
      const module = await COMMANDS.cluster?.commands[word]?.load();
      const declared = declare(module?.configure as never, newContext());
      expect(declared.plain, word).toBe(true);
      expect(parsePlain(declared.flags, argv), `${word} ${argv.join(' ')}`).toBeDefined();
    }
  });

  it('gives the action what commander gives it, for every command line it takes', async () => {
    for (const [word, entry] of plain) {
      const declared = declare((await entry.load()).configure, newContext());
      if (!declared.plain) continue; // commander parses every command line of it
      let taken = 0;
      await fc.assert(
        fc.asyncProperty(wordsOf(declared), async (words) => {
          const fast = parsePlain(declared.flags, words);
          if (fast === undefined) return;
          taken++;
          const reference = await commanderParse(word, words);
          expect(reference, `cluster ${word} ${words.join(' ')}`).not.toHaveProperty('error');
          const { values, sources } = reference as Exclude<typeof reference, { error: string }>;
          expect(fast.values, `cluster ${word} ${words.join(' ')}`).toEqual(values);
          for (const [key, source] of Object.entries(sources))
            expect(fast.sources.get(key), `${key} of cluster ${word} ${words.join(' ')}`).toBe(source);
        }),
        { numRuns: 150 },
      );
      // The generator reaches both sides: some command lines are taken.
      expect(taken, word).toBeGreaterThan(0);
    }
  }, 120_000);

  it('leaves to commander a command that declares more than plain flags', () => {
    const declared = declare((command: Command) => {
      command.option('-a, --alpha <a>', 'a').argument('[rest...]', 'rest');
    }, newContext());
    expect(declared.plain).toBe(false);
  });
});
