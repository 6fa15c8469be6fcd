/**
 * `ocne cluster console`: a shell, or the command after `--`, on a node of a cluster, in an admin
 * pod (upstream's flags: `-N/--node`, `-d/--direct`, `-t/--toolbox`, `-k/--kubeconfig`). Stdin is
 * passed on (piped input reaches the command); a terminal on stdin gets a terminal on the node.
 * The command's exit code is the CLI's.
 */
import type { Command, OptionValues } from 'commander';
import { type CliContext, Exit, facade } from '../context.js';
import { flag, requiredText, text } from '../option-values.js';

/** The flags and arguments of `console`. */
export interface ConsoleCommandOptions {
  /** `-N`: the node. */
  readonly node: string;
  /** `-d`: in the node's root. */
  readonly direct: boolean;
  /** `-t`: in the toolbox image. */
  readonly toolbox: boolean;
  /** `-k`: the cluster's kubeconfig; `KUBECONFIG`, else `~/.kube/config`, when not given. */
  readonly kubeconfig: string | undefined;
  /** After `--`: the command; empty for a shell. */
  readonly command: readonly string[];
}

const consoleOptions = (values: OptionValues, command: readonly string[]): ConsoleCommandOptions => ({
  node: requiredText(values, 'node'),
  direct: flag(values, 'direct'),
  toolbox: flag(values, 'toolbox'),
  kubeconfig: text(values, 'kubeconfig'),
  command,
});

/** Runs `console`: ends the CLI with the command's exit code. */
export async function runConsole(context: CliContext, options: ConsoleCommandOptions): Promise<void> {
  const Cluster = await facade();
  const stdin = context.stdin as NodeJS.ReadableStream & {
    isTTY?: boolean;
    setRawMode?: (raw: boolean) => void;
  };
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  // A terminal session: keys go to the node as typed (Ctrl-C included), not to this process.
  if (tty) stdin.setRawMode?.(true);
  let code: number;
  try {
    code = await Cluster.console({
      node: options.node,
      ...(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {}),
      command: options.command,
      direct: options.direct,
      toolbox: options.toolbox,
      tty,
      stdin,
      stdout: context.stdout,
      stderr: context.stderr,
      ...context.base(),
    });
  } finally {
    if (tty) stdin.setRawMode?.(false);
    // The session read stdin: let it go, or it keeps the process alive.
    stdin.pause();
  }
  if (code !== 0) throw new Exit(code);
}

/** The flags and action of `cluster console` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .requiredOption('-N, --node <name>', 'the node to run on')
    .option('-d, --direct', "run in the node's root file system (chroot /hostroot) rather than in the pod")
    .option('-t, --toolbox', 'run in the toolbox image, which has more tools')
    .option('-k, --kubeconfig <path>', "the cluster's kubeconfig (default: KUBECONFIG, else ~/.kube/config)")
    .argument('[command...]', 'the command and its arguments, after --; none: an interactive shell')
    .action((command: string[], values: OptionValues) =>
      runConsole(context, consoleOptions(values, command)),
    );
}
