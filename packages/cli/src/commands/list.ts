/** `ocne cluster list`: the names of the cached clusters, one a line. */
import type { Command } from 'commander';
import { type CliContext, facade } from '../context.js';

/** Runs `list`. */
export async function list(context: CliContext): Promise<void> {
  const Cluster = await facade();
  const names = (await Cluster.list(context.base())).map((c) => `${c.name}\n`);
  await context.out(names.join(''));
}

/** Adds `list` to the `cluster` command; it has no options. */
export function addList(cluster: Command, context: CliContext): void {
  cluster
    .command('list')
    .alias('ls') // upstream's alias
    .description('List the cached clusters')
    .action(() => list(context));
}
