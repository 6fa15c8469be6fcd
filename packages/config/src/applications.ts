/**
 * The core applications a cluster configuration asks for, as upstream's generic `cluster start`
 * installs them into every new cluster (`pkg/commands/cluster/start/start.go`): CoreDNS,
 * kube-proxy, flannel, the UI, the catalog, and the HA monitor of a virtual IP. Pure: what differs
 * between providers (the API server address kube-proxy uses, the CNI interfaces, whether the nodes
 * hold a virtual IP) and what the cluster says (its DNS address) come in as facts. Installing them
 * is `installCoreApplications` of `@ocne/kubernetes`.
 */
import { OcneError } from '@ocne/core';
import { parse } from 'yaml';
import type { ResolvedClusterConfig } from './resolved.js';
import { parseCidr } from './values.js';

/** One core application: which chart, as which release, where, with which values. */
export interface CoreApplication {
  release: string;
  /** The chart's name in the application catalog. */
  chart: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** What the cluster and the provider say that the plan needs. */
export interface CoreApplicationFacts {
  /** The address kube-proxy reaches the API server at (byo: the virtual IP or load balancer; oci: the control-plane endpoint). */
  apiAddress: string;
  /** The cluster DNS service address (the kubelet configuration's first `clusterDNS`). */
  clusterDns: string;
  /** Upstream's `DefaultCNIInterfaces()`: one `--iface` flannel argument each (byo: its interface; oci: none). */
  cniInterfaces: readonly string[];
  /** True when the control-plane nodes hold a virtual IP: the `ha-config` release watches it (byo's `PostStart`). */
  haMonitor: boolean;
}

const OCNE_SYSTEM = 'ocne-system';
const KUBE_SYSTEM = 'kube-system';

/** The first IPv4 and the first IPv6 CIDR of a pod subnet list, as upstream picks them for flannel. */
function podCidrs(podSubnet: string): { podCidr?: string; podCidrv6?: string } {
  const out: { podCidr?: string; podCidrv6?: string } = {};
  for (const raw of podSubnet.split(',')) {
    const entry = raw.trim();
    const cidr = parseCidr(entry);
    if (cidr?.family === 'ipv4' && out.podCidr === undefined) out.podCidr = entry;
    else if (cidr?.family === 'ipv6' && out.podCidrv6 === undefined) out.podCidrv6 = entry;
    else {
      throw new OcneError('OCNE_CONFIG_INVALID_CIDR', `${entry} is an invalid CIDR (podSubnet)`);
    }
  }
  return out;
}

/**
 * The core applications upstream installs, in order, with their values (pure): CoreDNS, kube-proxy,
 * flannel (cni `""` or `flannel`), the UI (unless headless), the catalog (if `catalog`), and with
 * `haMonitor` the `ha-config` release of `ocne-ha-monitor` (the BYO `PostStart`).
 */
export function coreApplications(
  config: ResolvedClusterConfig,
  facts: CoreApplicationFacts,
): CoreApplication[] {
  const plans: CoreApplication[] = [
    {
      release: 'core-dns',
      chart: 'coredns',
      namespace: KUBE_SYSTEM,
      values: { service: { clusterIP: facts.clusterDns }, image: { tag: 'current' } },
    },
    {
      release: 'kube-proxy',
      chart: 'kube-proxy',
      namespace: KUBE_SYSTEM,
      values: {
        apiServer: { host: facts.apiAddress, port: config.kubeApiServerBindPort },
        // Upstream's quirk: clusterCIDR is the service subnet (start.go).
        config: { mode: config.kubeProxyMode, clusterCIDR: config.serviceSubnet },
      },
    },
  ];
  if (config.cni === '' || config.cni === 'flannel') {
    plans.push({
      release: 'flannel',
      chart: 'flannel',
      namespace: 'kube-flannel',
      values: {
        flannel: {
          args: ['--ip-masq', '--kube-subnet-mgr', ...facts.cniInterfaces.map((i) => `--iface=${i}`)],
        },
        ...podCidrs(config.podSubnet),
      },
    });
  }
  if (!config.headless) plans.push({ release: 'ui', chart: 'ui', namespace: OCNE_SYSTEM, values: {} });
  if (config.catalog) {
    plans.push({ release: 'ocne-catalog', chart: 'ocne-catalog', namespace: OCNE_SYSTEM, values: {} });
  }
  // The HA monitor watches the virtual IP that the control-plane nodes hold themselves.
  if (facts.haMonitor) {
    plans.push({
      release: 'ha-config',
      chart: 'ocne-ha-monitor',
      namespace: OCNE_SYSTEM,
      values: { apiAddress: config.apiEndpoint.address, apiPort: config.kubeApiServerBindPort },
    });
  }
  return plans;
}

/**
 * The first `clusterDNS` address of a kubelet configuration (the `kubelet` key of the
 * `kube-system/kubelet-config` ConfigMap, as kubeadm writes it: a block list `clusterDNS:\n- ip`,
 * or a flow list `clusterDNS: [ip]`).
 */
export function kubeletClusterDns(kubeletYaml: string): string | undefined {
  let config: unknown;
  try {
    config = parse(kubeletYaml);
  } catch {
    return undefined;
  }
  const dns = (config as { clusterDNS?: unknown } | null)?.clusterDNS;
  const first = Array.isArray(dns) ? dns[0] : undefined;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
