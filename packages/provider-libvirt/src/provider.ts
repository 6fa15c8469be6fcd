/**
 * The libvirt provider as the `Cluster` facade sees it today: it declares no operations, so the
 * facade answers every call with `OCNE_PROVIDER_UNAVAILABLE` until the VM lifecycle arrives.
 */
import type { ResolvedConfig } from '@ocne/config';
import type { ClusterProvider } from '@ocne/core';

/** The libvirt provider: no operations in this version. */
export const provider: ClusterProvider<ResolvedConfig> = {
  name: 'libvirt',
  capabilities: { operations: [], userBootsNodes: false },
};
