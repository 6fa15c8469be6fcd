/**
 * The node-move branch of `ocne cluster join` (`-k` the cluster the node is in, `-d` the one it
 * joins, `-N` the node). Kept apart from `join.ts` so that the way a move reaches the facade can
 * change in this one place. The CLI knows no provider's fields: `Cluster.moveNode` hands the move
 * to the cluster's provider, which reads what it needs from the configuration.
 */
import { type CliContext, Exit, facade } from '../context.js';
import type { JoinOptions } from './join.js';

/** Moves `options.node`; a usage error (exit 2) unless `-k`, `-d` and `-N` are all given. */
export async function moveNode(context: CliContext, options: JoinOptions): Promise<void> {
  const { destination, node, kubeconfig } = options;
  if (destination === undefined || node === undefined || kubeconfig === undefined) {
    throw new Exit(
      context.fail(
        'moving a node needs --kubeconfig (its cluster), --destination and --node',
        'OCNE_USAGE',
        2,
      ),
    );
  }
  const Cluster = await facade();
  // The node moves through the provider of the configuration (`-c`), which also says what the
  // destination needs (virtual IP, network interface). Without `-P` or a provider in the file it is
  // byo's: upstream's node move belongs to the BYO workflow.
  const cluster = await Cluster.open(
    context.openOptions(
      { ...options, provider: undefined },
      options.providerGiven ? options.provider : 'byo',
    ),
  );
  await context.follow(
    cluster.moveNode({
      sourceKubeconfigPath: kubeconfig,
      destinationKubeconfigPath: destination,
      node,
      role: options.roleControlPlane ? 'control-plane' : 'worker',
      ...context.operationOptions,
    }),
  );
}
