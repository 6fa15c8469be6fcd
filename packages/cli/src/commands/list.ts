/** `ocne cluster list`: the names of the cached clusters, one a line. */
import type { Command } from 'commander';
import { type CliContext, facade } from '../context.js';

/** Runs `list`. */
export async function list(context: CliContext): Promise<void> {
  const Cluster = await facade();
  const names = (await Cluster.list(context.base())).map((c) => `${c.name}\n`);
  await context.out(names.join(''));
}

/** The flags and action of `list` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command.action(() => list(context));
}
