/**
 * The Ignition of OCK nodes, laid out as upstream's `pkg/cluster/ignition` lays it out: the
 * content every node gets, what the first control-plane node gets (`init`), what joining nodes
 * get (`join`), the virtual-IP stack (keepalived + nginx) and the proxy drop-ins. Pure: keys,
 * tokens and certificates come in as inputs.
 *
 * Upstream quirks, decided here:
 * - `kublet.service` (sic): upstream enables a unit of that name, a typo with no effect. Not emitted.
 * - Proxy drop-ins: upstream always emits them for byo and libvirt, because it appends the API
 *   address and the subnets to `no_proxy` even when no proxy is set, leaving drop-ins that only
 *   set `no_proxy`. Here they are emitted only when an HTTP or HTTPS proxy is set (same effect).
 * - Scripts and unit files are this SDK's own text with upstream's behaviour: the same paths,
 *   modes, owners, commands, ports and directives. Upstream's bootstrap script also parses the
 *   control-plane endpoint with `yq` into variables it never uses; that is left out.
 * - `/etc/ocne/nginx/image` ends with a newline (upstream's does not; the file is sourced by bash).
 */
import { parseOstreeReference, type ResolvedClusterConfig } from '@ocne/config';
import { OcneError } from '@ocne/core';
import { IgnitionBuilder } from './builder.js';
import {
  hostPort,
  type KubeadmClusterInput,
  kubeadmInitConfig,
  kubeadmJoinConfig,
  type NodeRole,
} from './kubeadm.js';
import type { IgnitionConfig, IgnitionUser } from './spec.js';

/** The nginx image of the virtual-IP stack. */
export const NGINX_IMAGE = 'container-registry.oracle.com/olcne/nginx:1.17.7-1';

