/**
 * The core applications of a BYO cluster's second start. The plan (`@ocne/config`) and the install
 * (`@ocne/kubernetes`) are shared with the other providers; what is BYO's own is decided here:
 * kube-proxy reaches the API server at the virtual IP or load balancer, flannel uses the configured
 * network interface, and a virtual IP gets the `ha-config` monitor (upstream's BYO `PostStart`).
 * The types stay here so that they do not need the optional `@ocne/kubernetes`.
 */
import { coreApplications as plan, type ResolvedClusterConfig } from '@ocne/config';
import type { EventSink } from '@ocne/core';
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

/** What BYO adds to the facts: its interface for flannel, and the HA monitor of a virtual IP. */
const byoFacts = (config: ResolvedClusterConfig) => ({
  cniInterfaces: [config.providers.byo.networkInterface],
  haMonitor: config.apiEndpoint.internalLB,
});

/**
 * The core applications upstream installs, in order, with their values (pure): CoreDNS, kube-proxy,
 * flannel (cni `""` or `flannel`), the UI (unless headless), the catalog (if `catalog`), and for a
 * cluster with a virtual IP the `ha-config` release of `ocne-ha-monitor` (the BYO `PostStart`).
 */
export function coreApplications(config: ResolvedClusterConfig, facts: CoreAppFacts): CoreAppPlan[] {
  return plan(config, { ...facts, ...byoFacts(config) });
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
  const { kubernetes } = await loadKubernetes('Installing the core applications (the second start)');
  return kubernetes.installCoreApplications({
    ...options,
    apiAddress: options.config.apiEndpoint.address,
    ...byoFacts(options.config),
  });
}

export { kubeletClusterDns } from '@ocne/config';
