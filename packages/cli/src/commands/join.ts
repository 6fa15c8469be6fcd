/**
 * `ocne cluster join`: makes what new nodes need to join a cluster (byo: their Ignition on stdout,
 * instructions on stderr), or with `-d`/`-N` moves a node from one cluster to another
 * ({@link moveNode}).
 */
import type { Command, OptionValues } from 'commander';
import { type CliContext, facade } from '../context.js';
import { configPath, count, flag, number, requiredText, text } from '../option-values.js';
import { moveNode } from './join-move.js';

/** The flags of `join`; `undefined` means not given. */
export interface JoinOptions {
  readonly config: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly clusterName: string | undefined;
  /** The provider when the configuration names none (`-P` defaults to libvirt). */
  readonly provider: string;
  /** Whether `-P` was on the command line (a node move defaults to byo otherwise). */
  readonly providerGiven: boolean;
  readonly controlPlaneNodes: number | undefined;
  readonly workerNodes: number | undefined;
  readonly roleControlPlane: boolean;
  readonly destination: string | undefined;
  readonly node: string | undefined;
}

const joinOptions = (values: OptionValues, command: Command): JoinOptions => ({
  config: text(values, 'config'),
  kubeconfig: text(values, 'kubeconfig'),
  clusterName: text(values, 'clusterName'),
  provider: requiredText(values, 'provider'),
  providerGiven: command.getOptionValueSource('provider') === 'cli',
  controlPlaneNodes: number(values, 'controlPlaneNodes'),
  workerNodes: number(values, 'workerNodes'),
  roleControlPlane: flag(values, 'roleControlPlane'),
  destination: text(values, 'destination'),
  node: text(values, 'node'),
});

/** Runs `join`: without counts, one node of the role `-r` says (a worker without it). */
export async function join(context: CliContext, options: JoinOptions): Promise<void> {
  if (options.destination !== undefined || options.node !== undefined) return moveNode(context, options);
  let { controlPlaneNodes, workerNodes } = options;
  if (controlPlaneNodes === undefined && workerNodes === undefined) {
    if (options.roleControlPlane) controlPlaneNodes = 1;
    else workerNodes = 1;
  }
  const Cluster = await facade();
  // -P is the default provider here, not an override: the configuration's own provider wins.
  const cluster = await Cluster.open(
    context.openOptions({ ...options, provider: undefined }, options.provider),
  );
  const result = await context.follow(
    cluster.join({
      ...(controlPlaneNodes !== undefined ? { controlPlaneNodes } : {}),
      ...(workerNodes !== undefined ? { workerNodes } : {}),
      ...(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {}),
      ...context.operationOptions,
    }),
  );
  if (result.ignition !== undefined) await context.out(`${result.ignition}\n`);
}

/** The flags and action of `join` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-c, --config <path>', 'cluster configuration file', configPath)
    .option('-k, --kubeconfig <path>', 'kubeconfig of the cluster')
    .option('-C, --cluster-name <name>', 'name of the cluster')
    .option('-P, --provider <provider>', 'provider', 'libvirt')
    .option('-n, --control-plane-nodes <n>', 'number of control-plane nodes', count)
    .option('-w, --worker-nodes <n>', 'number of worker nodes', count)
    .option('-r, --role-control-plane', 'the new node is a control-plane node')
    .option('-d, --destination <path>', 'kubeconfig of the cluster a node moves to')
    .option('-N, --node <name>', 'the node to move to another cluster')
    .action((values: OptionValues, command: Command) => join(context, joinOptions(values, command)));
}
