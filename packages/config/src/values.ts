/**
 * Checks for the value formats configuration uses: IP addresses and CIDRs, OCIDs, OCI shapes,
 * sizes. Each returns an error message (what was expected) or `undefined` when the value is good.
 */
import { isIP } from './ip.js';
import { clip } from './limits.js';

/** An IP family. */
export type IpFamily = 'ipv4' | 'ipv6';

/** A parsed CIDR. */
export interface Cidr {
  family: IpFamily;
  address: string;
  prefix: number;
}

/** Parses `10.244.0.0/16` or `fd00::/56`; `undefined` when it is not a CIDR. */
export function parseCidr(value: string): Cidr | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return undefined;
  const address = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const version = isIP(address);
  if (version === 4 && prefix <= 32) return { family: 'ipv4', address, prefix };
  if (version === 6 && prefix <= 128 && !address.includes('%')) return { family: 'ipv6', address, prefix };
  return undefined;
}

/**
 * Checks a subnet setting: one CIDR, or a comma list for dual stack with at most one CIDR per
 * family (upstream takes the first IPv4 and the first IPv6 and fails on any other entry).
 */
export function checkSubnetList(value: string): string | undefined {
  const seen = new Set<IpFamily>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '')
      return `expected a CIDR or a comma-separated IPv4,IPv6 pair, found an empty entry in "${clip(value)}"`;
    const cidr = parseCidr(entry);
    if (cidr === undefined)
      return `expected a CIDR such as 10.244.0.0/16 or fd00:10:244::/56, found "${clip(entry)}"`;
    if (seen.has(cidr.family)) {
      return `expected at most one ${cidr.family === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR (dual stack is one of each), found a second one: "${clip(entry)}"`;
    }
    seen.add(cidr.family);
  }
  return undefined;
}

/** The first and last address of an IPv4 CIDR as numbers; `undefined` for anything else. */
export function ipv4Range(cidr: string): { first: number; last: number } | undefined {
  const parsed = parseCidr(cidr.trim());
  if (parsed === undefined || parsed.family !== 'ipv4') return undefined;
  const n = parsed.address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const size = 2 ** (32 - parsed.prefix);
  const first = n - (n % size);
  return { first, last: first + size - 1 };
}

/**
 * Checks the subnet of a libvirt node segment: one IPv4 CIDR of prefix /8 to /24, since the
 * virtual IP is taken as upstream takes one from a network (the first address + 200 upward).
 */
export function checkSegmentSubnet(value: string): string | undefined {
  const cidr = parseCidr(value);
  if (cidr === undefined || cidr.family !== 'ipv4' || cidr.prefix < 8 || cidr.prefix > 24) {
    return `expected an IPv4 CIDR from /8 to /24 such as 198.18.0.0/24 (the virtual IP is its first address + 200), found "${clip(value)}"`;
  }
  return undefined;
}

/** Checks an IP address (v4 or v6). */
export function checkIp(value: string): string | undefined {
  return isIP(value) ? undefined : `expected an IPv4 or IPv6 address, found "${clip(value)}"`;
}

/** Checks a host name (RFC 1123) or IP address. */
export function checkHost(value: string): string | undefined {
  if (isIP(value)) return undefined;
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (value.length <= 253 && value.split('.').every((l) => label.test(l))) return undefined;
  return `expected a host name or an IP address, found "${clip(value)}"`;
}

/** A parsed OCID: `ocid1.<kind>.<realm>.[region][.future].<unique>`. */
export interface Ocid {
  kind: string;
  realm: string;
  region: string;
  unique: string;
}

/** Parses an Oracle Cloud ID; `undefined` when the value is not one. */
export function parseOcid(value: string): Ocid | undefined {
  const m = /^ocid1\.([a-z0-9]+)\.([a-z0-9]+)\.([a-z0-9-]*)(?:\.[a-z0-9-]*)?\.([a-z0-9]+)$/.exec(value);
  if (m === null) return undefined;
  return { kind: m[1]!, realm: m[2]!, region: m[3]!, unique: m[4]! };
}

/** Checks that a value is an OCID of one of the given kinds (`image`, `vcn`, `subnet`, ...). */
export function checkOcid(value: string, ...kinds: string[]): string | undefined {
  const ocid = parseOcid(value);
  const want = kinds.map((k) => `ocid1.${k}.…`).join(' or ');
  if (ocid === undefined) return `expected an OCID (${want}), found "${clip(value)}"`;
  if (!kinds.includes(ocid.kind))
    return `expected an OCID of kind ${want}, found one of kind "${clip(ocid.kind)}"`;
  return undefined;
}

/** How a compartment setting is meant: an OCID, or a path of compartment names from the tenancy. */
export type CompartmentRef = { kind: 'ocid'; ocid: string } | { kind: 'path'; names: string[] };

/**
 * Reads a compartment setting: a compartment (or tenancy) OCID, or a path such as
 * `parent/child` of compartment names. Returns a message for anything else.
 */
export function parseCompartment(value: string): CompartmentRef | string {
  if (value.startsWith('ocid1.')) {
    const problem = checkOcid(value, 'compartment', 'tenancy');
    return problem ?? { kind: 'ocid', ocid: value };
  }
  const names = value.split('/');
  for (const name of names) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      return `expected a compartment OCID or a path of compartment names such as "parent/child" (letters, digits, ".", "_", "-"), found "${clip(value)}"`;
    }
  }
  return { kind: 'path', names };
}

/** A CPU architecture of OCNE nodes. */
export type Architecture = 'amd64' | 'arm64';

/** Shapes upstream treats as arm64 (`OciArmCompatibleShapes`); every other shape is amd64. */
export const ARM_SHAPES: readonly string[] = [
  'VM.Standard.A1.Flex',
  'BM.Standard.A1.160',
  'VM.Standard.A2.Flex',
];

/** The architecture of an OCI shape, as upstream decides it (an exact match on the arm list). */
export function architectureFromShape(shape: string): Architecture {
  return ARM_SHAPES.includes(shape) ? 'arm64' : 'amd64';
}

/** Checks an OCI shape name such as `VM.Standard.E4.Flex` or `BM.Standard.A1.160`. */
export function checkShape(value: string): string | undefined {
  return /^(VM|BM)(\.[A-Za-z0-9_-]+){2,}$/.test(value)
    ? undefined
    : `expected an OCI shape name such as VM.Standard.E4.Flex, found "${clip(value)}"`;
}

/**
 * Checks a libvirt size: a whole number with an optional binary (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`,
 * `Ei`) or decimal (`K`, `M`, `G`, `T`, `P`, `E`) suffix. Upstream appends `B` and hands the unit to
 * libvirt, so `4GB` (unit `GBB`) and `4.5Gi` fail there.
 */
export function checkSize(value: string): string | undefined {
  return /^\d+(?:[KMGTPE]i?)?$/.test(value) && !/^0+(?:\D|$)/.test(value)
    ? undefined
    : `expected a size such as 4194304Ki, 20Gi or 1024 (a whole number with an optional Ki/Mi/Gi/Ti or K/M/G/T suffix), found "${clip(value)}"`;
}
