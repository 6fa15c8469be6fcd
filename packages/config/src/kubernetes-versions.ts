/**
 * The Kubernetes versions this release supports and the component versions that go with
 * each (upstream `pkg/catalog/versions/k8s.go`).
 */

/** Component versions for one supported Kubernetes minor. */
export interface KubernetesVersionInfo {
  /** The `major.minor` key, such as `1.33`. */
  minor: string;
  /** The full version kubeadm deploys, such as `1.33.5`. */
  kubernetes: string;
  pause: string;
  etcd: string;
  coreDns: string;
}

/** The default Kubernetes version. */
export const DEFAULT_KUBERNETES_VERSION = '1.33';

const table: readonly KubernetesVersionInfo[] = [
  { minor: '1.26', kubernetes: '1.26.6', pause: '3.9', etcd: '3.5.6', coreDns: 'v1.9.3-4' },
  { minor: '1.27', kubernetes: '1.27.12', pause: '3.9', etcd: '3.5.10', coreDns: 'v1.10.1' },
  { minor: '1.28', kubernetes: '1.28.8', pause: '3.9', etcd: '3.5.10', coreDns: 'v1.10.1-1' },
  { minor: '1.29', kubernetes: '1.29.3', pause: '3.9', etcd: '3.5.10', coreDns: 'v1.11.1' },
  { minor: '1.30', kubernetes: '1.30.3', pause: '3.9', etcd: '3.5.12', coreDns: 'v1.11.1' },
  { minor: '1.31', kubernetes: '1.31.0', pause: '3.10', etcd: '3.5.15', coreDns: 'current' },
  { minor: '1.32', kubernetes: '1.32.0', pause: '3.10', etcd: '3.5.15', coreDns: 'current' },
  { minor: '1.33', kubernetes: '1.33.5', pause: '3.10', etcd: '3.5.23', coreDns: 'current' },
];

const byKey = new Map<string, KubernetesVersionInfo>();
for (const info of table) {
  byKey.set(info.minor, info);
  byKey.set(info.kubernetes, info);
}

/** Every supported version, oldest first. */
export function supportedKubernetesVersions(): readonly KubernetesVersionInfo[] {
  return table;
}

/**
 * Component versions for `1.33` or `1.33.5` (a minor or the exact full version in the table),
 * or `undefined`. Like upstream's lookup, a leading `v` is not accepted.
 */
export function kubernetesVersionInfo(version: string): KubernetesVersionInfo | undefined {
  return byKey.get(version);
}

/**
 * Upstream's `IsSupportedKubernetesVersion`: strips a leading `v`, then looks the version up.
 * `1.33` and `1.33.5` are supported; `1.33.0` is not.
 */
export function isSupportedKubernetesVersion(version: string): boolean {
  const v = version.startsWith('v') ? version.slice(1) : version;
  if (byKey.has(v)) return true;
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v);
  return m !== null && byKey.has(`${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`);
}
