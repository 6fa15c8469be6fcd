/**
 * @ocne/provider-libvirt: local VM clusters on libvirt, laid out as upstream's `ocne` lays them out
 * (domains, volumes, NVRAM, `~/.ocne/ips.yaml`, the `.local` and `.vm` kubeconfigs), so either
 * tool manages the other's clusters. `provider` is what the `Cluster` facade loads for
 * `provider: libvirt`; `createLibvirtProvider` takes a boot image source, the domain type and the
 * application catalog; `ensureEphemeralCluster` is the bootstrap cluster of the OCI provider and
 * `image create`. Without a `bootImage`, the boot disk is pulled from `bootVolumeContainerImage`
 * through `@ocne/image`.
 *
 * @packageDocumentation
 */

export type { BootImageRegistryOptions } from './boot-image.js';
export type {
  BootImageRequest,
  BootImageSource,
  LibvirtClusterInfo,
  LibvirtContext,
  LibvirtJoinRequest,
  LibvirtJoinResult,
  LibvirtNodeInfo,
  LibvirtNodeName,
  LibvirtOptions,
  LibvirtStartResult,
} from './cluster.js';
export {
  baseVolumeName,
  deleteLibvirtCluster,
  domainName,
  isClusterDomain,
  joinLibvirtNodes,
  kubeconfigPaths,
  nodesToJoin,
  nodeVolumes,
  showLibvirtCluster,
  startLibvirtCluster,
} from './cluster.js';
export type { LibvirtConnection, ResolveConnectionOptions } from './connection.js';
export { resolveConnection } from './connection.js';
export type { EphemeralCluster, EphemeralClusterOptions } from './ephemeral.js';
export {
  deleteEphemeralCluster,
  EPHEMERAL_KUBERNETES_VERSION,
  ensureEphemeralCluster,
  ephemeralConfig,
} from './ephemeral.js';
export type { NetworkAddress, SegmentChannel } from './ips.js';
export { allocateVirtualIp, networkAddress } from './ips.js';
export type { LibvirtProviderOptions } from './provider.js';
export { createLibvirtProvider, provider } from './provider.js';
