/**
 * The facade's adapter for `@ocne/provider-byo`. Loaded only when a byo cluster is used.
 */
import { OcneError } from '@ocne/config';
import { serializeIgnition } from '@ocne/ignition';
import { byoJoin, byoStart } from '@ocne/provider-byo';
import type { ClusterProvider } from '../provider.js';

/** The byo provider. */
export const byoProvider: ClusterProvider = {
  name: 'byo',
  async start({ config, emit, signal }) {
    const result = await byoStart({ config: config.cluster, emit, signal });
    return { ignition: serializeIgnition(result.ignition), kubeconfig: result.kubeconfig };
  },
  async postStart() {
    throw new OcneError(
      'OCNE_NOT_IMPLEMENTED',
      'the cluster is already started: the next step installs the core applications into it, which needs the Kubernetes support this SDK version does not have yet',
    );
  },
  async join({ config, emit, signal }, request) {
    if (request.controlPlaneNodes > 0 && request.workerNodes > 0) {
      throw new OcneError(
        'OCNE_BYO_MIXED_JOIN',
        'The BYO provider cannot join worker and control plane nodes at the same time',
      );
    }
    const result = await byoJoin({
      config: config.cluster,
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
