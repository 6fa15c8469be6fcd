/**
 * Moving a running node from one cluster to another (upstream `ocne cluster join --node X
 * --destination KCFG`, `pkg/commands/cluster/join`): the destination admits it (a bootstrap
 * token, and for control-plane nodes uploaded certificates), an admin pod in the source cluster
 * rewrites the node's kubeadm configuration and restarts its bootstrap service with
 * `ACTION=join`, and the Node object leaves the source cluster.
 */
import { type EventSink, OcneError, runStep } from '@ocne/core';
import {
  caCertHashesFromKubeconfig,
  cryptoRandom,
  decodeDataUrlText,
  generateBootstrapToken,
  generateCertificateKey,
  hostPort,
  type IgnitionConfig,
  kubeadmJoinConfig,
  type RandomSource,
  virtualIpIgnition,
} from '@ocne/ignition';
import { loadKubernetes } from './kube.js';

/** Options of {@link migrateNode}. */
export interface MigrateNodeOptions {
  /** The node's current cluster (kubeconfig YAML). */
  sourceKubeconfig: string;
  /** The cluster the node moves to (kubeconfig YAML); the CA pins come from it. */
  destinationKubeconfig: string;
  /** The node's name in the source cluster. */
  node: string;
  /** The role the node takes in the destination. */
  role: 'worker' | 'control-plane';
  /**
   * The destination's virtual IP when it has one. Upstream reads it from a destination
   * control-plane node's keepalived.conf when not given; here it must be given for control-plane
   * moves into a virtual-IP cluster, and without it no virtual-IP stack is written. Ignored for
   * workers.
   */
  virtualIp?: string;
  /**
   * The node's cluster network interface, for keepalived (upstream reads `NET_INTERFACE` from the
   * node's bootstrap.conf). Required when `virtualIp` is set.
   */
  netInterface?: string;
  /** kube-proxy mode of the KubeProxyConfiguration that control-plane joins carry. @defaultValue 'iptables' */
  kubeProxyMode?: string;
  /** Receives step, log and warning events. */
  emit?: EventSink;
  signal?: AbortSignal;
  /** Randomness of the token and certificate key. @defaultValue `cryptoRandom` */
  random?: RandomSource;
}

/** What {@link migrateNode} returns. */
export interface MigrateNodeResult {
  /** The bootstrap token created in the destination. */
  token: string;
  /** The destination's API endpoint the node joins (`host:port`, IPv6 in brackets). */
  endpoint: string;
  /** For control-plane moves: the key the certificates were uploaded with. */
  certificateKey?: string;
}

type KubeClient = import('@ocne/kubernetes').KubeClient;

interface PodLike {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  spec?: { containers?: Array<{ command?: string[]; args?: string[] }> };
}

/** The `--secure-port` of the destination's kube-apiserver pod (kubeadm's default 6443 when absent). */
async function apiServerSecurePort(kube: KubeClient): Promise<number> {
  const { items } = await kube.list<PodLike>('v1', 'Pod', {
    namespace: 'kube-system',
    labelSelector: 'component=kube-apiserver',
  });
  const pod = items[0];
  if (pod === undefined) {
    throw new OcneError(
      'OCNE_MIGRATE_DESTINATION_INCOMPLETE',
      'Did not find a kube-apiserver pod (kube-system, component=kube-apiserver) in the destination cluster',
    );
  }
  for (const container of pod.spec?.containers ?? []) {
    for (const arg of [...(container.command ?? []), ...(container.args ?? [])]) {
      const match = /^--secure-port=(\d+)$/.exec(arg);
      if (match) return Number(match[1]);
    }
  }
  return 6443;
}

/** A shell word: single-quoted. */
const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const octal = (mode: number): string => `0${mode.toString(8)}`;
const parent = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

/** Files the node keeps: upstream does not overwrite its keepalived and nginx configuration. */
const KEPT_FILES: ReadonlySet<string> = new Set([
  '/etc/keepalived/keepalived.conf',
  '/etc/ocne/nginx/nginx.conf',
]);

const BOOTSTRAP_CONF = '/etc/systemd/system/ocne.service.d/bootstrap.conf';

/**
 * The node script: every change goes through `chroot /hostroot`; file contents travel base64
 * encoded, so nothing in them needs quoting.
 */
