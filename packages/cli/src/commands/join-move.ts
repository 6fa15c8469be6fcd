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
  const move = {
    sourceKubeconfigPath: kubeconfig,
    destinationKubeconfigPath: destination,
    node,
    role: options.roleControlPlane ? ('control-plane' as const) : ('worker' as const),
    ...context.operationOptions,
  };
  // Without -P the node moves through byo: upstream's node move belongs to the BYO workflow.
  const provider = options.providerGiven ? options.provider : 'byo';
  if (options.config === undefined) {
    // No configuration: the provider with the built-in defaults, as upstream moves without -c.
    await context.follow(Cluster.moveNode({ ...move, provider, ...context.base() }));
    return;
  }
  // The configuration names the provider, which reads what the destination needs from it (virtual
  // IP, network interface, kube-proxy mode).
  const cluster = await Cluster.open(context.openOptions({ ...options, provider: undefined }, provider));
  await context.follow(cluster.moveNode(move));
}
