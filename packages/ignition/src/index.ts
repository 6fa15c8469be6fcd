/**
 * @ocne/ignition: Ignition 3.4 configs, Butane translation, kubeadm configuration and PKI.
 *
 * @packageDocumentation
 */

export type { FileOptions, Owner, UnitOptions } from './builder.js';
export { emptyIgnition, IgnitionBuilder, serializeIgnition } from './builder.js';
// Butane (fcos 1.0.0 to 1.5.0, flatcar, r4e, fiot; the subset users put in extra Ignition) to Ignition 3.4.0.
export type { ButaneOptions } from './butane.js';
export { BUTANE_SPECS, BUTANE_VARIANT, BUTANE_VERSION, isButane, translateButane } from './butane.js';
export type { CapiNodeInput, CapiNodeInputOptions } from './capi.js';
export { capiNodeIgnition, capiNodeInput } from './capi.js';
export type { DataUrl, DataUrlOptions } from './data-url.js';
export { decodeDataUrl, decodeDataUrlText, makeDataUrl } from './data-url.js';
export type { IgnitionErrorLocation } from './errors.js';
export { IgnitionError } from './errors.js';
// Extra Ignition from the cluster configuration (Ignition or Butane; file, folder or inline).
export type { ConfigFileInputs, ExtraIgnitionInput, ExtraSource, ParseExtraOptions } from './extra.js';
export {
  configFileInputs,
  mergeExtraIgnition,
  NODE_FILE_KEYS,
  parseExtraIgnition,
} from './extra.js';
// kubeadm configuration and the Ignition of OCK nodes (init, join, virtual-IP stack, proxy).
export type { KubeadmClusterInput, KubeadmInitInput, KubeadmJoinInput, NodeRole } from './kubeadm.js';
export {
  hostPort,
  kubeadmInitConfig,
  kubeadmJoinConfig,
} from './kubeadm.js';
export { mergeIgnition } from './merge.js';
export type {
  ClusterNodeInput,
  ClusterNodeInputOptions,
  InitNodeInput,
  JoinNodeInput,
  NodeCommonInput,
  NodeProxy,
  VirtualIpInput,
} from './node.js';
export {
  apiServerUrl,
  clusterNodeInput,
  initNodeIgnition,
  joinNodeIgnition,
  virtualIpIgnition,
} from './node.js';
export { parseIgnition, READABLE_IGNITION_VERSIONS } from './parse.js';
// PKI: bootstrap tokens, certificate keys, the cluster CA and admin kubeconfig, CA pins.
export type {
  CertificateSubjectInfo,
  ClusterPki,
  GenerateRsaKeyPairOptions,
  PkiInput,
  RandomSource,
} from './pki.js';
export {
  caCertHash,
  caCertHashesFromKubeconfig,
  cryptoRandom,
  generateBootstrapToken,
  generateCertificateKey,
  generateClusterPki,
  generateRsaKeyPair,
} from './pki.js';
// The Ignition 3.4.0 model: types, building, Ignition's merge, data URLs, reading 3.0-3.4.
export type {
  IgnitionConfig,
  IgnitionDirectory,
  IgnitionDisk,
  IgnitionDropin,
  IgnitionFile,
  IgnitionFilesystem,
  IgnitionGroup,
  IgnitionLink,
  IgnitionLuks,
  IgnitionMeta,
  IgnitionNode,
  IgnitionRaid,
  IgnitionResource,
  IgnitionStorage,
  IgnitionUnit,
  IgnitionUser,
} from './spec.js';
export { IGNITION_VERSION } from './spec.js';
