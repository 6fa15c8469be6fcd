/**
 * The Ignition that Cluster API nodes in Oracle Cloud get on top of what CAPI's kubeadm bootstrap
 * provider writes: upstream's `getExtraIgnition` for the `oci` template. The kubeadm bootstrap is
 * CAPI's `kubeadm.service`, so OCK's own `ocne.service` is switched off; CRI-O starts before it and
 * first writes the instance OCID (from the instance metadata service) into the kubeadm config in
 * place of CAPI's `{{ ds["id"] }}` placeholder.
 *
 * Decided as in the byo/libvirt node content ({@link initNodeIgnition}): proxy drop-ins only with an
 * HTTP or HTTPS proxy, no `kublet.service`. The proxy helper script also understands IPv6 API
 * addresses and leaves absent drop-ins alone (upstream splits the URL on `:` and runs `sed` on
 * files that may not exist).
 */
import type { ResolvedClusterConfig } from '@ocne/config';
import { IgnitionBuilder } from './builder.js';
import {
  KUBEADM_UPGRADE_SH,
  type NodeCommonInput,
  ocneUser,
  osUpdateSource,
  proxyDropin,
  registriesConf,
} from './node.js';
import type { IgnitionConfig } from './spec.js';

/** The instance metadata service of Oracle Cloud; nodes reach it without a proxy. */
export const INSTANCE_METADATA_ADDRESS = '169.254.169.254';

/** What {@link capiNodeIgnition} needs: the common node inputs without the byo network interface. */
export interface CapiNodeInput extends Omit<NodeCommonInput, 'netInterface'> {
  /** The cluster's name: the proxy helper looks the API server up under it in kubelet.conf. */
  clusterName: string;
}

const PRE_KUBEADM = '[Unit]\nBefore=kubeadm.service\n';

// systemd reads `$$` as a literal `$` and `\\` as `\`: the shell then runs
//   sed -i "s/{{ ds\["id"\] }}/<ocid>/g" /etc/kubeadm.yml
// The drop-in moves itself away once CRI-O has started, so later restarts skip it.
const OCID_POPULATE = `[Service]
ExecStartPre=/bin/sh -c 'OCID=$$(curl -L -H "Authorization: Bearer Oracle" http://${INSTANCE_METADATA_ADDRESS}/opc/v2/instance/id); sed -i "s/{{ ds\\\\[\\\\"id\\\\"\\\\] }}/$$OCID/g" /etc/kubeadm.yml'
ExecStartPost=/bin/sh -c 'mv /etc/systemd/system/crio.service.d/ocid-populate.conf /tmp/'
`;

const PROXY_CONFIG_UNIT = `[Unit]
Description=Add the API server address to the no_proxy settings of node services
After=kubeadm.service

[Service]
Type=oneshot
User=root
ExecStart=/etc/ocne/proxy-config.sh

[Install]
WantedBy=multi-user.target
`;

const PROXY_DROPINS = [
  '/etc/systemd/system/ocne-update.service.d/proxy.conf',
  '/etc/systemd/system/crio.service.d/proxy.conf',
];

function proxyConfigScript(clusterName: string): string {
  return `#!/bin/bash
# Once kubeadm has joined this node, adds the API server's address to no_proxy in the proxy
# drop-ins, so node services reach the API server directly.
export KUBECONFIG=/etc/kubernetes/kubelet.conf
CLUSTER_NAME='${clusterName.replaceAll("'", "'\\''")}'

server=$(kubectl config view --cluster "$CLUSTER_NAME" -o jsonpath='{.clusters[0].cluster.server}')
hostport=\${server#*://}
hostport=\${hostport%%/*}
if [[ $hostport == \\[* ]]; then
  address=\${hostport#[}
  address=\${address%%]*}
else
  address=\${hostport%%:*}
fi
if [ -z "$address" ]; then
  echo "No API server address in $KUBECONFIG"
  exit 0
fi

reload=no
for conf in ${PROXY_DROPINS.join(' ')}; do
  [ -f "$conf" ] || continue
  if ! grep -qF -- "$address" "$conf"; then
    echo "Adding $address to no_proxy in $conf"
    sed -i "s/no_proxy=/no_proxy=$address,/g" "$conf"
    reload=yes
  fi
done
if [ "$reload" = yes ]; then
  systemctl daemon-reload
fi
`;
}

