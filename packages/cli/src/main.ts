/**
 * The `ocne` command: argument parsing, rendering and exit codes over `@ocne/cluster`.
 * Exit codes: 0 ok, 1 the operation failed, 2 usage error.
 */
import type { Cluster as ClusterClass, ClusterOpenOptions, Operation } from '@ocne/cluster';
import type { ClusterConfig, DefaultsConfig } from '@ocne/config';
import type { OcneEvent } from '@ocne/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { type LogFormat, logLine, renderEvent } from './render.js';

/** Where the CLI reads and writes; the defaults are the process's. */
export interface MainOptions {
  /** Arguments after the program name. */
  argv: readonly string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Environment (`OCNE_DEFAULTS`, `HOME`). @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal. @defaultValue `process.stderr.isTTY` */
  tty?: boolean;
  /** Cancels the running command (the bin wires SIGINT to it). */
  signal?: AbortSignal;
}

const count = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new InvalidArgumentError('expected a whole number from 0 to 65535');
  return Number(value);
};

/** The facade, loaded on first use so that `--help` and `--version` stay fast. */
const facade = async (): Promise<typeof ClusterClass> => (await import('@ocne/cluster')).Cluster;

class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/**
 * Runs the CLI and resolves to its exit code: 0 ok, 1 the operation failed, 2 usage error.
 */
