/**
 * Each libvirt node's Ignition, composed as upstream's `generateIgnition` composes it: the init
 * (first control-plane node) or join Ignition of `@ocne/ignition`, then the network-scripts file of
 * each NIC the node has, `/etc/hostname` (the domain name, so the Kubernetes node is named after
 * the domain), and the user's extra Ignition last, so it wins. Pure: no I/O.
 */
import type { ResolvedClusterConfig } from '@ocne/config';
import {
  type ClusterNodeInput,
  type ConfigFileInputs,
  clusterNodeInput,
  IgnitionBuilder,
  type IgnitionConfig,
  initNodeIgnition,
  joinNodeIgnition,
  type NodeRole,
} from '@ocne/ignition';

/** The guest names of upstream's two NICs: the user network at PCI 00:02.0, a libvirt network at 01:00.0. */
export const USER_NIC = 'enp0s2';
export const BRIDGE_NIC = 'enp1s0';

/** A NIC's network-scripts file (`NetworkScriptPattern` upstream). */
export function networkScript(nic: string, defaultRoute: boolean): string {
  const yes = defaultRoute ? 'yes' : 'no';
  return ifcfg(nic, [
    'BOOTPROTO=dhcp',
    `DEFROUTE=${yes}`,
    'IPV4_FAILURE_FATAL=no',
    'IPV6INIT=yes',
    'IPV6_AUTOCONF=yes',
    `IPV6_DEFROUTE=${yes}`,
    'IPV6_FAILURE_FATAL=no',
    'IPV6_ADDR_GEN_MODE=eui64',
  ]);
}

/** A network-scripts file: upstream's first and last lines around the addressing ones. */
function ifcfg(nic: string, addressing: readonly string[]): string {
  return [
    'TYPE=Ethernet',
    'PROXY_METHOD=none',
    'BROWSER_ONLY=no',
    ...addressing,
    `NAME=${nic}`,
    `DEVICE=${nic}`,
    'ONBOOT=yes',
    '',
  ].join('\n');
}

/**
 * The network-scripts file of a node's segment NIC (not upstream's): a static address, since the
 * segment has no DHCP, and never the default route (the user NIC keeps it).
 */
export function segmentNetworkScript(nic: string, address: string, prefix: number): string {
  return ifcfg(nic, [
    'BOOTPROTO=none',
    `IPADDR=${address}`,
    `PREFIX=${prefix}`,
    'DEFROUTE=no',
    'IPV4_FAILURE_FATAL=no',
    'IPV6INIT=no',
  ]);
}

/** What differs between the nodes of one libvirt cluster. */
export interface LibvirtNodeSpec {
  /** The domain name, also the node's host name. */
  domain: string;
  /** True for the first control-plane node (the user NIC, `kubeadm init`). */
  first: boolean;
  role: NodeRole;
  /** The node's static address on the cluster's node segment, when it has one. */
  segmentAddress?: string;
}

/** What the nodes of one libvirt cluster share. */
export interface LibvirtIgnitionInput {
  cluster: ResolvedClusterConfig;
  files: ConfigFileInputs;
  /** The address the cluster's API server is reached at from the nodes (127.0.0.1 on user networking). */
  apiAddress: string;
  /** The keepalived + nginx stack: on unless the API address is 127.0.0.1 or a load balancer. */
  internalLB: boolean;
  /** True when the nodes are on a libvirt network (bridge mode); false for user networking only. */
  bridge: boolean;
  /** Where the API server is reached from the host (an extra certificate name). */
  targetIp: string;
  /**
   * The node segment's prefix length, when the nodes are on one (not upstream's): every node has
   * its user NIC and a segment NIC `enp1s0` with a static address, composed as on a libvirt network.
   */
  segmentPrefix?: number;
}

/** The shared node input, with the libvirt interface and API address. */
export function libvirtNodeInput(input: LibvirtIgnitionInput): ClusterNodeInput {
  const { cluster, files } = input;
  const base = clusterNodeInput(cluster, {
    ...(files.sshPublicKey ? { sshPublicKey: files.sshPublicKey } : {}),
    certSans: [input.targetIp],
  });
  return {
    ...base,
    netInterface: input.bridge || input.segmentPrefix !== undefined ? BRIDGE_NIC : USER_NIC,
    apiAddress: input.apiAddress,
    internalLB: input.internalLB,
    noProxyExtras: [input.apiAddress, cluster.serviceSubnet, cluster.podSubnet],
  };
}

/** The libvirt additions of one node, then the extra Ignition. */
export function withLibvirtFiles(
  base: IgnitionConfig,
  node: LibvirtNodeSpec,
  input: LibvirtIgnitionInput,
): IgnitionConfig {
  const b = new IgnitionBuilder().merge(base);
  const script = (nic: string, contents: string) =>
    b.file(`/etc/sysconfig/network-scripts/ifcfg-${nic}`, contents, { mode: 0o444 });
  if (input.segmentPrefix !== undefined && node.segmentAddress !== undefined) {
    // Every node of a segment keeps its own user NIC, and the default route on it.
    script(BRIDGE_NIC, segmentNetworkScript(BRIDGE_NIC, node.segmentAddress, input.segmentPrefix));
    script(USER_NIC, networkScript(USER_NIC, true));
  } else {
    // The first node's default route is its user NIC; the bridge carries only the cluster.
    if (input.bridge) script(BRIDGE_NIC, networkScript(BRIDGE_NIC, !node.first));
    if (node.first) script(USER_NIC, networkScript(USER_NIC, true));
  }
  b.file('/etc/hostname', node.domain, { mode: 0o644 });
  for (const extra of input.files.extra ?? []) b.merge(extra);
  return b.build();
}

/** The Ignition of the first control-plane node. */
export function firstNodeIgnition(
  input: LibvirtIgnitionInput,
  node: LibvirtNodeSpec,
  secrets: { caCertPem: string; caKeyPem: string; certificateKey: string },
): IgnitionConfig {
  const base = initNodeIgnition({
    ...libvirtNodeInput(input),
    ...secrets,
    expectWorkers: input.cluster.workerNodes > 0,
  });
  return withLibvirtFiles(base, node, input);
}

/** The Ignition of a node that joins. */
export function joiningNodeIgnition(
  input: LibvirtIgnitionInput,
  node: LibvirtNodeSpec,
  join: { token: string; caCertHashes: readonly string[]; certificateKey?: string },
): IgnitionConfig {
  const base = joinNodeIgnition({
    ...libvirtNodeInput(input),
    role: node.role,
    token: join.token,
    caCertHashes: join.caCertHashes,
    ...(join.certificateKey !== undefined ? { certificateKey: join.certificateKey } : {}),
  });
  return withLibvirtFiles(base, node, input);
}
