/**
 * The command table: every group and command of the CLI, what `--help` says of each, and how its
 * module is loaded. Shared by the commander program (`program.ts`) and the CLI's own parser of a
 * plain command line (`fast.ts`).
 */
import type { ParseMemoOptions } from '@ocne/core';
import type { CommandModule } from './context.js';

/** `--log-format`'s values. */
export const LOG_FORMATS = ['text', 'json'] as const;

/** A command of the table: what `--help` of its group says, and how to load its module. */
export interface CommandEntry {
  readonly description: string;
  readonly aliases?: readonly string[];
  /** A literal `import()` of the module, so the bundle gives each command a chunk of its own. */
  readonly load: () => Promise<CommandModule>;
}

/** A group of commands (`ocne cluster`). */
export interface GroupEntry {
  readonly description: string;
  readonly commands: Readonly<Record<string, CommandEntry>>;
}

/** The command table: every group and command, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, GroupEntry>> = {
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
export const UPSTREAM_COMMANDS: Readonly<Record<string, readonly string[]>> = {
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

/**
 * Loads the module of a command the command line reached and, beside it, turns on the parse memo
 * when the bin asked for it (the module loads `@ocne/core` anyway; `--help` and `--version` load
 * none of it). Both parsers (`fast.ts`, `program.ts`) reach commands through here.
 */
export async function loadCommand(
  entry: CommandEntry,
  parseMemo: ParseMemoOptions | undefined,
): Promise<CommandModule> {
  const [module] = await Promise.all([
    entry.load(),
    parseMemo && import('@ocne/core').then((core) => core.enableParseMemo(parseMemo)),
  ]);
  return module;
}
