/**
 * kubeadm configuration (`kubeadm.k8s.io/v1beta3`) for OCK nodes, as upstream writes it to
 * `/etc/kubernetes/kubeadm.conf`. Pure: data in, YAML out. `NODE_IP` is a placeholder that the
 * node's bootstrap script replaces with the address of its network interface.
 */
import { kubernetesVersionInfo, stringifyYaml } from '@ocne/config';
import { OcneError } from '@ocne/core';

/** The image repository of the control-plane images (upstream hard-codes it; not `registry`). */
export const KUBEADM_IMAGE_REPOSITORY = 'container-registry.oracle.com/olcne';
/** The folder of kubeadm patches on OCK nodes. */
export const KUBEADM_PATCHES_DIRECTORY = '/etc/ocne/ock/patches';
/** Placeholder for the node's own address. */
export const NODE_IP = 'NODE_IP';

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

// `yaml`'s bytes for `{ indent: 4, indentSeq: true, lineWidth: 0, nullStr: 'null' }`, through our
// writer: a join's Ignition then needs no YAML library loaded to write its kubeadm configuration.
function yamlDoc(value: unknown): string {
  return stringifyYaml(value, { indent: 4, nullStr: 'null' });
}

function withCiphers(
  args: Record<string, string>,
  cipherSuites: string,
  key = 'tls-cipher-suites',
): Record<string, string> {
  return cipherSuites === '' ? args : { ...args, [key]: cipherSuites };
}

/** What the kubeadm documents of a cluster need. */
export interface KubeadmClusterInput {
  /** `kubernetesVersion` of the configuration (`1.33`, or a patch version from the table). */
  kubernetesVersion: string;
  /** The API server address (virtual IP, load balancer or node address). */
  apiAddress: string;
  /** `kubeApiServerBindPort`: the port clients use. */
  bindPort: number;
  /** `kubeApiServerBindPortAlt`: kube-apiserver's own port behind nginx when the virtual IP stack runs. */
  bindPortAlt: number;
  /** Whether the virtual IP stack (keepalived and nginx) runs on control-plane nodes. */
  internalLB: boolean;
  serviceSubnet: string;
  podSubnet: string;
  /** `cipherSuites`, passed as is to kubelet, the control plane and etcd; `''` for none. */
  cipherSuites: string;
  /** Extra SANs of the API server certificate (byo none, libvirt the host address). */
  certSans?: readonly string[];
}

function versions(version: string) {
  const info = kubernetesVersionInfo(version);
  if (info === undefined)
    throw new OcneError('OCNE_CONFIG_UNSUPPORTED_VERSION', `No Kubernetes version available for ${version}`);
  return info;
}

function kubeletArgs(input: KubeadmClusterInput, init: boolean): Record<string, string> {
  return {
    'node-ip': NODE_IP,
    ...(init ? { 'tls-min-version': 'VersionTLS12' } : {}),
    ...(input.cipherSuites !== '' ? { 'tls-cipher-suites': input.cipherSuites } : {}),
    address: '0.0.0.0',
    'authorization-mode': 'AlwaysAllow',
    'volume-plugin-dir': '/var/lib/kubelet/volumeplugins',
  };
}

const localPort = (input: KubeadmClusterInput) => (input.internalLB ? input.bindPortAlt : input.bindPort);

/** Options of {@link kubeadmInitConfig}. */
export interface KubeadmInitInput extends KubeadmClusterInput {
  /** The key control-plane nodes use to fetch the uploaded certificates. */
  certificateKey: string;
  /** Whether worker nodes are expected: without, the control plane is not tainted. */
  expectWorkers: boolean;
}

/** `InitConfiguration` and `ClusterConfiguration` of the first control-plane node. */
export function kubeadmInitConfig(input: KubeadmInitInput): string {
  const v = versions(input.kubernetesVersion);
  const init = {
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: NODE_IP, bindPort: localPort(input) },
    nodeRegistration: {
      kubeletExtraArgs: kubeletArgs(input, true),
      // [] keeps the control plane schedulable when there are no workers; null is kubeadm's default taint.
      taints: input.expectWorkers ? null : [],
    },
    ...(input.certificateKey !== '' ? { certificateKey: input.certificateKey } : {}),
    skipPhases: ['addon/kube-proxy', 'addon/coredns', 'preflight'],
    patches: { directory: KUBEADM_PATCHES_DIRECTORY },
  };
  const tls = { 'tls-min-version': 'VersionTLS12' };
  const cluster = {
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    kind: 'ClusterConfiguration',
    apiServer: {
      ...(input.certSans !== undefined && input.certSans.length > 0 ? { certSANs: [...input.certSans] } : {}),
      extraArgs: withCiphers(tls, input.cipherSuites),
    },
    controllerManager: { extraArgs: withCiphers(tls, input.cipherSuites) },
    scheduler: { extraArgs: withCiphers(tls, input.cipherSuites) },
    networking: { serviceSubnet: input.serviceSubnet, podSubnet: input.podSubnet },
    imageRepository: KUBEADM_IMAGE_REPOSITORY,
    kubernetesVersion: v.kubernetes,
    controlPlaneEndpoint: hostPort(input.apiAddress, input.bindPort),
    etcd: {
      local: {
        imageRepository: KUBEADM_IMAGE_REPOSITORY,
        imageTag: v.etcd,
        extraArgs: {
          ...(input.cipherSuites !== '' ? { 'cipher-suites': input.cipherSuites } : {}),
          'listen-metrics-urls': 'http://0.0.0.0:2381',
        },
        peerCertSANs: [],
      },
    },
    dns: { imageRepository: KUBEADM_IMAGE_REPOSITORY, imageTag: v.coreDns },
  };
  return `${yamlDoc(init)}\n---\n${yamlDoc(cluster)}`;
}

/** The role of a joining node. */
export type NodeRole = 'control-plane' | 'worker';

/** Options of {@link kubeadmJoinConfig}. */
export interface KubeadmJoinInput extends KubeadmClusterInput {
  role: NodeRole;
  /** Bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`. */
  token: string;
  /** `sha256:<hex>` pins of the cluster CA. */
  caCertHashes: readonly string[];
  /** For control-plane nodes: the key of the uploaded certificates. */
  certificateKey?: string;
  /** `kubeProxyMode`, for the KubeProxyConfiguration that control-plane joins carry. */
  kubeProxyMode: string;
}

/** `JoinConfiguration` of a new node; control-plane nodes also get a `KubeProxyConfiguration`. */
export function kubeadmJoinConfig(input: KubeadmJoinInput): string {
  const controlPlane = input.role === 'control-plane';
  const join = {
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    kind: 'JoinConfiguration',
    ...(controlPlane
      ? {
          controlPlane: {
            localAPIEndpoint: { advertiseAddress: NODE_IP, bindPort: localPort(input) },
            ...(input.certificateKey ? { certificateKey: input.certificateKey } : {}),
          },
        }
      : {}),
    nodeRegistration: { kubeletExtraArgs: kubeletArgs(input, false), taints: null },
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: hostPort(input.apiAddress, input.bindPort),
        token: input.token,
        ...(input.caCertHashes.length > 0 ? { caCertHashes: [...input.caCertHashes] } : {}),
      },
    },
    patches: { directory: KUBEADM_PATCHES_DIRECTORY },
    skipPhases: ['preflight'],
  };
  if (!controlPlane) return yamlDoc(join);
  const proxy = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: input.kubeProxyMode,
    metricsBindAddress: '0.0.0.0:10249',
  };
  return `${yamlDoc(join)}\n---\n${yamlDoc(proxy)}`;
}