/** Proxy settings for node services. */
export interface NodeProxy {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

/** What every node's Ignition needs. */
export interface NodeCommonInput {
  /** OSTree update source, split: the image without transport, and the transport (see `parseOstreeReference`). */
  osImage: string;
  osTransport: string;
  osTag: string;
  /** `registry`: the unqualified-search registry of CRI-O. */
  registry: string;
  /** The interface whose address is the node's (`providers.byo.networkInterface`). */
  netInterface: string;
  proxy?: NodeProxy;
  /**
   * Entries appended to `no_proxy` after the configured ones: byo and libvirt pass the API
   * address, the service subnet and the pod subnet.
   */
  noProxyExtras?: readonly string[];
  /** The `ocne` user's authorized key (the key text; an edge reads `sshPublicKeyPath`). */
  sshPublicKey?: string;
  /** SHA-512 crypt hash for user `ocne`. */
  passwordHash?: string;
  /** Extra Ignition (`extraIgnition`, then `extraIgnitionInline`), merged last: it wins. */
  extra?: readonly IgnitionConfig[];
}

/** Text of the `proxy.conf` drop-in, or `undefined` when no proxy is set. */
export function proxyDropin(
  proxy: NodeProxy | undefined,
  extras: readonly string[] = [],
): string | undefined {
  const https = proxy?.httpsProxy ?? '';
  const http = proxy?.httpProxy ?? '';
  if (https === '' && http === '') return undefined;
  const noProxy = [proxy?.noProxy ?? '', ...extras].filter((s) => s !== '').join(',');
  let text = '[Service]\n';
  if (https !== '') text += `Environment=HTTPS_PROXY=${https}\nEnvironment=https_proxy=${https}\n`;
  if (http !== '') text += `Environment=HTTP_PROXY=${http}\nEnvironment=http_proxy=${http}\n`;
  if (noProxy !== '') text += `Environment=no_proxy=${noProxy}\n`;
  return text;
}

// The bootstrap script that replaces the image's /etc/ocne/ocne.sh. ACTION and NET_INTERFACE come
// from ocne.service's bootstrap.conf drop-in.
const OCNE_SH = `#!/bin/bash
# OCNE node bootstrap: initializes or joins this node with kubeadm, once.
set -e -x

if [ -f /etc/ocne/reset-kubeadm ]; then
  echo "Performing kubeadm reset"
  kubeadm reset -f && rm -f /etc/ocne/reset-kubeadm
fi

# The node's address: the first one on the cluster network interface.
NODE_IP=$(ip addr show "$NET_INTERFACE" | grep -E 'inet6?[[:space:]]' | awk '{ print $2 }' | cut -d/ -f1 | head -n 1)

if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "Kubernetes is already initialized"
  exit 0
fi

systemctl enable --now crio.service
systemctl enable kubelet.service
sed -i "s/NODE_IP/$NODE_IP/g" /etc/kubernetes/kubeadm.conf

case "$ACTION" in
  "")
    kubeadm init --config /etc/ocne/kubeadm-default.conf
    KUBECONFIG=/etc/kubernetes/admin.conf kubectl taint node "$(hostname)" node-role.kubernetes.io/control-plane:NoSchedule-
    ;;
  init)
    echo "Initializing new Kubernetes cluster"
    mkdir -p /etc/kubernetes/pki
    kubeadm init --config /etc/kubernetes/kubeadm.conf --upload-certs
    ;;
  join)
    echo "Joining existing Kubernetes cluster"
    kubeadm join --config /etc/kubernetes/kubeadm.conf
    ;;
  *)
    echo "Action '$ACTION' is invalid.  Valid values are 'init' and 'join'"
    exit 1
    ;;
esac
`;

/** @internal The kubeadm upgrade hook OCK runs; a no-op for clusters this SDK makes. */
export const KUBEADM_UPGRADE_SH = `#!/bin/bash
# Hook for kubeadm upgrades of OCK nodes; nothing to do for clusters made by this SDK.
exit 0
`;

/** The content every node gets, as a builder to continue. */
function common(input: NodeCommonInput, action: 'init' | 'join'): IgnitionBuilder {
  return new IgnitionBuilder()
    .file(
      '/etc/ocne/update.yaml',
      `registry: ${input.osImage}\ntag: ${input.osTag}\ntransport: ${input.osTransport}\n`,
      {
        mode: 0o400,
      },
    )
    .file('/etc/ocne/ocne.sh', OCNE_SH, { mode: 0o555 })
    .unit('ocne-update.service', { enabled: true })
    .unit('ocne.service', {
      enabled: true,
      // The final newline matters: systemd's parser in go-systemd mishandles a last line without one.
      dropins: [
        {
          name: 'bootstrap.conf',
          contents: `[Service]\nEnvironment=ACTION=${action}\nEnvironment=NET_INTERFACE=${input.netInterface}\n`,
        },
      ],
    })
    .unit('crio.service', { enabled: true })
    .unit('kubelet.service', { enabled: true })
    .file('/etc/containers/registries.conf', registriesConf(input.registry), { mode: 0o644 })
    .file('/etc/ocne/ocne-kubeadm-upgrade.sh', KUBEADM_UPGRADE_SH, { mode: 0o555 })
    .directory('/etc/ocne/ock/patches');
}

/** @internal CRI-O's registries.conf: where unqualified image names are looked up. */
export function registriesConf(registry: string): string {
  return `unqualified-search-registries = ["${registry}"]\n`;
}

/** @internal User `ocne`, as every OCK node has it. */
export function ocneUser(input: Pick<NodeCommonInput, 'passwordHash' | 'sshPublicKey'>): IgnitionUser {
  return {
    name: 'ocne',
    groups: ['wheel'],
    noCreateHome: false,
    primaryGroup: '',
    shell: '/usr/bin/rescue.sh',
    system: false,
    ...(input.passwordHash ? { passwordHash: input.passwordHash } : {}),
    ...(input.sshPublicKey ? { sshAuthorizedKeys: [input.sshPublicKey] } : {}),
  };
}

/** Adds the proxy drop-ins and user `ocne`: what upstream merges after the role's content. */
function finish(b: IgnitionBuilder, input: NodeCommonInput): IgnitionConfig {
  const dropin = proxyDropin(input.proxy, input.noProxyExtras);
  if (dropin !== undefined) {
    b.dropin('crio.service', 'proxy.conf', dropin)
      .dropin('ocne-update.service', 'proxy.conf', dropin)
      .dropin('rpm-ostreed.service', 'proxy.conf', dropin);
  }
  b.user(ocneUser(input));
  for (const extra of input.extra ?? []) b.merge(extra);
  return b.build();
}

/** What the virtual-IP stack needs. */
export interface VirtualIpInput {
  virtualIp: string;
  netInterface: string;
  bindPort: number;
  bindPortAlt: number;
  proxy?: NodeProxy;
}

const unitFile = (sections: Record<string, ReadonlyArray<string>>): string =>
  `\n${Object.entries(sections)
    .map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`)
    .join('\n')}`;

/** The files, units, user and group of the keepalived + nginx stack of control-plane nodes. */
export function virtualIpIgnition(input: VirtualIpInput): IgnitionConfig {
  const keepalived = { user: 'keepalived_script', group: 'keepalived_script' };
  const keepalivedConf = `
