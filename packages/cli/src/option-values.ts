/**
 * Commander's parsed option values, read with their types: commander hands every action a
 * `Record<string, any>`, and each command turns it into its own options interface through these
 * readers instead of casting. A value of the wrong type is a bug in a command's declaration, so the
 * readers throw rather than guess. Also the parsers that make a bad value a usage error (exit 2):
 * node counts and `-c` paths.
 */
import { type Stats, statSync } from 'node:fs';
import type { OptionValues } from 'commander';

/**
 * A flag value that is not valid: what commander's `InvalidArgumentError` is (commander reports an
 * error of this `code` as `option '<flags>' argument '<value>' is invalid. <message>`, exit 2 here),
 * without loading commander for a command line the CLI parses itself (`fast.ts`).
 */
export class InvalidArgumentError extends Error {
  readonly code = 'commander.invalidArgument';
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/** Parses a node count: a whole number from 0 to 65535. */
export const count = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new InvalidArgumentError('expected a whole number from 0 to 65535');
  return Number(value);
};

const wrongType = (key: string, expected: string, value: unknown): Error =>
  new Error(`option ${key}: expected ${expected}, got ${typeof value}`);

/** A string option without a default: `undefined` when not given. */
export function text(values: OptionValues, key: string): string | undefined {
  const value: unknown = values[key];
  if (value === undefined || typeof value === 'string') return value;
  throw wrongType(key, 'a string', value);
}

/** A string option with a default, so always set. */
export function requiredText(values: OptionValues, key: string): string {
  const value = text(values, key);
  if (value === undefined) throw wrongType(key, 'a string', value);
  return value;
}

/** A number option (parsed by {@link count}): `undefined` when not given. */
export function number(values: OptionValues, key: string): number | undefined {
  const value: unknown = values[key];
  if (value === undefined || typeof value === 'number') return value;
  throw wrongType(key, 'a number', value);
}

/** A boolean flag: `true` when given. */
export function flag(values: OptionValues, key: string): boolean {
  const value: unknown = values[key];
  if (value === undefined || typeof value === 'boolean') return value === true;
  throw wrongType(key, 'a boolean', value);
}

/** An option restricted to `choices` that has a default, so always set. */
export function choice<const T extends string>(values: OptionValues, key: string, choices: readonly T[]): T {
  const value: unknown = values[key];
  const found = choices.find((c) => c === value);
  if (found === undefined) throw wrongType(key, `one of ${choices.join(', ')}`, value);
  return found;
}

/**
 * Parses `-c`: an empty path, a path that does not exist and a folder are usage errors (exit 2),
 * found before anything runs. Whatever else cannot be read (permissions, a file too large) is the
 * configuration loader's to report.
 */
export const configPath = (value: string): string => {
  if (value === '') throw new InvalidArgumentError('expected the path of a configuration file, found ""');
  let info: Stats;
  try {
    info = statSync(value);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new InvalidArgumentError('no such file');
    return value;
  }
  if (info.isDirectory()) throw new InvalidArgumentError('it is a folder, not a file');
  return value;
};
