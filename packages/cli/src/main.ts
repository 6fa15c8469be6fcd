/**
 * The `ocne` command: builds the program from the command table ({@link COMMANDS}) and maps what
 * the commands throw to exit codes: 0 ok, 1 the operation failed, 2 usage error. A command's
 * module (`commands/*.ts`) is loaded only when the command line reaches that command, so a run
 * loads the code of one command (and `--help` of a group none).
 */
import { readFileSync } from 'node:fs';
import type { ParseMemoOptions } from '@ocne/core';
import { Command, CommanderError, Option } from 'commander';
import { CliContext, type CommandModule, Exit } from './context.js';
import { choice } from './option-values.js';
import { LOG_LEVELS } from './render.js';
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

const LOG_FORMATS = ['text', 'json'] as const;

/** A command of the table: what `--help` of its group says, and how to load its module. */
interface CommandEntry {
  readonly description: string;
  readonly aliases?: readonly string[];
  /** A literal `import()` of the module, so the bundle gives each command a chunk of its own. */
  readonly load: () => Promise<CommandModule>;
}

/** A group of commands (`ocne cluster`). */
interface GroupEntry {
  readonly description: string;
  readonly commands: Readonly<Record<string, CommandEntry>>;
}

/** The command table: every group and command, in the order `--help` lists them. */
const COMMANDS: Readonly<Record<string, GroupEntry>> = {
  cluster: {
    description: 'Deploy and manage Kubernetes clusters',
    commands: {
      start: {
        description: 'Deploy a cluster (byo: prints the Ignition of the first control-plane node on stdout)',
        load: () => import('./commands/start.js'),
      },
      join: {
        description:
          'Make what new nodes need to join a cluster (byo: their Ignition on stdout, instructions on stderr)',
        load: () => import('./commands/join.js'),
      },
      show: {
        description: "Show a cached cluster's kubeconfig path, another field of it, or all of it as YAML",
        load: () => import('./commands/show.js'),
      },
      list: {
        description: 'List the cached clusters',
        aliases: ['ls'], // upstream's alias
        load: () => import('./commands/list.js'),
      },
      delete: { description: 'Delete a cluster', load: () => import('./commands/delete.js') },
      template: {
        description: 'Print the Cluster API resources of a cluster',
        load: () => import('./commands/template.js'),
      },
      console: {
        description: 'Run a shell, or the command after --, on a node of a cluster, in an administration pod',
        load: () => import('./commands/console.js'),
      },
    },
  },
  image: {
    description: 'Manage OCK images',
    commands: {
      create: {
        description: 'Create an image for a specific provider',
        load: () => import('./commands/image-create.js'),
      },
      upload: {
        description:
          'Upload an image: to a container registry (--type ostree) or object storage (--type oci)',
        load: () => import('./commands/image-upload.js'),
      },
    },
  },
};

/**
 * Upstream's commands at each level (cobra adds `help` and `completion` to the root), ours or not:
 * a prefix is a command only when it is unique among them, so a prefix that upstream finds
 * ambiguous (`ocne cluster d`: delete or dump) is refused here too, not run as the one we have.
 */
const UPSTREAM_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  ocne: ['application', 'catalog', 'cluster', 'completion', 'help', 'image', 'info', 'node'],
  'ocne cluster': [
    'analyze',
    'backup',
    'console',
    'delete',
    'dump',
    'info',
    'join',
    'list',
    'show',
    'stage',
    'start',
    'template',
    'update',
  ],
  'ocne image': ['create', 'info', 'upload'],
};

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
const addLogLevel = (command: Command): Command =>
  command.addOption(
    new Option('-l, --log-level <level>', 'the least severe log lines printed (text format)').choices(
      LOG_LEVELS,
    ),
  );

/** The `-l` given closest to the command that runs (as cobra's persistent flags), else `info`. */
function logLevelOf(command: Command): (typeof LOG_LEVELS)[number] {
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

function program(context: CliContext): Command {
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
  const loaders = new Map<Command, CommandEntry['load']>();
  for (const [name, group] of Object.entries(COMMANDS)) {
    // With positional options each command parses its own flags: every command below the root takes -l too.
    const parent = addLogLevel(ocne.command(name).description(group.description).exitOverride());
    for (const [word, entry] of Object.entries(group.commands)) {
      const command = parent.command(word).description(entry.description);
      for (const alias of entry.aliases ?? []) command.alias(alias);
      loaders.set(command, entry.load);
    }
    // The command line has reached one command: its module adds its flags and action, then -l.
    parent.hook('preSubcommand', async (_, command) => {
      const load = loaders.get(command);
      if (load === undefined) return;
      loaders.delete(command);
      const [module] = await Promise.all([load(), parseMemo && enableParseMemo(parseMemo)]);
      module.configure(command, context);
      addLogLevel(command);
    });
  }
  return ocne;
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

async function enableParseMemo(options: ParseMemoOptions): Promise<void> {
  (await import('@ocne/core')).enableParseMemo(options);
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
