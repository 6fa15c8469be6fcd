/** `ocne cluster delete`: deletes a cluster, found by its configuration file or by its cached name. */
import type { Cluster } from '@ocne/cluster';
import type { Command, OptionValues } from 'commander';
import { type CliContext, Exit, facade } from '../context.js';
import { configPath, text } from '../option-values.js';

/** The flags of `delete`; `undefined` means not given. */
export interface DeleteOptions {
  readonly config: string | undefined;
  readonly clusterName: string | undefined;
  readonly provider: string | undefined;
}

const deleteOptions = (values: OptionValues): DeleteOptions => ({
  config: text(values, 'config'),
  clusterName: text(values, 'clusterName'),
  provider: text(values, 'provider'),
});

/**
 * A cluster named only by `-C`: use its cached configuration, as upstream's delete does. A name
 * the cache does not have, without `-c` or `-P` to say what to clean up, is an unknown cluster
 * (upstream goes on with libvirt, which this SDK cannot delete with, and says only that).
 */
async function openByName(context: CliContext, options: DeleteOptions): Promise<Cluster> {
  const Cluster = await facade();
  if (options.config === undefined) {
    const name = options.clusterName ?? 'ocne';
    const cached = (await Cluster.list(context.base())).find((c) => c.name === name);
    if (cached) return Cluster.open({ ...context.base(), config: cached.config, defaults: false });
    if (options.provider === undefined) {
      throw new Exit(
        context.fail(
          `Cluster ${name} does not exist: to clean up after a start that failed, give its configuration (-c) or its provider (-P)`,
          'OCNE_CLUSTER_UNKNOWN',
        ),
      );
    }
  }
  return Cluster.open(context.openOptions(options, 'libvirt'));
}

/** Runs `delete`. */
export async function deleteCluster(context: CliContext, options: DeleteOptions): Promise<void> {
  const cluster = await openByName(context, options);
  await context.follow(cluster.delete(context.operationOptions));
}

/** The flags and action of `delete` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-c, --config <path>', 'cluster configuration file', configPath)
    .option('-C, --cluster-name <name>', 'name of the cluster')
    .option('-P, --provider <provider>', 'provider')
    // Accepted as upstream's flag is; the facade does not take a management cluster yet.
    .option('-k, --kubeconfig <path>', 'kubeconfig of the management cluster')
    .action((values: OptionValues) => deleteCluster(context, deleteOptions(values)));
}
