/**
 * The CLI's own parser of a plain command line, so that the usual commands run without loading
 * commander (a tenth of a cold `cluster join`): `ocne <group> <command>` named in full, then only
 * flags the command declares, each once-or-more with its value in the next word, all of them
 * valid. The command's module declares its flags and action as it does for commander
 * (`configure`), here to a recorder of the same calls; the action gets what commander would give
 * it: the values (defaults included) and the source of each. Anything else (a prefix, an alias,
 * `--help`, `--flag=value`, grouped short flags, an argument, an unknown or invalid flag, a module
 * that declares more than plain flags) is left to commander, which parses it as always: this
 * parser only ever says "mine" for command lines that commander parses to the same values, which
 * `test/fast.test.ts` checks against commander itself over generated command lines.
 */
import type { ParseMemoOptions } from '@ocne/core';
import type { Command, OptionValues } from 'commander';
import { COMMANDS, loadCommand } from './command-table.js';
import type { CliContext } from './context.js';
import { LOG_LEVELS } from './render.js';

/** A flag as a command declared it with `.option()` or `.requiredOption()`. */
export interface FlagSpec {
  /** `-c`, or `undefined`. */
  readonly short: string | undefined;
  /** `--config`. */
  readonly long: string;
  /** The key of its value: the long name in camel case (`clusterName`). */
  readonly attribute: string;
  /** Whether it takes a value (`<path>`); otherwise it is a boolean switch. */
  readonly takesValue: boolean;
  readonly mandatory: boolean;
  readonly parse: ((value: string, previous: unknown) => unknown) | undefined;
  readonly defaultValue: unknown;
  /** Allowed values, when restricted. */
  readonly choices: readonly string[] | undefined;
}

/** What a command's `configure` declared; `plain` is false when it used more than `.option`s and `.action`. */
export interface Declared {
  readonly flags: FlagSpec[];
  action: ((...args: unknown[]) => unknown) | undefined;
  plain: boolean;
}

/** `-c, --config <path>` and the like: flags commander would read the same way, else `undefined`. */
function parseFlags(
  flags: string,
): Pick<FlagSpec, 'short' | 'long' | 'attribute' | 'takesValue'> | undefined {
  const match = /^(?:(-[A-Za-z]),\s*)?(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?:\s+<[\w-]+>)?$/.exec(flags.trim());
  if (match === null) return undefined;
  const long = match[2] as string;
  if (long.startsWith('--no-')) return undefined;
  const attribute = long.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return { short: match[1], long, attribute, takesValue: flags.includes('<') };
}

/**
 * Stands in for the commander `Command` a module's `configure` declares its flags and action on.
 * Any call it does not know makes the declaration not plain (commander then parses).
 */
export function declare(
  configure: (command: Command, context: CliContext) => void,
  context: CliContext,
): Declared {
  const declared: Declared = { flags: [], action: undefined, plain: true };
  const add =
    (mandatory: boolean) =>
    (flags: string, _description?: string, parseOrDefault?: unknown, defaultValue?: unknown) => {
      const parsed = parseFlags(flags);
      if (parsed === undefined) declared.plain = false;
      else {
        const parse =
          typeof parseOrDefault === 'function'
            ? (parseOrDefault as (value: string, previous: unknown) => unknown)
            : undefined;
        declared.flags.push({
          ...parsed,
          mandatory,
          parse,
          defaultValue: parse === undefined ? parseOrDefault : defaultValue,
          choices: undefined,
        });
      }
      return recorder;
    };
  const known: Record<string, unknown> = {
    option: add(false),
    requiredOption: add(true),
    action: (fn: (...args: unknown[]) => unknown) => {
      declared.action = fn;
      return recorder;
    },
  };
  const recorder: Command = new Proxy(known, {
    get: (target, key) => {
      if (typeof key === 'string' && key in target) return target[key];
      declared.plain = false;
      return () => recorder;
    },
  }) as unknown as Command;
  try {
    configure(recorder, context);
  } catch {
    declared.plain = false;
  }
  return declared;
}

/** The `-l, --log-level` every command takes (commander adds it after the module's own flags). */
const LOG_LEVEL: FlagSpec = {
  short: '-l',
  long: '--log-level',
  attribute: 'logLevel',
  takesValue: true,
  mandatory: false,
  parse: undefined,
  defaultValue: undefined,
  choices: LOG_LEVELS,
};

/** The values and their sources commander would give the action, or `undefined`: leave it to commander. */
export function parsePlain(
  flags: readonly FlagSpec[],
  words: readonly string[],
): { values: OptionValues; sources: Map<string, 'cli' | 'default'> } | undefined {
  const all = [...flags, LOG_LEVEL];
  const values: OptionValues = {};
  const sources = new Map<string, 'cli' | 'default'>();
  for (const flag of all) {
    if (flag.defaultValue !== undefined) {
      values[flag.attribute] = flag.defaultValue;
      sources.set(flag.attribute, 'default');
    }
  }
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const flag = all.find((f) => f.long === word || f.short === word);
    if (flag === undefined) return undefined;
    let value: unknown = true;
    if (flag.takesValue) {
      const next = words[++i];
      if (next === undefined || next.startsWith('-')) return undefined;
      if (flag.choices !== undefined && !flag.choices.includes(next)) return undefined;
      try {
        value = flag.parse ? flag.parse(next, values[flag.attribute]) : next;
      } catch {
        return undefined; // commander reports it
      }
    }
    values[flag.attribute] = value;
    sources.set(flag.attribute, 'cli');
  }
  if (all.some((f) => f.mandatory && values[f.attribute] === undefined)) return undefined;
  return { values, sources };
}

/**
 * Runs `argv` when it is a plain command line, and returns true; false when commander is to parse
 * it (nothing has run then but loading the command's module).
 */
export async function runPlain(
  argv: readonly string[],
  context: CliContext,
  parseMemo: ParseMemoOptions | undefined,
): Promise<boolean> {
  const [groupWord, commandWord, ...words] = argv;
  if (groupWord === undefined || commandWord === undefined || !Object.hasOwn(COMMANDS, groupWord))
    return false;
  const group = COMMANDS[groupWord];
  if (group === undefined || !Object.hasOwn(group.commands, commandWord)) return false;
  const entry = group.commands[commandWord];
  if (entry === undefined) return false;
  const module = await loadCommand(entry, parseMemo);
  const declared = declare(module.configure, context);
  if (!declared.plain || declared.action === undefined) return false;
  const parsed = parsePlain(declared.flags, words);
  if (parsed === undefined) return false;
  const { values, sources } = parsed;
  // What commander's preAction hook of the root sets: --log-format is a root flag (so the default
  // here), -l is the command's.
  context.format = 'text';
  context.level = sources.get('logLevel') === 'cli' ? (values.logLevel as CliContext['level']) : 'info';
  const command = {
    getOptionValueSource: (key: string) => sources.get(key),
    opts: () => values,
  } as unknown as Command;
  await declared.action(values, command);
  return true;
}
