/**
 * What kubeadm keeps in a cluster: bootstrap tokens (Secrets `kube-system/bootstrap-token-<id>`)
 * and the `kube-system/kubeadm-config` ConfigMap.
 */
import { parse } from 'yaml';
import type { KubeClient } from './client.js';
import { KubeError } from './errors.js';

/** kubeadm's defaults for a node join token. */
export const BOOTSTRAP_TOKEN_DEFAULTS: {
  readonly ttlMs: number;
  readonly usages: readonly string[];
  readonly groups: readonly string[];
} = {
  ttlMs: 24 * 60 * 60 * 1000,
  usages: ['signing', 'authentication'],
  groups: ['system:bootstrappers:kubeadm:default-node-token'],
};

/** Options of {@link createBootstrapToken}. */
export interface BootstrapTokenOptions {
  /** Time to live. @defaultValue 24 hours */
  ttlMs?: number;
  usages?: readonly string[];
  groups?: readonly string[];
  description?: string;
  /** The time the TTL counts from. @defaultValue now */
  now?: Date;
  signal?: AbortSignal;
}

/**
 * Creates a bootstrap token in the cluster as `kubeadm token create <token>` does, with kubeadm's
 * defaults (24 h, signing and authentication, the default node group).
 */
export async function createBootstrapToken(
  client: KubeClient,
  token: string,
  options: BootstrapTokenOptions = {},
): Promise<void> {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token);
  if (m === null)
    throw new KubeError(
      'OCNE_KUBE_INVALID_MANIFEST',
      'a bootstrap token must look like [a-z0-9]{6}.[a-z0-9]{16}',
    );
  const [, id, secret] = m;
  const expiration = new Date(
    (options.now ?? new Date()).getTime() + (options.ttlMs ?? BOOTSTRAP_TOKEN_DEFAULTS.ttlMs),
  );
  const stringData: Record<string, string> = {
    'token-id': id!,
    'token-secret': secret!,
    expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'auth-extra-groups': (options.groups ?? BOOTSTRAP_TOKEN_DEFAULTS.groups).join(','),
  };
  for (const usage of options.usages ?? BOOTSTRAP_TOKEN_DEFAULTS.usages)
    stringData[`usage-bootstrap-${usage}`] = 'true';
  if (options.description) stringData.description = options.description;
  await client.apply(
    [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
        type: 'bootstrap.kubernetes.io/token',
        stringData,
      } as never,
    ],
    { mode: 'create', ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** The parts of `kube-system/kubeadm-config` the SDK uses. */
export interface KubeadmClusterInfo {
  /** `host:port` of the API server, as kubeadm was told. */
  controlPlaneEndpoint: string;
  /** Host part (IPv6 without brackets) and port of it. */
  host: string;
  port: number;
  /** The whole ClusterConfiguration document. */
  clusterConfiguration: Record<string, unknown>;
}

/** Splits `host:port`, `[v6]:port` or a bare IPv6/host (port 6443). */
export function splitHostPort(endpoint: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(endpoint);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 6443 };
  const colons = endpoint.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = endpoint.split(':');
    return { host: host!, port: Number(port) };
  }
  // No colon, or an unbracketed IPv6 address (upstream's split fails here).
  return { host: endpoint, port: 6443 };
}

/** Reads `kube-system/kubeadm-config`, or throws a clear error when the cluster has none. */
export async function readKubeadmConfig(client: KubeClient): Promise<KubeadmClusterInfo> {
  const cm = await client.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: 'kube-system',
    name: 'kubeadm-config',
  });
  const text = cm?.data?.ClusterConfiguration;
  if (text === undefined) {
    throw new KubeError(
      'OCNE_KUBE_API',
      'the cluster has no kube-system/kubeadm-config ConfigMap with a ClusterConfiguration: was it made with kubeadm?',
      {
        status: { code: 404, reason: 'NotFound', message: 'kubeadm-config' },
      },
    );
  }
  const clusterConfiguration = (parse(text) ?? {}) as Record<string, unknown>;
  const endpoint = String(clusterConfiguration.controlPlaneEndpoint ?? '');
  if (endpoint === '') {
    throw new KubeError('OCNE_KUBE_API', 'kube-system/kubeadm-config has no controlPlaneEndpoint');
  }
  return { controlPlaneEndpoint: endpoint, ...splitHostPort(endpoint), clusterConfiguration };
}