/**
 * The extra Ignition of Cluster API nodes (control plane and workers alike), in upstream's order:
 * its own units and files, then the container runtime settings, the proxy drop-ins, user `ocne`,
 * the kubeadm patch hooks, and last the configured extra Ignition (which wins).
 */
export function capiNodeIgnition(input: CapiNodeInput): IgnitionConfig {
  const b = new IgnitionBuilder()
    .unit('ocne.service', { enabled: false })
    .unit('crio.service', {
      enabled: true,
      dropins: [
        { name: 'pre-kubeadm.conf', contents: PRE_KUBEADM },
        { name: 'ocid-populate.conf', contents: OCID_POPULATE },
      ],
    })
    .unit('ocne-proxy-config.service', { enabled: true, contents: PROXY_CONFIG_UNIT })
    .file('/etc/ocne/proxy-config.sh', proxyConfigScript(input.clusterName), { mode: 0o555 })
    .file(
      '/etc/ocne/update.yaml',
      `registry: ${input.osImage}\ntag: ${input.osTag}\ntransport: ${input.osTransport}\n`,
      { mode: 0o400 },
    )
    .unit('iscsid.service', { enabled: true })
    // Upstream enables it through its proxy settings, which CAPI nodes always get (no_proxy is never
    // empty there); OS updates need it with or without a proxy.
    .unit('ocne-update.service', { enabled: true })
    // What upstream's ContainerConfiguration adds.
    .unit('crio.service', { enabled: true })
    .unit('kubelet.service', { enabled: true })
    .file('/etc/containers/registries.conf', registriesConf(input.registry), { mode: 0o644 });
  const dropin = proxyDropin(input.proxy, input.noProxyExtras);
  if (dropin !== undefined) {
    b.dropin('crio.service', 'proxy.conf', dropin)
      .dropin('ocne-update.service', 'proxy.conf', dropin)
      .dropin('rpm-ostreed.service', 'proxy.conf', dropin);
  }
  b.user(ocneUser(input))
    .file('/etc/ocne/ocne-kubeadm-upgrade.sh', KUBEADM_UPGRADE_SH, { mode: 0o555 })
    .directory('/etc/ocne/ock/patches');
  for (const extra of input.extra ?? []) b.merge(extra);
  return b.build();
}

/** Options of {@link capiNodeInput}. */
export interface CapiNodeInputOptions {
  /** The `ocne` user's key text (read from `sshPublicKeyPath` by the caller when `sshPublicKey` is empty). */
  sshPublicKey?: string;
  /** Parsed extra Ignition, in order. */
  extra?: readonly IgnitionConfig[];
}

/**
 * The Cluster API node inputs of a resolved cluster configuration: `no_proxy` gets the service
 * and pod subnets and the instance metadata address, as upstream's oci template adds them.
 */
export function capiNodeInput(
  cluster: ResolvedClusterConfig,
  options: CapiNodeInputOptions = {},
): CapiNodeInput {
  const sshPublicKey = cluster.sshPublicKey !== '' ? cluster.sshPublicKey : options.sshPublicKey;
  return {
    clusterName: cluster.name,
    ...osUpdateSource(cluster.osRegistry),
    osTag: cluster.osTag,
    registry: cluster.registry,
    proxy: cluster.proxy,
    noProxyExtras: [cluster.serviceSubnet, cluster.podSubnet, INSTANCE_METADATA_ADDRESS],
    ...(sshPublicKey ? { sshPublicKey } : {}),
    ...(cluster.password !== '' ? { passwordHash: cluster.password } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
  };
}
