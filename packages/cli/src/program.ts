/**
 * The `ocne` program in commander: groups and commands from the command table, upstream's prefix
 * matching, global flags, help and usage errors. `main` loads it for every command line that the
 * CLI's own parser (`fast.ts`) leaves to it.
 */
import { readFileSync } from 'node:fs';
import type { ParseMemoOptions } from '@ocne/core';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS, type CommandEntry, LOG_FORMATS, loadCommand, UPSTREAM_COMMANDS } from './command-table.js';
import type { CliContext } from './context.js';
import { choice } from './option-values.js';
import { LOG_LEVELS } from './render.js';

/** The words that name a command from the root, such as `ocne cluster`. */
const pathOf = (command: Command): string =>
  command.parent ? `${pathOf(command.parent)} ${command.name()}` : command.name();

/**
 * A commander command whose subcommands are also found by a unique prefix (`ocne clus sta`), as
 * upstream's cobra does with `EnablePrefixMatching`.
 */
class PrefixCommand extends Command {
  override createCommand(name?: string): Command {
    return new PrefixCommand(name);
  }

  /**
   * Commander's lookup of a subcommand by the word on the command line (an internal method, pinned
   * by the commander version in the catalog and by the prefix tests): the exact name first, then
   * the one command a unique prefix names.
   */
  _findCommand(word: string | undefined): Command | undefined {
    if (!word) return undefined;
    const exact = this.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (exact !== undefined) return exact;
    const names = new Set([
      ...this.commands.map((c) => c.name()),
      ...(UPSTREAM_COMMANDS[pathOf(this)] ?? []),
    ]);
    const matches = [...names].filter((name) => name.startsWith(word));
    return matches.length === 1 ? this.commands.find((c) => c.name() === matches[0]) : undefined;
  }

  /**
   * Commander's `help <command>` (an internal method, like {@link _findCommand}): always through the
   * subcommand's dispatch with `--help`, as commander itself does for some commands, so that the
   * `preSubcommand` hook loads the command's flags before its help is printed.
   */
  _dispatchHelpCommand(word: string | undefined): unknown {
    if (!word) this.help();
    return (
      this as unknown as { _dispatchSubcommand(w: string, o: string[], u: string[]): unknown }
    )._dispatchSubcommand(word, [], ['--help']);
  }
}

/** Adds upstream's global `-l/--log-level` to a command (cobra's persistent flag: every level takes it). */
export const addLogLevel = (command: Command): Command =>
  command.addOption(
    new Option('-l, --log-level <level>', 'the least severe log lines printed (text format)').choices(
      LOG_LEVELS,
    ),
  );

/** The `-l` given closest to the command that runs (as cobra's persistent flags), else `info`. */
export function logLevelOf(command: Command): (typeof LOG_LEVELS)[number] {
  for (let c: Command | null = command; c !== null; c = c.parent) {
    if (c.getOptionValueSource('logLevel') === 'cli') return choice(c.opts(), 'logLevel', LOG_LEVELS);
  }
  return 'info';
}

/**
 * The version in the package's own `package.json` (`../package.json` from `src/` and `dist/` alike),
 * read when the CLI runs: a build is not tied to a version (`pnpm release` versions after the
 * checks built it), and the bundle does not carry the whole manifest. `unknown` where there is no
 * manifest beside it (a bundle of the CLI).
 */
function cliVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The program, for one run; `parseMemo` is turned on once the command line reaches a command. */
export function program(context: CliContext, parseMemo?: ParseMemoOptions): Command {
  const ocne = new PrefixCommand('ocne')
    .description('Oracle Cloud Native Environment cluster lifecycle, from the TypeScript SDK')
    .version(cliVersion(), '--version', 'print the version')
    .addOption(
      new Option('--log-format <format>', 'text log lines, or the event stream as JSON lines')
        .choices(LOG_FORMATS)
        .default('text'),
    )
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => context.write('stdout', s),
      writeErr: (s) => context.write('stderr', s),
    })
    .hook('preAction', (_, action) => {
      context.format = choice(action.optsWithGlobals(), 'logFormat', LOG_FORMATS);
      context.level = logLevelOf(action);
    });
  addLogLevel(ocne);
  const entries = new Map<Command, CommandEntry>();
  for (const [name, group] of Object.entries(COMMANDS)) {
    // With positional options each command parses its own flags: every command below the root takes -l too.
    const parent = addLogLevel(ocne.command(name).description(group.description).exitOverride());
    for (const [word, entry] of Object.entries(group.commands)) {
      const command = parent.command(word).description(entry.description);
      for (const alias of entry.aliases ?? []) command.alias(alias);
      entries.set(command, entry);
    }
    // The command line has reached one command: its module adds its flags and action, then -l.
    parent.hook('preSubcommand', async (_, command) => {
      const entry = entries.get(command);
      if (entry === undefined) return;
      entries.delete(command);
      const module = await loadCommand(entry, parseMemo);
      module.configure(command, context);
      addLogLevel(command);
    });
  }
  return ocne;
}

/** What commander throws with `exitOverride` (usage errors, help and version included). */
export { CommanderError };
