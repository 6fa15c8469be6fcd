/**
 * The Kubernetes side of a libvirt start, through `@ocne/kubernetes`: wait until the API server
 * lists at least one node (upstream's `WaitUntilGetNodesSucceeds`, every 5 s for up to 15 minutes;
 * here every 2 s), then install the core applications as the other providers do.
 */
import type { ResolvedClusterConfig } from '@ocne/config';
import { type EventSink, OcneError, runStep } from '@ocne/core';
import { connect, createBootstrapToken } from '@ocne/kubernetes';
import { installCoreApplications } from '@ocne/provider-byo';
import { BRIDGE_NIC } from './ignition.js';

/** Options of {@link waitForNodes}. */
export interface WaitForNodesOptions {
  kubeconfigPath: string;
  emit: EventSink;
  signal: AbortSignal;
  /** @defaultValue 900000 (15 minutes, upstream's) */
  timeoutMs?: number;
  /** @defaultValue 2000 */
  intervalMs?: number;
}

/**
 * Waits until GET nodes answers with at least one node. A refused or dropped connection is what a
 * booting node looks like, so every failure is retried until the timeout.
 *
 * @throws `OcneError` `OCNE_KUBE_TIMEOUT` naming the last failure.
 */
export async function waitForNodes(options: WaitForNodesOptions): Promise<number> {
  const { emit, signal } = options;
  const timeoutMs = options.timeoutMs ?? 900_000;
  const intervalMs = options.intervalMs ?? 2000;
  return runStep(emit, 'Waiting for the Kubernetes cluster to be ready', async () => {
    const kube = await connect({ kubeconfigPath: options.kubeconfigPath, signal });
    const deadline = Date.now() + timeoutMs;
    let last = 'no nodes yet';
    for (;;) {
      signal.throwIfAborted();
      try {
        const { items } = await kube.list('v1', 'Node');
        if (items.length > 0) return items.length;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() + intervalMs > deadline) {
        throw new OcneError(
          'OCNE_KUBE_TIMEOUT',
          `Timeout waiting for get nodes to succeed (${Math.round(timeoutMs / 1000)} s): ${last}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  });
}

/** Options of {@link installLibvirtApplications}. */
export interface InstallLibvirtApplicationsOptions {
  config: ResolvedClusterConfig;
  kubeconfigPath: string;
  /** The API server address the nodes use (127.0.0.1 on user networking). */
  apiAddress: string;
  bridge: boolean;
  catalog: { repoUrl: string };
  helmPath?: string;
  emit: EventSink;
  signal: AbortSignal;
  waitTimeoutMs?: number;
}

/**
 * Installs the core applications with the settings of a libvirt cluster: flannel on the cluster
 * NIC (`enp1s0` on a libvirt network, the default route's otherwise), kube-proxy to the API
 * address the nodes use, and upstream's `ha-config` unless a load balancer is set (upstream
 * installs it on user networking too, with 127.0.0.1).
 */
export async function installLibvirtApplications(options: InstallLibvirtApplicationsOptions): Promise<void> {
  const { config } = options;
  // The shared installer reads the interface and API endpoint from the byo fields it was written for.
  const libvirtView: ResolvedClusterConfig = {
    ...config,
    providers: {
      ...config.providers,
      byo: { ...config.providers.byo, networkInterface: options.bridge ? BRIDGE_NIC : '' },
    },
    apiEndpoint: {
      ...config.apiEndpoint,
      address: options.apiAddress,
      internalLB: config.loadBalancer === '',
    },
  };
  await installCoreApplications({
    config: libvirtView,
    kubeconfigPath: options.kubeconfigPath,
    catalog: options.catalog,
    emit: options.emit,
    signal: options.signal,
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
    ...(options.waitTimeoutMs !== undefined ? { waitTimeoutMs: options.waitTimeoutMs } : {}),
  });
}

/**
 * Creates the bootstrap token the joining nodes present (upstream's `CreateJoinToken` through the
 * `.local` kubeconfig). Upstream returns without joining when this fails; here it is an error.
 */
export async function createJoinToken(options: {
  kubeconfig: string;
  token: string;
  cluster: string;
  emit: EventSink;
  signal: AbortSignal;
}): Promise<void> {
  const { emit, signal } = options;
  await runStep(emit, 'Creating join token', async () => {
    const kube = await connect({ kubeconfig: options.kubeconfig, signal });
    await createBootstrapToken(kube, options.token, {
      description: `ocne join of ${options.cluster}`,
      signal,
    });
  });
}
