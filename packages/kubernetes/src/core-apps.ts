/**
 * Installing the core applications (`coreApplications` of `@ocne/config`) into a started cluster,
 * whatever the provider: `@ocne/provider-byo` (the second start) and `@ocne/provider-oci` (the
 * workload cluster) both install through here, each with its own facts.
 */
import { coreApplications, kubeletClusterDns, type ResolvedClusterConfig } from '@ocne/config';
import { type EventSink, OcneError } from '@ocne/core';
import { connect } from './client.js';
import { type ChartCatalog, type InstallResult, installFromCatalog } from './helm.js';

/** Options of {@link installCoreApplications}. */
export interface InstallCoreApplicationsOptions {
  config: ResolvedClusterConfig;
  /** Path of the cluster's admin kubeconfig (given to helm as it is). */
  kubeconfigPath: string;
  catalog: ChartCatalog;
  /** The address kube-proxy uses (`CoreApplicationFacts.apiAddress` of `@ocne/config`). */
  apiAddress: string;
  /** `CoreApplicationFacts.cniInterfaces` of `@ocne/config`. */
  cniInterfaces: readonly string[];
  /** `CoreApplicationFacts.haMonitor` of `@ocne/config`. */
  haMonitor: boolean;
  /** The helm binary. @defaultValue `'helm'` on `PATH` */
  helmPath?: string;
  emit?: EventSink;
  signal?: AbortSignal;
  /** How long each wait for the control plane may take. @defaultValue 600000 (10 minutes) */
  waitTimeoutMs?: number;
}

/**
 * Installs the core applications into a started cluster, as upstream's `cluster start` does:
 * waits for a control-plane node and the `kube-system/kubelet-config` ConfigMap (watch-based), reads the cluster DNS address, then installs `coreApplications` one after the other
 * (`Installing <release> into <namespace>`); releases that exist are skipped.
 */
export async function installCoreApplications(
  options: InstallCoreApplicationsOptions,
): Promise<InstallResult[]> {
  const { config, emit, signal } = options;
  const timeoutMs = options.waitTimeoutMs ?? 600_000;
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
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubelet-config' },
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
  const plans = coreApplications(config, {
    apiAddress: options.apiAddress,
    clusterDns,
    cniInterfaces: options.cniInterfaces,
    haMonitor: options.haMonitor,
  });
  return installFromCatalog(plans, {
    catalog: options.catalog,
    kubeconfig: options.kubeconfigPath,
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
    ...(emit ? { emit } : {}),
    ...(signal ? { signal } : {}),
  });
}
