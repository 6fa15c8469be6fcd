/**
 * The `ocne` command: runs a command line and maps what the commands throw to exit codes: 0 ok,
 * 1 the operation failed, 2 usage error. A plain command line (`ocne cluster join -w 1 -c x`) is
 * parsed by the CLI itself (`fast.ts`); any other goes to the commander program (`program.ts`),
 * which builds the command table. A command's module (`commands/*.ts`) is loaded only when the
 * command line reaches that command, so a run loads the code of one command (and `--help` of a
 * group none).
 */
import type { ParseMemoOptions } from '@ocne/core';
import { CliContext, Exit } from './context.js';
import { runPlain } from './fast.js';
import { DirectOutput, isTerminal } from './stdio.js';

/** Where the CLI reads and writes; the defaults are the process's. */
export interface MainOptions {
  /** Arguments after the program name. */
  argv: readonly string[];
  /** What `cluster console` passes on to the command on the node. @defaultValue `process.stdin` */
  stdin?: NodeJS.ReadableStream;
  /**
   * Where command output goes; like every Node stream, it calls the callback of each write.
   * @defaultValue the process's standard output, written to its descriptor (`process.stdout` only
   * for a command that pipes a stream into it)
   */
  stdout?: NodeJS.WritableStream;
  /** Where log lines and failures go. @defaultValue the process's standard error, as for `stdout` */
  stderr?: NodeJS.WritableStream;
  /** Environment (`OCNE_DEFAULTS`, `HOME`). @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal. @defaultValue whether descriptor 2 is one */
  tty?: boolean;
  /** Cancels the running command (the bin wires SIGINT to it). */
  signal?: AbortSignal;
}

let parseMemo: ParseMemoOptions | undefined;

/**
 * For the bin (not part of the package's API): the parse memo of `@ocne/core` to turn on once the
 * command line reaches a command, whose module loads the core anyway (`--version` and `--help`
 * load none of it).
 */
export function useParseMemo(options: ParseMemoOptions): void {
  parseMemo = options;
}

/** Streams that have the CLI's `'error'` listener. */
const guarded = new WeakSet<object>();

/**
 * Gives a stream an `'error'` listener, once. A failed write is reported through its callback
 * (`CliContext.out`); the `'error'` event the stream emits after it would, unheard, end the process
 * with a stack trace.
 */
function guard(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream) || typeof stream.on !== 'function') return;
  guarded.add(stream);
  stream.on('error', () => {});
}

/**
 * Runs the CLI and resolves to its exit code: 0 ok, 1 the operation failed, 2 usage error.
 */
export async function main(options: MainOptions): Promise<number> {
  for (const stream of [options.stdout, options.stderr]) if (stream !== undefined) guard(stream);
  const context = new CliContext({
    stdin: options.stdin,
    stdout: options.stdout ?? new DirectOutput(1),
    stderr: options.stderr ?? new DirectOutput(2),
    env: options.env ?? process.env,
    tty: options.tty ?? isTerminal(2),
    signal: options.signal,
  });
  // What commander throws (with `exitOverride`), once it is loaded: a plain command line never loads it.
  let CommanderError: typeof import('commander')['CommanderError'] | undefined;
  try {
    if (await runPlain(options.argv, context, parseMemo)) return 0;
    const commander = await import('./program.js');
    CommanderError = commander.CommanderError;
    await commander.program(context, parseMemo).parseAsync([...options.argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (CommanderError !== undefined && error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
        ? 0
        : 2;
    }
    const [{ ConfigError }, { isOcneError }] = await Promise.all([
      import('@ocne/config'),
      import('@ocne/core'),
    ]);
    if (error instanceof ConfigError) {
      for (const line of error.describe().split('\n')) context.fail(line, error.code);
      return 1;
    }
    if (isOcneError(error)) return context.fail(error.message, error.code);
    return context.fail(
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      'OCNE_INTERNAL',
    );
  }
}
