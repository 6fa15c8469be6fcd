/**
 * @ocne/provider-libvirt: local VM clusters on libvirt.
 *
 * `provider` is what the `Cluster` facade loads for `provider: libvirt`. It declares no operations
 * yet (the facade answers every call with `OCNE_PROVIDER_UNAVAILABLE`): its VM lifecycle arrives
 * with the issue that implements it, and nothing here pretends to work before then.
 *
 * @packageDocumentation
 */
import type { ResolvedConfig } from '@ocne/config';
import type { ClusterProvider } from '@ocne/core';

/** The libvirt provider: no operations in this version. */
export const provider: ClusterProvider<ResolvedConfig> = {
  name: 'libvirt',
  capabilities: { operations: [], userBootsNodes: false },
};