global_defs {
  router_id LVS_DEVEL
  enable_script_security
}
vrrp_script check_apiserver {
  script "/etc/keepalived/check_apiserver.sh"
  interval 5
  weight 0 # 0 lets the instance enter and leave FAULT without changing priorities
  fall 10
  rise 2
}
vrrp_instance VI_1 {
  state BACKUP
  interface ${input.netInterface}
  virtual_router_id 51
  priority 50
  unicast_peer {

  }
  virtual_ipaddress {
    ${input.virtualIp}
  }
  track_script {
    check_apiserver
  }
  notify /etc/keepalived/keepalived_state.sh
}
`;
  const checkApiserver = `#!/bin/bash
# keepalived health check of this control-plane node.
VIP=${input.virtualIp}
PORT=${input.bindPort}

if ! ip addr | grep -q "$VIP/"; then
  # Before the cluster configures keepalived's peers, a VIP that answers elsewhere means another
  # cluster node holds it: stay backup.
  if grep -zoq 'unicast_peer[[:space:]]*{[[:space:]]*}' /etc/keepalived/keepalived.conf; then
    IFACE=$(ip route get "$VIP" | cut -d ' ' -f 3 | head -n 1)
    if arping -f -I "$IFACE" -c 3 "$VIP" && curl -k "https://$VIP:$PORT"; then
      exit 1
    fi
  fi
fi

if ! echo $(netstat -nltp) | grep -q "$PORT"; then
  echo "$(date): keepalived failed to find nginx bound to port" >> /etc/keepalived/log
  exit 1
fi
exit 0
`;
  const keepalivedState = `#!/bin/bash
# keepalived notify hook: records state changes.
echo "$(date): keepalived state: $*" >> /etc/keepalived/log
`;
  const nginxConf = `
load_module /usr/lib64/nginx/modules/ngx_stream_module.so;
events {
  worker_connections 2048;
}
stream {
  upstream backend1 {
    server localhost:${input.bindPortAlt} fail_timeout=10s max_fails=1;
    least_conn;
  }
  server {
    listen ${input.bindPort};
    listen [::]:${input.bindPort};
    proxy_pass backend1;
    proxy_connect_timeout 500m;
  }
}
`;
  const imageDefaults = `IMAGE=${NGINX_IMAGE}
if [ -f /etc/ocne/nginx/image ]; then
  . /etc/ocne/nginx/image
fi
`;
  const pull = `#!/bin/bash
# Makes sure the nginx image is on the node.
${imageDefaults}
podman image exists "$IMAGE" || crictl pull "$IMAGE"
exit 0
`;
  const start = `#!/bin/bash
