/**
 * The byo provider as the `Cluster` facade drives it: `provider` (options from the environment)
 * and {@link createByoProvider} for explicit options. The facade loads this package by name the
 * first time a byo cluster is used; nothing here loads the Kubernetes client until a step needs a
 * live cluster. It reads the files the configuration names (ssh key, extra Ignition) for the
 * generators, which read none.
 */
import { type ResolvedConfig, readConfigFiles } from '@ocne/config';
import { type ClusterProvider, OcneError } from '@ocne/core';
import { NODE_FILE_KEYS, serializeIgnition } from '@ocne/ignition';
import { installCoreApplications } from './apps.js';
import { byoJoin, byoStart } from './byo.js';
import { migrateNode } from './migrate.js';

/** Options of {@link createByoProvider}. */
export interface ByoProviderOptions {
  /**
   * The application catalog a second start installs the core applications from: a Helm repository
   * URL (`http(s)://…`), `file://` of a folder with `index.yaml`, or a local folder of charts.
   * @defaultValue `OCNE_CATALOG` of the cluster's environment; none: a second start fails with
   * `OCNE_CATALOG_MISSING`
   */
  catalog?: { repoUrl: string };
  /** The helm binary. @defaultValue `OCNE_HELM` of the cluster's environment, else `helm` on `PATH` */
  helmPath?: string;
}

/** A byo provider with explicit options: `Cluster.open({ provider: createByoProvider({ catalog }) })`. */
export function createByoProvider(options: ByoProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  return {
    name: 'byo',
    capabilities: { operations: ['start', 'join', 'delete', 'moveNode'], userBootsNodes: true },
    async start({ config, emit, signal }) {
      const files = await readConfigFiles(config.cluster, {
        keys: NODE_FILE_KEYS,
        provenance: config.provenance,
        signal,
      });
      const result = await byoStart({ config: config.cluster, files, emit, signal });
      return { ignition: serializeIgnition(result.ignition), kubeconfig: result.kubeconfig };
    },
    async postStart({ config, env, emit, signal }, { kubeconfigPath }) {
      const catalog = options.catalog ?? (env.OCNE_CATALOG ? { repoUrl: env.OCNE_CATALOG } : undefined);
      // Checked before anything touches the network: without a catalog there is nothing to install.
      if (catalog === undefined) {
        throw new OcneError(
          'OCNE_CATALOG_MISSING',
          'the cluster is already started: the next step installs the core applications (CoreDNS, kube-proxy, flannel, the UI, the catalog), which needs the OCNE application catalog: give it with createByoProvider({ catalog: { repoUrl } }) or the environment variable OCNE_CATALOG (a Helm repository URL, or a folder of charts)',
        );
      }
      const helmPath = options.helmPath ?? (env.OCNE_HELM || undefined);
      await installCoreApplications({
        config: config.cluster,
        kubeconfigPath,
        catalog,
        emit,
        signal,
        ...(helmPath !== undefined ? { helmPath } : {}),
      });
    },
    async join({ config, emit, signal }, request) {
      if (request.controlPlaneNodes > 0 && request.workerNodes > 0) {
        throw new OcneError(
          'OCNE_BYO_MIXED_JOIN',
          'The BYO provider cannot join worker and control plane nodes at the same time',
        );
      }
      const files = await readConfigFiles(config.cluster, {
        keys: NODE_FILE_KEYS,
        provenance: config.provenance,
        signal,
      });
      const result = await byoJoin({
        config: config.cluster,
        files,
        emit,
        signal,
        kubeconfig: request.kubeconfig,
        role: request.controlPlaneNodes > 0 ? 'control-plane' : 'worker',
        ...(request.firstControlPlaneNode ? { firstControlPlaneNode: request.firstControlPlaneNode } : {}),
      });
      return {
        ignition: serializeIgnition(result.ignition),
        token: result.token,
        commands: result.commands,
        instructions: result.instructions,
      };
    },
    async delete() {
      // Nothing of the cluster lives anywhere but in the kubeconfig the facade removes.
    },
    async moveNode({ config, emit, signal }, request) {
      // The destination's virtual IP, the node's interface and the kube-proxy mode come from this
      // cluster's configuration (upstream reads the same from the `-c` file).
      const cluster = config.cluster;
      return migrateNode({
        ...request,
        emit,
        signal,
        kubeProxyMode: cluster.kubeProxyMode,
        ...(cluster.virtualIp ? { virtualIp: cluster.virtualIp } : {}),
        ...(cluster.providers.byo.networkInterface
          ? { netInterface: cluster.providers.byo.networkInterface }
          : {}),
      });
    },
  };
}

/** The byo provider, with its options from the cluster's environment (`OCNE_CATALOG`, `OCNE_HELM`). */
export const provider: ClusterProvider<ResolvedConfig> = createByoProvider();
