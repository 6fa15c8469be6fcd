/**
 * `~/.ocne/ips.yaml`, upstream's record of the API tunnel ports and virtual IPs handed out per
 * libvirt host, and which cluster holds which. Same file, same schema, so upstream and this SDK
 * never hand out the same port. Decisions (differences): the port and address are recorded under
 * upstream's PID lock (`~/.ocne/ocne.pid`) *before* the VM starts (upstream records after, and
 * ignores a failed record, so two clusters can get one port), and a port that is taken on this host
 * is skipped.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { acquirePidLock, OcneError, writeFileAtomic } from '@ocne/core';
import { parse, stringify } from 'yaml';

/** The file's content. */
export interface IpsFile {
  hosts: Record<string, { ips: Record<string, boolean>; ports: Record<string, boolean> }>;
  clusters: Record<string, ClusterAddress>;
}

/** The first tunnel port upstream hands out. */
export const FIRST_TUNNEL_PORT = 6443;

const ipsPath = (home: string): string => join(home, '.ocne', 'ips.yaml');

async function readIps(home: string): Promise<IpsFile> {
  let text: string;
  try {
    text = await readFile(ipsPath(home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { hosts: {}, clusters: {} };
    throw new OcneError(
      'OCNE_CONFIG_READ_FAILED',
      `cannot read ${ipsPath(home)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const data = (parse(text) ?? {}) as Partial<IpsFile>;
  const hosts: IpsFile['hosts'] = {};
  for (const [name, host] of Object.entries(data.hosts ?? {})) {
    hosts[name] = { ips: { ...(host?.ips ?? {}) }, ports: { ...(host?.ports ?? {}) } };
  }
  return { hosts, clusters: { ...(data.clusters ?? {}) } };
}

async function writeIps(home: string, ips: IpsFile, signal?: AbortSignal): Promise<void> {
  // Port keys are numbers in upstream's file (map[uint16]bool).
  const hosts = Object.fromEntries(
    Object.entries(ips.hosts).map(([name, h]) => [
      name,
      { ips: h.ips, ports: new Map(Object.keys(h.ports).map((p) => [Number(p), true])) },
    ]),
  );
  await writeFileAtomic(ipsPath(home), stringify({ hosts, clusters: ips.clusters }), { mode: 0o600, signal });
}

/** Runs `change` on the file under upstream's PID lock and writes the result. */
async function updateIps<T>(
  home: string,
  change: (ips: IpsFile) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const lock = await acquirePidLock(join(home, '.ocne', 'ocne.pid'), { signal });
  try {
    const ips = await readIps(home);
    const result = await change(ips);
    await writeIps(home, ips, signal);
    return result;
  } finally {
    await lock.release();
  }
}

/** True when nothing listens on `port` at `address` on this host. */
function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** What a cluster holds. */
export interface ClusterAddress {
  host: string;
  ip: string;
  port: number;
  /**
   * The cluster's node segment (not upstream's: its `ocne` neither reads nor keeps this field):
   * the multicast group and UDP port its QEMU processes meet on, and the segment's subnet.
   */
  segment?: SegmentChannel;
}

/** Where a node segment's QEMU processes meet: a multicast group and port on the host's loopback. */
export interface SegmentChannel {
  /** The multicast group (`239.255.77.x`, organization-local scope). */
  group: string;
  /** The UDP port (47000 upward), one per live cluster of the host. */
  port: number;
  /** The segment's subnet (`providers.libvirt.segment.subnet` when the cluster was started). */
  subnet: string;
}

/** The first UDP port (and the group 239.255.77.1, in the organization-local scope) handed to a segment. */
export const FIRST_SEGMENT_PORT = 47000;
const SEGMENT_CHANNELS = 1000;

/**
 * The first multicast channel no record of `host` holds: port 47000 + n with group
 * 239.255.77.(1 + n mod 254), so two live clusters never share one.
 *
 * @throws `OcneError` `OCNE_LIBVIRT_SEGMENT_FULL` when all 1000 are held
 */
export function allocateSegmentChannel(
  records: Iterable<ClusterAddress>,
  host: string,
  subnet: string,
): SegmentChannel {
  const used = new Set<number>();
  for (const r of records) if (r.host === host && r.segment) used.add(r.segment.port);
  for (let n = 0; n < SEGMENT_CHANNELS; n++) {
    const port = FIRST_SEGMENT_PORT + n;
    if (!used.has(port)) return { group: `239.255.77.${1 + (n % 254)}`, port, subnet };
  }
  throw new OcneError(
    'OCNE_LIBVIRT_SEGMENT_FULL',
    `every node segment channel of ${host || 'this host'} (UDP ports ${FIRST_SEGMENT_PORT} to ${FIRST_SEGMENT_PORT + SEGMENT_CHANNELS - 1}) is held by a cluster in ~/.ocne/ips.yaml: delete a cluster first`,
  );
}

/** The cluster's record, if any. */
export async function clusterAddress(home: string, name: string): Promise<ClusterAddress | undefined> {
  return (await readIps(home)).clusters[name];
}

/**
 * Hands the cluster a tunnel port (the first from 6443 that no record holds and, for a local daemon,
 * nothing listens on) and records it with `ip`. A cluster that has a record keeps it.
 */
export async function reserveClusterAddress(options: {
  home: string;
  name: string;
  host: string;
  /** The API address, or how to choose one from the addresses the host's records hold (under the lock). */
  ip: string | ((used: readonly string[]) => string);
  local: boolean;
  listenAddress: string;
  /** The node segment's subnet, when the cluster has one: a multicast channel is handed out too. */
  segmentSubnet?: string;
  signal?: AbortSignal;
}): Promise<ClusterAddress> {
  const { home, name, host, local, listenAddress, signal } = options;
  return updateIps(
    home,
    async (ips) => {
      const existing = ips.clusters[name];
      if (existing !== undefined) return existing;
      const hostEntry = ips.hosts[host] ?? { ips: {}, ports: {} };
      ips.hosts[host] = hostEntry;
      let port = FIRST_TUNNEL_PORT;
      for (; port < 65536; port++) {
        if (hostEntry.ports[String(port)]) continue;
        if (local && !(await portFree(listenAddress, port))) continue;
        break;
      }
      if (port >= 65536)
        throw new OcneError('OCNE_LIBVIRT_PORT_IN_USE', `no free tunnel port on ${host || 'this host'}`);
      const ip = typeof options.ip === 'string' ? options.ip : options.ip(Object.keys(hostEntry.ips));
      hostEntry.ports[String(port)] = true;
      // 127.0.0.1 is every user-networking cluster's address: not handed out, not recorded.
      if (ip !== '127.0.0.1') hostEntry.ips[ip] = true;
      const record: ClusterAddress = { host, ip, port };
      if (options.segmentSubnet !== undefined) {
        record.segment = allocateSegmentChannel(Object.values(ips.clusters), host, options.segmentSubnet);
      }
      ips.clusters[name] = record;
      return record;
    },
    signal,
  );
}

/** Drops the cluster's record and frees its port and address. */
export async function releaseClusterAddress(home: string, name: string, signal?: AbortSignal): Promise<void> {
  await updateIps(
    home,
    async (ips) => {
      const record = ips.clusters[name];
      if (record === undefined) return;
      const host = ips.hosts[record.host];
      if (host) {
        delete host.ports[String(record.port)];
        delete host.ips[record.ip];
      }
      delete ips.clusters[name];
    },
    signal,
  );
}

/** The first IPv4 address of a libvirt network (`net-dumpxml`): its gateway and prefix length. */
export interface NetworkAddress {
  address: string;
  prefix: number;
}

/** An IPv4 address as a number; undefined for anything else. */
export const ipv4ToInt = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
};

/** A number as an IPv4 address. */
export const intToIpv4 = (n: number): string =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The first IPv4 `<ip>` element of a network's XML (`address` plus `netmask` or `prefix`);
 * undefined when the network has none. Upstream takes the first `<ip>` whatever its family; an
 * IPv6 one first would give it an IPv6 virtual IP, which the rest of its driver does not handle.
 */
export function networkAddress(xml: string): NetworkAddress | undefined {
  for (const m of xml.matchAll(/<ip\b([^>]*)>/g)) {
    const attrs = new Map([...(m[1] ?? '').matchAll(/(\w+)=['"]([^'"]*)['"]/g)].map((a) => [a[1], a[2]]));
    const address = attrs.get('address');
    if (address === undefined || ipv4ToInt(address) === undefined) continue;
    const prefix = attrs.get('prefix');
    const netmask = attrs.get('netmask');
    if (prefix !== undefined) return { address, prefix: Number(prefix) };
    const mask = netmask === undefined ? undefined : ipv4ToInt(netmask);
    if (mask === undefined) return { address, prefix: 24 };
    return { address, prefix: mask.toString(2).replace(/0+$/, '').length };
  }
  return undefined;
}

/**
 * The virtual IP upstream's `allocateIP` hands a bridge-network cluster that configures neither a
 * virtual IP nor a load balancer: the network's gateway address plus 200, then upward, the first
 * address no ips.yaml record of the host holds, inside the network's subnet.
 *
 * @throws `OcneError` `OCNE_LIBVIRT_NO_VIRTUAL_IP` when gateway + 200 (or every address above it
 *   that is free) lies outside the subnet
 */
export function allocateVirtualIp(network: NetworkAddress, used: Iterable<string>): string {
  const gateway = ipv4ToInt(network.address);
  if (gateway === undefined || network.prefix < 0 || network.prefix > 32) {
    throw new OcneError('OCNE_LIBVIRT_NO_VIRTUAL_IP', `the network address ${network.address} is not IPv4`);
  }
  const mask = network.prefix === 0 ? 0 : (0xffffffff << (32 - network.prefix)) >>> 0;
  const base = (gateway & mask) >>> 0;
  const broadcast = (base | (~mask >>> 0)) >>> 0;
  const taken = new Set(used);
  // As upstream's: every address the subnet contains counts, the broadcast address included.
  for (let ip = gateway + 200; ip <= broadcast; ip++) {
    const text = intToIpv4(ip);
    if (!taken.has(text)) return text;
  }
  throw new OcneError(
    'OCNE_LIBVIRT_NO_VIRTUAL_IP',
    `Could not find unused IP within the subnet ${intToIpv4(base)}/${network.prefix} (from the gateway ${network.address} + 200 upward)`,
  );
}