function migrationScript(joinConfig: string, vip: IgnitionConfig | undefined): string {
  const lines = [
    'set -e',
    // put <path> <mode> <base64>: writes a file on the host, making its folder.
    'put() {',
    '  chroot /hostroot mkdir -p "$(dirname "$1")"',
    `  printf '%s' "$3" | chroot /hostroot sh -c 'umask 077; base64 -d > "$1"; chmod "$2" "$1"' put "$1" "$2"`,
    '}',
    'chroot /hostroot mv -f /etc/kubernetes/kubeadm.conf /etc/kubernetes/kubeadm.conf.bak || true',
    `put /etc/kubernetes/kubeadm.conf 0600 ${quote(b64(joinConfig))}`,
  ];
  const owners: string[] = [];
  const enable: string[] = [];
  if (vip !== undefined) {
    for (const group of vip.passwd?.groups ?? []) {
      lines.push(
        `chroot /hostroot sh -c ${quote(`getent group ${group.name} >/dev/null || groupadd -r ${group.name}`)} || true`,
      );
    }
    for (const user of vip.passwd?.users ?? []) {
      const group = user.primaryGroup ? ` -g ${user.primaryGroup}` : '';
      lines.push(
        `chroot /hostroot sh -c ${quote(`getent passwd ${user.name} >/dev/null || useradd -r -M -s /sbin/nologin${group} ${user.name}`)} || true`,
      );
    }
    for (const file of vip.storage?.files ?? []) {
      if (KEPT_FILES.has(file.path)) continue;
      const source = file.contents?.source;
      const text = source ? (decodeDataUrlText(source, file.contents?.compression) ?? '') : '';
      lines.push(`put ${quote(file.path)} ${octal(file.mode ?? 0o644)} ${quote(b64(text))}`);
      if (file.user?.name)
        owners.push(`${file.user.name}:${file.group?.name ?? file.user.name} ${file.path}`);
    }
    for (const unit of vip.systemd?.units ?? []) {
      const path = `/etc/systemd/system/${unit.name}`;
      if (unit.contents) lines.push(`put ${quote(path)} 0644 ${quote(b64(unit.contents))}`);
      for (const dropin of unit.dropins ?? []) {
        if (dropin.contents) {
          lines.push(`put ${quote(`${path}.d/${dropin.name}`)} 0644 ${quote(b64(dropin.contents))}`);
        }
      }
      if (unit.enabled) enable.push(unit.name);
    }
  }
  // The node's bootstrap service joins on its next start.
  const action = [
    `if grep -q '^Environment=ACTION=' ${BOOTSTRAP_CONF}; then`,
    `sed -i 's/^Environment=ACTION=.*/Environment=ACTION=join/' ${BOOTSTRAP_CONF};`,
    `else mkdir -p ${parent(BOOTSTRAP_CONF)}; printf '[Service]\\nEnvironment=ACTION=join\\n' >> ${BOOTSTRAP_CONF}; fi`,
  ].join(' ');
  lines.push(`chroot /hostroot sh -c ${quote(action)}`, 'chroot /hostroot systemctl daemon-reload');
  for (const owner of owners) {
    const [who, path] = owner.split(' ') as [string, string];
    lines.push(`chroot /hostroot chown ${quote(who)} ${quote(path)} || true`);
  }
  if (vip !== undefined) {
    lines.push('chroot /hostroot systemctl restart ocne-nginx-refresh.service || true');
  }
  for (const unit of enable) lines.push(`chroot /hostroot systemctl enable --now ${quote(unit)}`);
  lines.push(
    'chroot /hostroot mkdir -p /etc/ocne',
    'chroot /hostroot touch /etc/ocne/reset-kubeadm',
    'chroot /hostroot systemctl restart ocne',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Moves a node of one cluster into another, as upstream `ocne cluster join --node --destination`:
 *
 * 1. checks that the node is in the source cluster and reads the destination's
 *    `controlPlaneEndpoint` (IPv6 endpoints work; upstream fails on them);
 * 2. for control-plane moves, finds the destination's kube-apiserver `--secure-port` (the node's
 *    local API port) and its first control-plane node;
 * 3. creates a bootstrap token in the destination (step `Creating join token`) and, for
 *    control-plane moves, uploads the certificates there with a new key;
 * 4. runs one admin pod on the node (in the source cluster) that replaces
 *    `/etc/kubernetes/kubeadm.conf` with the JoinConfiguration (the old one kept as
 *    `kubeadm.conf.bak`), writes the virtual-IP stack for control-plane moves into a virtual-IP
 *    cluster (but keeps the node's keepalived.conf and nginx.conf), sets `ACTION=join` and
 *    restarts the `ocne` service;
 * 5. deletes the Node object from the source cluster (a failure is a warning event).
 *
 * Nothing changes anywhere before steps 1 and 2 succeed.
 *
 * @throws `OcneError` `OCNE_CONFIG_MISSING` (virtualIp without netInterface),
 * `OCNE_MIGRATE_NODE_NOT_FOUND`, `OCNE_MIGRATE_DESTINATION_INCOMPLETE`; `KubeError` for API
 * failures, `KubeCommandError` when the node script fails.
 */
export async function migrateNode(options: MigrateNodeOptions): Promise<MigrateNodeResult> {
  const { node, role, emit, signal } = options;
  const controlPlane = role === 'control-plane';
  const virtualIp = controlPlane && options.virtualIp ? options.virtualIp : undefined;
  if (virtualIp !== undefined && !options.netInterface) {
    throw new OcneError(
      'OCNE_CONFIG_MISSING',
      'A network interface must be provided with a virtual IP: set netInterface',
    );
  }
  const random = options.random ?? cryptoRandom;
  // Pins first: a bad destination kubeconfig fails before any connection.
  const caCertHashes = caCertHashesFromKubeconfig(options.destinationKubeconfig);
  const { kubernetes, inCluster } = await loadKubernetes('Moving a node between clusters');
  const signalOption = signal ? { signal } : {};
  const [source, destination] = await Promise.all([
    kubernetes.connect({ kubeconfig: options.sourceKubeconfig, ...signalOption }),
    kubernetes.connect({ kubeconfig: options.destinationKubeconfig, ...signalOption }),
  ]);

  const facts = await runStep(emit, 'Reading the source and destination clusters', async () => {
    const [existing, info] = await Promise.all([
      source.get({ apiVersion: 'v1', kind: 'Node', name: node }),
      kubernetes.readKubeadmConfig(destination),
    ]);
    if (existing === undefined) {
      throw new OcneError('OCNE_MIGRATE_NODE_NOT_FOUND', `Node ${node} does not exist in the source cluster`);
    }
    const cp = controlPlane
      ? await Promise.all([
          apiServerSecurePort(destination),
          inCluster.firstControlPlaneNode(destination, {
            code: 'OCNE_MIGRATE_DESTINATION_INCOMPLETE',
            message: 'Did not find any control plane nodes in the destination cluster',
          }),
        ])
      : undefined;
    return { info, securePort: cp?.[0], uploadNode: cp?.[1] };
  });
  const { host, port } = facts.info;
  const endpoint = hostPort(host, port);
  signal?.throwIfAborted();

  const token = generateBootstrapToken(random);
  await runStep(emit, 'Creating join token', () =>
    kubernetes.createBootstrapToken(destination, token, {
      description: `ocne migration of node ${node}`,
      ...signalOption,
    }),
  );

  let certificateKey: string | undefined;
  if (facts.uploadNode !== undefined) {
    certificateKey = generateCertificateKey(random);
    await inCluster.uploadCertificates(destination, facts.uploadNode, certificateKey, {
      description: 'Uploading control plane certificates to destination cluster',
      emit,
      signal,
    });
  }

  const securePort = facts.securePort ?? port;
  const joinConfig = kubeadmJoinConfig({
    kubernetesVersion: '',
    apiAddress: host,
    bindPort: port,
    bindPortAlt: securePort,
    // Decision: in a JoinConfiguration this only picks the local API port; a control-plane node
    // listens on the destination's kube-apiserver port (behind nginx with a virtual IP, behind the
    // load balancer without one), as upstream does (it always sets InternalLB for control planes).
    internalLB: controlPlane,
    serviceSubnet: '',
    podSubnet: '',
    cipherSuites: '',
    role,
    token,
    caCertHashes,
    ...(certificateKey !== undefined ? { certificateKey } : {}),
    kubeProxyMode: options.kubeProxyMode ?? 'iptables',
  });
  const vip =
    virtualIp !== undefined
      ? virtualIpIgnition({
          virtualIp,
          netInterface: options.netInterface ?? '',
          bindPort: port,
          bindPortAlt: securePort,
        })
      : undefined;
  const script = migrationScript(joinConfig, vip);

  emit?.({ type: 'log', level: 'info', message: 'Updating node with join configuration' });
  await kubernetes.runOnNodeOrThrow(source, node, ['sh', '-c', script], {
    description: `Moving node ${node} to the destination cluster`,
    ...(emit ? { emit } : {}),
    ...signalOption,
  });
  emit?.({ type: 'log', level: 'info', message: `Node ${node} successfully updated` });

  try {
    await source.delete({ apiVersion: 'v1', kind: 'Node', name: node }, signalOption);
  } catch (error) {
    if (signal?.aborted) throw error;
    emit?.({
      type: 'warning',
      code: 'OCNE_MIGRATE_NODE_NOT_DELETED',
      message: `Node ${node} joins the destination cluster, but it could not be deleted from the source cluster: ${(error as Error).message}`,
    });
  }
  return { token, endpoint, ...(certificateKey !== undefined ? { certificateKey } : {}) };
}