# Runs nginx in the foreground with this folder as its configuration.
${imageDefaults}
exec podman run --name ocne-nginx --replace --rm --network=host --volume=/etc/ocne/nginx:/etc/nginx "$IMAGE"
`;
  const b = new IgnitionBuilder()
    .group({ name: 'nginx_script', system: true })
    .user({
      name: 'nginx_script',
      noCreateHome: true,
      primaryGroup: 'nginx_script',
      shell: '/sbin/nologin',
      system: true,
    })
    .file('/etc/keepalived/keepalived.conf', keepalivedConf, { mode: 0o644, ...keepalived })
    .file('/etc/keepalived/check_apiserver.sh', checkApiserver, { mode: 0o755, ...keepalived })
    .file('/etc/keepalived/keepalived_state.sh', keepalivedState, { mode: 0o755, ...keepalived })
    .file('/etc/keepalived/log', '', { mode: 0o644, ...keepalived })
    .file('/etc/ocne/nginx/nginx.conf', nginxConf, {
      mode: 0o644,
      user: 'nginx_script',
      group: 'nginx_script',
    })
    .file('/etc/ocne/nginx/pull_ocne_nginx', pull, { mode: 0o755 })
    .file('/etc/ocne/nginx/start_ocne_nginx', start, { mode: 0o755 })
    .file('/etc/ocne/nginx/image', `IMAGE=${NGINX_IMAGE}\n`, { mode: 0o644 });
  // nginx itself gets the proxy as configured (it pulls its image), without the cluster extras.
  const proxy = proxyDropin(input.proxy);
  b.unit('ocne-nginx.service', {
    enabled: true,
    contents: unitFile({
      Unit: [
        'Description=Nginx load balancer for Kubernetes control plane nodes in OCNE',
        'Wants=network.target',
        'After=network.target',
        'Before=keepalived.service',
        'StartLimitIntervalSec=0',
      ],
      Service: [
        'ExecStartPre=/etc/ocne/nginx/pull_ocne_nginx',
        'ExecStart=/etc/ocne/nginx/start_ocne_nginx',
        'ExecStop=podman stop ocne-nginx',
        'ExecReload=podman exec ocne-nginx nginx -s reload',
        'Restart=always',
        'RestartSec=1',
      ],
      Install: ['WantedBy=multi-user.target', 'WantedBy=keepalived.service'],
    }),
    ...(proxy !== undefined ? { dropins: [{ name: 'proxy.conf', contents: proxy }] } : {}),
  });
  const refresh = (what: string, unit: string, watched: string) => {
    b.unit(`${unit}-refresh.service`, {
      enabled: true,
      contents: unitFile({
        Unit: [`Description=Reload ${what} when its configuration changes`],
        Service: [`ExecStart=systemctl reload ${unit}.service`, 'Type=oneshot'],
        Install: ['WantedBy=multi-user.target'],
      }),
    });
    b.unit(`${unit}-refresh.path`, {
      enabled: true,
      contents: unitFile({
        Unit: [`Description=Watch the ${what} configuration`],
        Path: [`PathChanged=${watched}`, `Unit=${unit}-refresh.service`],
        Install: ['WantedBy=multi-user.target'],
      }),
    });
  };
  refresh('Nginx', 'ocne-nginx', '/etc/ocne/nginx/nginx.conf');
  b.unit('keepalived.service', { enabled: true });
  refresh('Keepalived', 'keepalived', '/etc/keepalived/keepalived.conf');
  return b.build();
}

/** What the nodes of one cluster share: {@link NodeCommonInput} and the kubeadm settings. */
export interface ClusterNodeInput extends NodeCommonInput, KubeadmClusterInput {
  /** `kubeProxyMode`, for the KubeProxyConfiguration of control-plane joins. */
  kubeProxyMode: string;
}

/** Options of {@link initNodeIgnition}. */
export interface InitNodeInput extends ClusterNodeInput {
  /** PEM of the cluster CA certificate and its PKCS#1 key. */
  caCertPem: string;
  caKeyPem: string;
  certificateKey: string;
  expectWorkers: boolean;
}

const vipInput = (input: ClusterNodeInput): VirtualIpInput => ({
  virtualIp: input.apiAddress,
  netInterface: input.netInterface,
  bindPort: input.bindPort,
  bindPortAlt: input.bindPortAlt,
  ...(input.proxy ? { proxy: input.proxy } : {}),
});

/** The Ignition of the first control-plane node: it runs `kubeadm init`. */
export function initNodeIgnition(input: InitNodeInput): IgnitionConfig {
  const b = common(input, 'init')
    .file('/etc/kubernetes/kubeadm.conf', kubeadmInitConfig(input), { mode: 0o600 })
    .file('/etc/kubernetes/pki/ca.crt', input.caCertPem, { mode: 0o600 })
    .file('/etc/kubernetes/pki/ca.key', input.caKeyPem, { mode: 0o600 });
  if (input.internalLB) b.merge(virtualIpIgnition(vipInput(input)));
  return finish(b, input);
}

/** Options of {@link joinNodeIgnition}. */
export interface JoinNodeInput extends ClusterNodeInput {
  role: NodeRole;
  token: string;
  caCertHashes: readonly string[];
  /** For control-plane nodes. */
  certificateKey?: string;
}

/** The Ignition of a node that joins: a worker, or a control-plane node (with the virtual-IP stack). */
export function joinNodeIgnition(input: JoinNodeInput): IgnitionConfig {
  const b = common(input, 'join').file('/etc/kubernetes/kubeadm.conf', kubeadmJoinConfig(input), {
    mode: 0o600,
  });
  if (input.role === 'control-plane' && input.internalLB) b.merge(virtualIpIgnition(vipInput(input)));
  return finish(b, input);
}

/** The API server URL clients use. */
export function apiServerUrl(address: string, port: number): string {
  return `https://${hostPort(address, port)}`;
}