export async function main(options: MainOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const tty = options.tty ?? Boolean((process.stderr as { isTTY?: boolean }).isTTY);
  const home = env.HOME && env.HOME !== '' ? env.HOME : undefined;
  let format: LogFormat = 'text';

  const log = (level: 'info' | 'error', message: string) => {
    if (format === 'json') {
      stderr.write(
        `${JSON.stringify({ type: 'log', level, message, timestamp: new Date().toISOString() })}\n`,
      );
    } else {
      stderr.write(logLine(level, message, new Date().toISOString(), tty));
    }
  };
  const follow = async <T>(operation: Operation<T>): Promise<T> => {
    const render = (event: OcneEvent) => renderEvent(event, { stream: stderr, format, tty });
    for (const event of operation.events) render(event);
    const off = operation.onEvent(render);
    try {
      return await operation;
    } finally {
      off();
    }
  };
  const base = (): Pick<ClusterOpenOptions, 'home' | 'env' | 'signal'> => ({
    ...(home ? { home } : {}),
    env,
    ...(options.signal ? { signal: options.signal } : {}),
  });

  const program = new Command('ocne')
    .description('Oracle Cloud Native Environment cluster lifecycle, from the TypeScript SDK')
    .version(pkg.version, '--version', 'print the version')
    .addOption(
      new Option('--log-format <format>', 'text log lines, or the event stream as JSON lines')
        .choices(['text', 'json'])
        .default('text'),
    )
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
    })
    .hook('preAction', (command) => {
      format = command.optsWithGlobals().logFormat as LogFormat;
    });

  const clusterCmd = program
    .command('cluster')
    .description('Deploy and manage Kubernetes clusters')
    .exitOverride();

  const openOptions = (opts: Record<string, unknown>, defaultProvider: string): ClusterOpenOptions => {
    const overrides: ClusterConfig = {};
    if (opts.clusterName !== undefined) overrides.name = opts.clusterName as string;
    if (opts.provider !== undefined) overrides.provider = opts.provider as string;
    if (opts.controlPlaneNodes !== undefined) overrides.controlPlaneNodes = opts.controlPlaneNodes as number;
    if (opts.workerNodes !== undefined) overrides.workerNodes = opts.workerNodes as number;
    if (opts.version !== undefined) overrides.kubernetesVersion = opts.version as string;
    if (opts.virtualIp !== undefined) overrides.virtualIp = opts.virtualIp as string;
    if (opts.loadBalancer !== undefined) overrides.loadBalancer = opts.loadBalancer as string;
    const configOverrides: DefaultsConfig = {};
    if (opts.session !== undefined || opts.key !== undefined) {
      configOverrides.providers = {
        libvirt: {
          ...(opts.session !== undefined ? { uri: opts.session as string } : {}),
          ...(opts.key !== undefined ? { sshKey: opts.key as string } : {}),
        },
      };
    }
    if (opts.bootVolumeContainerImage !== undefined)
      configOverrides.bootVolumeContainerImage = opts.bootVolumeContainerImage as string;
    if (opts.autoStartUi !== undefined) configOverrides.autoStartUI = opts.autoStartUi as string;
    return {
      ...base(),
      defaultProvider,
      ...(opts.config !== undefined ? { configPath: opts.config as string } : {}),
      ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
      ...(Object.keys(configOverrides).length > 0 ? { configOverrides } : {}),
    };
  };

  /** A cluster named only by `-C`: use its cached configuration, as upstream's delete does. */
  const openByName = async (
    opts: Record<string, unknown>,
    defaultProvider: string,
  ): Promise<ClusterClass> => {
    const Cluster = await facade();
    if (opts.config === undefined) {
      const name = (opts.clusterName as string | undefined) ?? 'ocne';
      const cached = (await Cluster.list(base())).find((c) => c.name === name);
      if (cached) return Cluster.open({ ...base(), config: cached.config as ClusterConfig, defaults: false });
    }
    return Cluster.open(openOptions(opts, defaultProvider));
  };

  clusterCmd
    .command('start')
    .description('Deploy a cluster (byo: prints the Ignition of the first control-plane node on stdout)')
    .option('-c, --config <path>', 'cluster configuration file')
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
    .action(async (opts: Record<string, unknown>) => {
      const Cluster = await facade();
      const cluster = await Cluster.open(openOptions(opts, 'libvirt'));
      const result = await follow(cluster.start(options.signal ? { signal: options.signal } : {}));
      if (result.ignition !== undefined) stdout.write(`${result.ignition}\n`);
      if (!result.alreadyRunning)
        log('info', `Kubeconfig of cluster ${cluster.name}: ${result.kubeconfigPath}`);
    });

  clusterCmd
    .command('join')
    .description(
      'Make what new nodes need to join a cluster (byo: their Ignition on stdout, instructions on stderr)',
    )
    .option('-c, --config <path>', 'cluster configuration file')
    .option('-k, --kubeconfig <path>', 'kubeconfig of the cluster')
    .option('-C, --cluster-name <name>', 'name of the cluster')
    .option('-P, --provider <provider>', 'provider', 'libvirt')
    .option('-n, --control-plane-nodes <n>', 'number of control-plane nodes', count)
    .option('-w, --worker-nodes <n>', 'number of worker nodes', count)
    .option('-r, --role-control-plane', 'the new node is a control-plane node')
    .option('-d, --destination <path>', 'kubeconfig of the cluster a node moves to')
    .option('-N, --node <name>', 'the node to move to another cluster')
    .action(async (opts: Record<string, unknown>) => {
      if (opts.destination !== undefined || opts.node !== undefined) {
        // Moving a node: -k is the cluster it is in, -d the one it joins, -N the node.
        if (opts.destination === undefined || opts.node === undefined || opts.kubeconfig === undefined) {
          throw new Exit(
            await fail(
              'moving a node needs --kubeconfig (its cluster), --destination and --node',
              'OCNE_USAGE',
              2,
            ),
          );
        }
        const Cluster = await facade();
        let settings: { virtualIp?: string; netInterface?: string; kubeProxyMode?: string } = {};
        if (opts.config !== undefined) {
          const { cluster } = (
            await Cluster.open(openOptions({ ...opts, provider: undefined }, opts.provider as string))
          ).config;
          settings = {
            ...(cluster.virtualIp ? { virtualIp: cluster.virtualIp } : {}),
            ...(cluster.providers.byo.networkInterface
              ? { netInterface: cluster.providers.byo.networkInterface }
              : {}),
            kubeProxyMode: cluster.kubeProxyMode,
          };
        }
        await follow(
          Cluster.moveNode({
            sourceKubeconfigPath: opts.kubeconfig as string,
            destinationKubeconfigPath: opts.destination as string,
            node: opts.node as string,
            role: opts.roleControlPlane ? 'control-plane' : 'worker',
            ...settings,
            ...(options.signal ? { signal: options.signal } : {}),
          }),
        );
        return;
      }
      let controlPlaneNodes = opts.controlPlaneNodes as number | undefined;
      let workerNodes = opts.workerNodes as number | undefined;
      if (controlPlaneNodes === undefined && workerNodes === undefined) {
        if (opts.roleControlPlane) controlPlaneNodes = 1;
        else workerNodes = 1;
      }
      const Cluster = await facade();
      const cluster = await Cluster.open({
        ...openOptions({ ...opts, provider: undefined }, opts.provider as string),
      });
      const result = await follow(
        cluster.join({
          ...(controlPlaneNodes !== undefined ? { controlPlaneNodes } : {}),
          ...(workerNodes !== undefined ? { workerNodes } : {}),
          ...(opts.kubeconfig !== undefined ? { kubeconfigPath: opts.kubeconfig as string } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      if (result.ignition !== undefined) stdout.write(`${result.ignition}\n`);
    });

  clusterCmd
    .command('show')
    .description('Show a cached cluster: its configuration and kubeconfig path, as YAML')
    .option('-C, --cluster-name <name>', 'name of the cluster', 'ocne')
    .option('-f, --field <path>', 'print one field, such as kubeconfig or config.provider')
    .action(async (opts: Record<string, unknown>) => {
      const Cluster = await facade();
      const cluster = (await Cluster.list(base())).find((c) => c.name === opts.clusterName);
      if (cluster === undefined)
        throw new Exit(
          await fail(`Cluster ${String(opts.clusterName)} does not exist`, 'OCNE_CLUSTER_UNKNOWN'),
        );
      const shown: Record<string, unknown> = { config: cluster.config, kubeconfig: cluster.kubeconfigPath };
      if (opts.field !== undefined) {
        const value = String(opts.field)
          .split('.')
          .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], shown);
        if (value === undefined)
          throw new Exit(await fail(`no field ${String(opts.field)}`, 'OCNE_USAGE', 2));
        const { stringify } = await import('yaml');
        stdout.write(typeof value === 'object' ? stringify(value) : `${String(value)}\n`);
      } else {
        const { stringify } = await import('yaml');
        stdout.write(stringify(shown));
      }
    });

  clusterCmd
    .command('list')
    .description('List the cached clusters')
    .action(async () => {
      const Cluster = await facade();
      for (const c of await Cluster.list(base())) stdout.write(`${c.name}\n`);
    });

  clusterCmd
    .command('delete')
    .description('Delete a cluster')
    .option('-c, --config <path>', 'cluster configuration file')
    .option('-C, --cluster-name <name>', 'name of the cluster')
    .option('-P, --provider <provider>', 'provider')
    .option('-k, --kubeconfig <path>', 'kubeconfig of the management cluster')
    .action(async (opts: Record<string, unknown>) => {
      const cluster = await openByName(opts, 'libvirt');
      await follow(cluster.delete(options.signal ? { signal: options.signal } : {}));
    });

  clusterCmd
    .command('template')
    .description('Print the Cluster API resources of a cluster')
    .option('-c, --config <path>', 'cluster configuration file')
    .option('-P, --provider <provider>', 'provider (overrides the configuration file)')
    .option('-k, --kubeconfig <path>', 'kubeconfig of the management cluster (unused, as upstream)')
    .action(async (opts: Record<string, unknown>) => {
      const Cluster = await facade();
      // -P wins over the file's provider; without either, oci. (Upstream's -P defaults to oci and so
      // always overrides the file; here a file's own provider counts when -P is not given.)
      const cluster = await Cluster.open(openOptions(opts, 'oci'));
      stdout.write(await follow(cluster.template(options.signal ? { signal: options.signal } : {})));
    });

  async function fail(message: string, code: string, exit = 1): Promise<number> {
    if (format === 'json') {
      stderr.write(
        `${JSON.stringify({ type: 'error', code, message, timestamp: new Date().toISOString() })}\n`,
      );
    } else {
      log('error', message);
    }
    return exit;
  }

  try {
    await program.parseAsync([...options.argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
        ? 0
        : 2;
    }
    const [{ ConfigError }, { isOcneError }] = await Promise.all([
      import('@ocne/config'),
      import('@ocne/core'),
    ]);
    if (error instanceof ConfigError) {
      for (const line of error.describe().split('\n')) await fail(line, error.code);
      return 1;
    }
    if (isOcneError(error)) return fail(error.message, error.code);
    return fail(
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      'OCNE_INTERNAL',
    );
  }
}
