/** `ocne cluster start`: deploys a cluster; for byo, prints the first control-plane node's Ignition. */
import { type Command, Option, type OptionValues } from 'commander';
import { type CliContext, facade } from '../context.js';
import { configPath, count, number, text } from '../option-values.js';

/** The flags of `start`; `undefined` means not given. */
export interface StartOptions {
  readonly config: string | undefined;
  readonly clusterName: string | undefined;
  readonly provider: string | undefined;
  readonly controlPlaneNodes: number | undefined;
  readonly workerNodes: number | undefined;
  readonly version: string | undefined;
  readonly session: string | undefined;
  readonly key: string | undefined;
  readonly bootVolumeContainerImage: string | undefined;
  readonly autoStartUi: string | undefined;
  readonly virtualIp: string | undefined;
  readonly loadBalancer: string | undefined;
}

const startOptions = (values: OptionValues): StartOptions => ({
  config: text(values, 'config'),
  clusterName: text(values, 'clusterName'),
  provider: text(values, 'provider'),
  controlPlaneNodes: number(values, 'controlPlaneNodes'),
  workerNodes: number(values, 'workerNodes'),
  version: text(values, 'version'),
  session: text(values, 'session'),
  key: text(values, 'key'),
  bootVolumeContainerImage: text(values, 'bootVolumeContainerImage'),
  autoStartUi: text(values, 'autoStartUi'),
  virtualIp: text(values, 'virtualIp'),
  loadBalancer: text(values, 'loadBalancer'),
});

/** Runs `start`: the Ignition (byo) on stdout, the kubeconfig path as a log line. */
export async function start(context: CliContext, options: StartOptions): Promise<void> {
  const Cluster = await facade();
  const cluster = await Cluster.open(context.openOptions(options, 'libvirt'));
  // The Ignition holds the cluster's CA key: it is written before the cluster is recorded, and a
  // failed write (a full disk, a closed pipe) leaves no cluster behind.
  const deliver = (ignition: string) => context.out(`${ignition}\n`);
  const result = await context.follow(cluster.start({ ...context.operationOptions, deliver }));
  if (!result.alreadyRunning)
    context.log('info', `Kubeconfig of cluster ${cluster.name}: ${result.kubeconfigPath}`);
}

/** The flags and action of `start` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-c, --config <path>', 'cluster configuration file', configPath)
    // Accepted as upstream's flag is; the facade does not take a management cluster yet.
    .option('-k, --kubeconfig <path>', 'kubeconfig of an existing cluster')
    .option('-C, --cluster-name <name>', 'name of the cluster')
    .option('-P, --provider <provider>', 'provider: libvirt, byo, oci, none, olvm')
    .option('-n, --control-plane-nodes <n>', 'number of control-plane nodes', count)
    .option('-w, --worker-nodes <n>', 'number of worker nodes', count)
    .option('-v, --version <version>', 'Kubernetes version')
    .option('-s, --session <uri>', 'libvirt session URI')
    .option('-i, --key <path>', 'SSH key for libvirt over SSH')
    .option('-o, --boot-volume-container-image <image>', 'container image with the boot volume')
    .option('-u, --auto-start-ui <bool>', 'start the UI after deploying (the SDK never opens a browser)')
    .addOption(new Option('--virtual-ip <ip>', 'virtual IP of the control plane').conflicts('loadBalancer'))
    .addOption(
      new Option('--load-balancer <host>', 'external load balancer of the control plane').conflicts(
        'virtualIp',
      ),
    )
    .action((values: OptionValues) => start(context, startOptions(values)));
}
