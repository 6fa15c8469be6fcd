import { parseCidr, type ResolvedClusterConfig } from '@ocne/config';
import { type EventSink, OcneError } from '@ocne/core';
import { parse } from 'yaml';
import { loadKubernetes } from './kube.js';

/** One core application: which chart, as which release, where, with which values. */
export interface CoreAppPlan {
  release: string;
  /** The chart's name in the application catalog. */
  chart: string;
  namespace: string;
  values: Record<string, unknown>;
}

/**
 * Where the charts come from: a Helm repository URL (`http(s)://…`), `file://` of a folder holding
 * `index.yaml`, or a local folder (with an `index.yaml`, or holding one chart folder per chart name).
 * The newest version of each chart in it is installed.
 */
export interface CoreAppCatalog {
  /** The Helm repository URL, `file://` URL or folder. */
  repoUrl: string;
}

/**
 * What installing one core application did (`InstallResult` of `@ocne/kubernetes`, repeated here so
 * that these types do not need that optional package).
 */
export interface CoreAppInstallResult {
  release: string;
  namespace: string;
  /** `skipped`: a release of that name already existed in the namespace and was left as it was. */
  action: 'installed' | 'skipped' | 'upgraded';
  /** The release's revision now (for `skipped`, the existing one). */
  revision?: number;
  chartVersion?: string;
}

/** What the cluster says that the plan needs. */
export interface CoreAppFacts {
  /** The address kube-proxy reaches the API server at: the virtual IP or the load balancer. */
  apiAddress: string;
  /** The cluster DNS service address (the kubelet configuration's first `clusterDNS`). */
  clusterDns: string;
}

/** Options of {@link installCoreApplications}. */
export interface InstallCoreApplicationsOptions {
  config: ResolvedClusterConfig;
  /** Path of the cluster's admin kubeconfig (given to helm as it is). */
  kubeconfigPath: string;
  catalog: CoreAppCatalog;
  /** The helm binary. @defaultValue `'helm'` on `PATH` */
  helmPath?: string;
  emit?: EventSink;
  signal?: AbortSignal;
  /** How long each wait for the control plane may take. @defaultValue 600000 (10 minutes) */
  waitTimeoutMs?: number;
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
 * flannel (cni `""` or `flannel`), the UI (unless headless), the catalog (if `catalog`), and for a
 * cluster with a virtual IP the `ha-config` release of `ocne-ha-monitor` (the BYO `PostStart`).
 */
export function coreApplications(config: ResolvedClusterConfig, facts: CoreAppFacts): CoreAppPlan[] {
  const plans: CoreAppPlan[] = [
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
          args: ['--ip-masq', '--kube-subnet-mgr', `--iface=${config.providers.byo.networkInterface}`],
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
  if (config.apiEndpoint.internalLB) {
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

/**
 * Installs the core applications into a started BYO cluster, as upstream's second `cluster start`
 * does: waits for a control-plane node and the `kube-system/kubelet-config` ConfigMap (watch-based),
 * reads the cluster DNS address, then installs {@link coreApplications} one after the other
 * (`Installing <release> into <namespace>`); releases that exist are skipped.
 */
export async function installCoreApplications(
  options: InstallCoreApplicationsOptions,
): Promise<CoreAppInstallResult[]> {
  const { config, emit, signal } = options;
  const timeoutMs = options.waitTimeoutMs ?? 600_000;
  const { connect, installFromCatalog } = (
    await loadKubernetes('Installing the core applications (the second start)')
  ).kubernetes;
  const waitOptions = { timeoutMs, ...(emit ? { emit } : {}), ...(signal ? { signal } : {}) };
  const kube = await connect({ kubeconfigPath: options.kubeconfigPath, ...(signal ? { signal } : {}) });
  await kube.waitFor(
    { apiVersion: 'v1', kind: 'Node', labelSelector: 'node-role.kubernetes.io/control-plane' },
    (nodes) => nodes.length > 0,
    { ...waitOptions, description: 'Waiting for the control plane nodes' },
  );
  const [kubeletConfig] = await kube.waitFor<{
    apiVersion: string;
    kind: string;
    data?: Record<string, string>;
  }>(
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: KUBE_SYSTEM, name: 'kubelet-config' },
    (maps) => maps.length > 0,
    { ...waitOptions, description: 'Waiting for the kubelet configuration' },
  );
  const clusterDns = kubeletClusterDns(kubeletConfig?.data?.kubelet ?? '');
  if (clusterDns === undefined) {
    throw new OcneError(
      'OCNE_CLUSTER_DNS_MISSING',
      'the kubelet configuration (ConfigMap kube-system/kubelet-config, key kubelet) has no clusterDNS',
    );
  }
  const plans = coreApplications(config, { apiAddress: config.apiEndpoint.address, clusterDns });
  const results = await installFromCatalog(plans, {
    catalog: options.catalog,
    kubeconfig: options.kubeconfigPath,
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
    ...(emit ? { emit } : {}),
    ...(signal ? { signal } : {}),
  });
  return results;
}
