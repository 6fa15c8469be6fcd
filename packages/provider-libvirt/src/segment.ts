/**
 * The node segment (an SDK extension, not upstream's): a virtual layer-2 network made only of one
 * cluster's QEMU processes, which meet on a UDP multicast group of the libvirt host's loopback
 * (`-netdev socket,mcast=<group>:<port>,localaddr=127.0.0.1`). No host interface, no bridge, no
 * privileges, and nothing leaves the loopback. Every node keeps upstream's user-network NIC
 * (`enp0s2`, the default route; the API tunnel on the first control-plane node) and gets its
 * segment NIC where a libvirt network's NIC would be (PCI bus 1 slot 0, `enp1s0`), so the nodes'
 * Ignition is composed as on a libvirt network: `enp1s0` carries the cluster, keepalived holds the
 * virtual IP there. The segment has no DHCP: addresses are static and fixed by the node's name.
 * Pure: no I/O.
 */
import { OcneError } from '@ocne/core';
import { allocateVirtualIp, intToIpv4, ipv4ToInt, type SegmentChannel } from './ips.js';

/** A segment subnet as numbers. */
export interface SegmentSubnet {
  /** The subnet's first address (its network address). */
  base: number;
  prefix: number;
}

/** Parses `198.18.0.0/24`; throws a typed error for anything else (the config checks it first). */
export function segmentSubnet(cidr: string): SegmentSubnet {
  const [address = '', prefixText = ''] = cidr.split('/');
  const ip = ipv4ToInt(address);
  const prefix = Number(prefixText);
  if (ip === undefined || !/^\d+$/.test(prefixText) || prefix < 8 || prefix > 24) {
    throw new OcneError(
      'OCNE_CONFIG_INVALID_VALUE',
      `providers.libvirt.segment.subnet: expected an IPv4 CIDR from /8 to /24, found "${cidr}"`,
    );
  }
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

/** Where the node addresses of each role start: control-plane N is base + 10 + N, worker N base + 100 + N. */
const ROLE_OFFSET = { 'control-plane': 10, worker: 100 } as const;
/** How many nodes of a role the layout has room for below the next role (and the virtual IPs at + 201). */
const ROLE_ROOM = { 'control-plane': 89, worker: 99 } as const;

/**
 * The segment address of a node, fixed by its role and number so that a later join knows every
 * node's address without asking the guests.
 *
 * @throws `OcneError` `OCNE_LIBVIRT_SEGMENT_FULL` past 89 control-plane nodes or 99 workers
 */
export function segmentNodeAddress(
  subnet: SegmentSubnet,
  role: 'control-plane' | 'worker',
  index: number,
): string {
  if (!Number.isInteger(index) || index < 1 || index > ROLE_ROOM[role]) {
    throw new OcneError(
      'OCNE_LIBVIRT_SEGMENT_FULL',
      `a node segment has room for ${ROLE_ROOM[role]} ${role} nodes; ${role} ${index} has no address`,
    );
  }
  return intToIpv4(subnet.base + ROLE_OFFSET[role] + index);
}

/** The role and number of a domain named `<cluster>-<role>-<n>`. */
export function nodeIndex(domain: string): { role: 'control-plane' | 'worker'; index: number } {
  const m = /-(control-plane|worker)-(\d+)$/.exec(domain);
  if (m === null) throw new OcneError('OCNE_INTERNAL', `${domain} is not a node's domain name`);
  return { role: m[1] as 'control-plane' | 'worker', index: Number(m[2]) };
}

/**
 * The virtual IP of a segment cluster, chosen as upstream chooses one on a libvirt network: the
 * subnet's first host address stands for the gateway, + 200 and upward, past the addresses
 * `~/.ocne/ips.yaml` holds for the host.
 */
export function segmentVirtualIp(subnet: SegmentSubnet, used: readonly string[]): string {
  return allocateVirtualIp({ address: intToIpv4(subnet.base + 1), prefix: subnet.prefix }, used);
}

/** True when `ip` lies in the subnet. */
export function inSegment(subnet: SegmentSubnet, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >= subnet.base && n < subnet.base + 2 ** (32 - subnet.prefix);
}

/**
 * The MAC of a node's segment NIC: locally administered (`02:`), then `4f:43` ("OC"), then the
 * low three bytes of its segment address, so each node of a segment has its own (QEMU would give
 * every NIC the same default MAC).
 */
export function segmentMac(address: string): string {
  const n = ipv4ToInt(address) ?? 0;
  const byte = (v: number) => v.toString(16).padStart(2, '0');
  return `02:4f:43:${byte((n >>> 16) & 255)}:${byte((n >>> 8) & 255)}:${byte(n & 255)}`;
}

/** The QEMU arguments of a node's segment NIC. */
export interface SegmentNic {
  type: 'segment';
  channel: SegmentChannel;
  mac: string;
  /** PCI bus and slot (a libvirt network's NIC: bus 1 slot 0, `enp1s0`). */
  bus: number;
  slot: number;
}
