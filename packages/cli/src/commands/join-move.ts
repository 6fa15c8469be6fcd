/**
 * The node-move branch of `ocne cluster join` (`-k` the cluster the node is in, `-d` the one it
 * joins, `-N` the node). Kept apart from `join.ts` so that the way a move reaches the facade can
 * change in this one place: today it reads the byo settings of the configuration (`-c`) itself and
 * calls the static `Cluster.moveNode`.
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
  let settings: { virtualIp?: string; netInterface?: string; kubeProxyMode?: string } = {};
  if (options.config !== undefined) {
    const { cluster } = (
      await Cluster.open(context.openOptions({ ...options, provider: undefined }, options.provider))
    ).config;
    settings = {
      ...(cluster.virtualIp ? { virtualIp: cluster.virtualIp } : {}),
      ...(cluster.providers.byo.networkInterface
        ? { netInterface: cluster.providers.byo.networkInterface }
        : {}),
      kubeProxyMode: cluster.kubeProxyMode,
    };
  }
  await context.follow(
    Cluster.moveNode({
      sourceKubeconfigPath: kubeconfig,
      destinationKubeconfigPath: destination,
      node,
      role: options.roleControlPlane ? 'control-plane' : 'worker',
      ...settings,
      ...context.operationOptions,
    }),
  );
}
