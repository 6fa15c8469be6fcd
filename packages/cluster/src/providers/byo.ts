/**
 * The facade's adapter for `@ocne/provider-byo`. Loaded only when a byo cluster is used. It reads
 * the files the configuration names (the ssh key, extra Ignition) for the provider, which reads none.
 */
import { OcneError, readConfigFiles } from '@ocne/config';
import { NODE_FILE_KEYS, serializeIgnition } from '@ocne/ignition';
import { byoJoin, byoStart, CoreAppsErrorCode, installCoreApplications } from '@ocne/provider-byo';
import type { ClusterProvider } from '../provider.js';

/** The byo provider. */
export const byoProvider: ClusterProvider = {
  name: 'byo',
  async start({ config, emit, signal }) {
    const files = await readConfigFiles(config.cluster, { keys: NODE_FILE_KEYS, signal });
    const result = await byoStart({ config: config.cluster, files, emit, signal });
    return { ignition: serializeIgnition(result.ignition), kubeconfig: result.kubeconfig };
  },
  async postStart({ config, emit, signal, catalog, helmPath, kubeconfigPath }) {
    // Checked before anything touches the network: without a catalog there is nothing to install.
    if (catalog === undefined) {
      throw new OcneError(
        CoreAppsErrorCode.CatalogMissing,
        'the cluster is already started: the next step installs the core applications (CoreDNS, kube-proxy, flannel, the UI, the catalog), which needs the OCNE application catalog: give it with Cluster.open({ catalog: { repoUrl } }) or the environment variable OCNE_CATALOG (a Helm repository URL, or a folder of charts)',
      );
    }
    if (kubeconfigPath === undefined) {
      throw new OcneError('OCNE_KUBECONFIG_MISSING', 'the kubeconfig of the cluster is not known');
    }
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
    const files = await readConfigFiles(config.cluster, { keys: NODE_FILE_KEYS, signal });
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
};
