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
  return [
    'TYPE=Ethernet',
    'PROXY_METHOD=none',
    'BROWSER_ONLY=no',
    'BOOTPROTO=dhcp',
    `DEFROUTE=${yes}`,
    'IPV4_FAILURE_FATAL=no',
    'IPV6INIT=yes',
    'IPV6_AUTOCONF=yes',
    `IPV6_DEFROUTE=${yes}`,
    'IPV6_FAILURE_FATAL=no',
    'IPV6_ADDR_GEN_MODE=eui64',
    `NAME=${nic}`,
    `DEVICE=${nic}`,
    'ONBOOT=yes',
    '',
  ].join('\n');
}

/** What differs between the nodes of one libvirt cluster. */
export interface LibvirtNodeSpec {
  /** The domain name, also the node's host name. */
  domain: string;
  /** True for the first control-plane node (the user NIC, `kubeadm init`). */
  first: boolean;
  role: NodeRole;
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
    netInterface: input.bridge ? BRIDGE_NIC : USER_NIC,
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
  if (input.bridge) {
    // The first node's default route is its user NIC; the bridge carries only the cluster.
    b.file(`/etc/sysconfig/network-scripts/ifcfg-${BRIDGE_NIC}`, networkScript(BRIDGE_NIC, !node.first), {
      mode: 0o444,
    });
  }
  if (node.first) {
    b.file(`/etc/sysconfig/network-scripts/ifcfg-${USER_NIC}`, networkScript(USER_NIC, true), {
      mode: 0o444,
    });
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