/** @internal `osRegistry` split into what `/etc/ocne/update.yaml` holds; it must carry neither a tag nor a digest. */
export function osUpdateSource(osRegistry: string): { osImage: string; osTransport: string } {
  const os = parseOstreeReference(osRegistry);
  if (os === undefined) {
    throw new OcneError('OCNE_CONFIG_INVALID_VALUE', `${osRegistry} is not a valid ostree image reference`);
  }
  if (os.tag !== '') throw new OcneError('OCNE_CONFIG_INVALID_VALUE', 'osRegistry field cannot have a tag');
  if (os.digest !== '')
    throw new OcneError('OCNE_CONFIG_INVALID_VALUE', 'osRegistry field cannot have a digest');
  return { osImage: os.baseImage, osTransport: os.transport };
}

/** Options of {@link clusterNodeInput}. */
export interface ClusterNodeInputOptions {
  /** The `ocne` user's key text (read from `sshPublicKeyPath` by the caller when `sshPublicKey` is empty). */
  sshPublicKey?: string;
  /** Parsed extra Ignition, in order. */
  extra?: readonly IgnitionConfig[];
  /** Extra API server certificate SANs. */
  certSans?: readonly string[];
}

/**
 * The node inputs of a resolved cluster configuration, as byo (and libvirt) derive them: the API
 * address and the virtual-IP stack come from `apiEndpoint` (the virtual IP, else the load balancer);
 * `no_proxy` gets the API address and both subnets.
 */
export function clusterNodeInput(
  cluster: ResolvedClusterConfig,
  options: ClusterNodeInputOptions = {},
): ClusterNodeInput {
  const os = osUpdateSource(cluster.osRegistry);
  const { address: apiAddress, internalLB } = cluster.apiEndpoint;
  const sshPublicKey = cluster.sshPublicKey !== '' ? cluster.sshPublicKey : options.sshPublicKey;
  return {
    ...os,
    osTag: cluster.osTag,
    registry: cluster.registry,
    netInterface: cluster.providers.byo.networkInterface,
    proxy: cluster.proxy,
    noProxyExtras: [apiAddress, cluster.serviceSubnet, cluster.podSubnet],
    ...(sshPublicKey ? { sshPublicKey } : {}),
    ...(cluster.password !== '' ? { passwordHash: cluster.password } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
    kubernetesVersion: cluster.kubernetesVersion,
    apiAddress,
    bindPort: cluster.kubeApiServerBindPort,
    bindPortAlt: cluster.kubeApiServerBindPortAlt,
    internalLB,
    serviceSubnet: cluster.serviceSubnet,
    podSubnet: cluster.podSubnet,
    cipherSuites: cluster.cipherSuites,
    kubeProxyMode: cluster.kubeProxyMode,
    ...(options.certSans ? { certSans: options.certSans } : {}),
  };
}
