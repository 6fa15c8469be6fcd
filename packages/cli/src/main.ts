/**
 * The `ocne` command: builds the program from the command modules (`commands/*.ts`) and maps what
 * they throw to exit codes: 0 ok, 1 the operation failed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { addDelete } from './commands/delete.js';
import { addJoin } from './commands/join.js';
import { addList } from './commands/list.js';
import { addShow } from './commands/show.js';
import { addStart } from './commands/start.js';
import { addTemplate } from './commands/template.js';
import { CliContext, Exit } from './context.js';
import { choice } from './option-values.js';

/** Where the CLI reads and writes; the defaults are the process's. */
export interface MainOptions {
  /** Arguments after the program name. */
  argv: readonly string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Environment (`OCNE_DEFAULTS`, `HOME`). @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal. @defaultValue `process.stderr.isTTY` */
  tty?: boolean;
  /** Cancels the running command (the bin wires SIGINT to it). */
  signal?: AbortSignal;
}

const LOG_FORMATS = ['text', 'json'] as const;

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

function program(context: CliContext): Command {
  const ocne = new Command('ocne')
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
      writeOut: (s) => context.stdout.write(s),
      writeErr: (s) => context.stderr.write(s),
    })
    .hook('preAction', (command) => {
      context.format = choice(command.optsWithGlobals(), 'logFormat', LOG_FORMATS);
    });
  const cluster = ocne.command('cluster').description('Deploy and manage Kubernetes clusters').exitOverride();
  for (const add of [addStart, addJoin, addShow, addList, addDelete, addTemplate]) add(cluster, context);
  return ocne;
}

/**
 * Runs the CLI and resolves to its exit code: 0 ok, 1 the operation failed, 2 usage error.
 */
export async function main(options: MainOptions): Promise<number> {
  const context = new CliContext({
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    tty: options.tty ?? Boolean(process.stderr.isTTY),
    signal: options.signal,
  });
  try {
    await program(context).parseAsync([...options.argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) {
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
