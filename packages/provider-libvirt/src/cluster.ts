/**
 * The libvirt provider's cluster lifecycle (upstream `pkg/cluster/driver/libvirt`): `start` makes
 * the PKI and both kubeconfigs, the base volume, each node's overlay and Ignition volume and its
 * domain, and starts it; `delete` removes the domains (with NVRAM) and their volumes; `show` says
 * what exists. Names and layout are upstream's, so either tool deletes the other's clusters.
 *
 * Decisions (differences from upstream, on purpose): a domain that libvirt refuses to start is an
 * error at once (upstream drops it and waits 15 minutes); a domain that exists already is reused,
 * started if it is off (upstream fails to define it again); the kubeconfigs are written 0600
 * (upstream 0644); the tunnel port is recorded before the VM starts and checked free.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ensureBootImageVersion,
  type ResolvedClusterConfig,
  type ResolvedConfig,
  readConfigFiles,
} from '@ocne/config';
import { type EventSink, OcneError, runStep, writeFileAtomic } from '@ocne/core';
import {
  type ConfigFileInputs,
  caCertHashesFromKubeconfig,
  configFileInputs,
  cryptoRandom,
  generateBootstrapToken,
  generateCertificateKey,
  generateClusterPki,
  generateRsaKeyPair,
  NODE_FILE_KEYS,
  serializeIgnition,
} from '@ocne/ignition';
import { parse, stringify } from 'yaml';
import { type BootImageRegistryOptions, type LocalBootDisk, pullBootDisk } from './boot-image.js';
import { LibvirtClient } from './client.js';
import { type LibvirtConnection, resolveConnection } from './connection.js';
import { firstNodeIgnition, joiningNodeIgnition, type LibvirtIgnitionInput } from './ignition.js';
import {
  allocateVirtualIp,
  type ClusterAddress,
  clusterAddress,
  networkAddress,
  releaseClusterAddress,
  reserveClusterAddress,
  type SegmentChannel,
} from './ips.js';
import {
  inSegment,
  nodeIndex,
  type SegmentSubnet,
  segmentMac,
  segmentNodeAddress,
  segmentSubnet,
  segmentVirtualIp,
} from './segment.js';
import {
  defaultPoolPath,
  deleteVolume,
  ensureOverlayVolume,
  findOrCreatePool,
  type Pool,
  uploadBaseVolume,
  volumeExists,
  writeIgnitionVolume,
} from './storage.js';
import { type DomainNic, domainXml } from './templates.js';

/** What a boot image source is asked for. */
export interface BootImageRequest {
  arch: 'amd64' | 'arm64';
  kubernetesVersion: string;
  /** The OCK image, tagged with the Kubernetes version (`docker://container-registry.oracle.com/olcne/ock:1.33`). */
  bootVolumeContainerImage: string;
  signal: AbortSignal;
  emit: EventSink;
}

/** Returns the path of a local qcow2: the OCK image's `disk/boot.qcow2`. */
export type BootImageSource = (request: BootImageRequest) => Promise<string>;

/** The libvirt-side options of the provider (see `createLibvirtProvider`). */
export interface LibvirtOptions {
  /**
   * Where the boot image comes from. @defaultValue the OCK image `bootVolumeContainerImage` (tagged
   * with the Kubernetes version) pulled for the host's architecture into `~/.ocne/images` (reused
   * when complete), its layer 0's `disk/boot.qcow2`
   */
  bootImage?: BootImageSource;
  /** How the default boot image source reaches the registry. */
  registry?: BootImageRegistryOptions;
  /**
   * The domain type. @defaultValue `kvm` when the daemon offers KVM for the host's architecture,
   * else `qemu` (software emulation, with a CPU model it can run)
   */
  hypervisor?: 'kvm' | 'qemu' | 'hvf';
  /** A folder (writable by the daemon) where each domain's serial console is logged as `<domain>.log`. */
  serialLogDir?: string;
}

/** What the cluster operations are called with (a provider context with the cluster's configuration). */
export interface LibvirtContext {
  config: ResolvedClusterConfig;
  home: string;
  /** The environment of the cluster (the registry auth files of the default boot image source). */
  env?: Readonly<Record<string, string | undefined>>;
  emit: EventSink;
  signal: AbortSignal;
}

/** What every call works with. */
interface Session {
  config: ResolvedClusterConfig;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  emit: EventSink;
  signal: AbortSignal;
  options: LibvirtOptions;
  connection: LibvirtConnection;
  client: LibvirtClient;
}

/** Upstream's domain name of a node. */
export function domainName(cluster: string, role: 'control-plane' | 'worker', index: number): string {
  return `${cluster}-${role}-${index}`;
}

/** The volumes of a node's domain: its disk overlay and its Ignition. */
export function nodeVolumes(domain: string): { disk: string; ignition: string } {
  return { disk: `${domain}.qcow2`, ignition: `${domain}-init.ign` };
}

/** True when `domain` is a node of `cluster` (upstream's `isDomainFromCluster`). */
export function isClusterDomain(domain: string, cluster: string): boolean {
  const m = /^(.*)-(control-plane|worker)-(\d+)$/.exec(domain);
  return m !== null && m[1] === cluster;
}

/** The base volume: `boot.qcow2-<version>` for the default name, else the configured name as it is. */
export function baseVolumeName(config: ResolvedClusterConfig): string {
  const name = config.providers.libvirt.bootVolumeName;
  return name === 'boot.qcow2' || name === '' ? `boot.qcow2-${config.kubernetesVersion}` : name;
}

/** The two kubeconfigs upstream writes: `.local` (from this host, through the tunnel) and `.vm` (from the VM host). */
export function kubeconfigPaths(home: string, cluster: string): { local: string; vm: string } {
  return {
    local: join(home, '.kube', `kubeconfig.${cluster}.local`),
    vm: join(home, '.kube', `kubeconfig.${cluster}.vm`),
  };
}

/** The OCK image with the Kubernetes version as its tag (upstream's `EnsureBootImageVersion`). */
export function bootImageReference(config: ResolvedClusterConfig): string {
  return ensureBootImageVersion(config.kubernetesVersion, config.bootVolumeContainerImage);
}

async function openSession(context: LibvirtContext, options: LibvirtOptions): Promise<Session> {
  const { config, home, emit, signal } = context;
  const connection = await resolveConnection(config.providers.libvirt.uri, { home });
  const client = await LibvirtClient.connect(connection.uri, { emit });
  return { config, home, env: context.env ?? {}, emit, signal, options, connection, client };
}

async function openPool(s: Session): Promise<Pool> {
  const lv = s.config.providers.libvirt;
  const session = /\/session(\?|$)/.test(s.connection.configured);
  return findOrCreatePool(
    s.client,
    lv.storagePool || 'images',
    defaultPoolPath({ local: s.connection.local, session }),
    { local: s.connection.local, signal: s.signal },
  );
}

/** How a cluster's nodes are connected. */
interface Networking {
  /** On a libvirt network. */
  bridge: boolean;
  /** On a node segment of their own (not upstream's), when the configuration opts in. */
  segment?: SegmentSubnet;
}

/**
 * Networking as upstream decides it: bridge when the network is defined, user-only when no
 * network is active; a node segment instead when `providers.libvirt.segment.enabled` opts in (then
 * libvirt's networks are not looked at).
 */
async function networking(s: Session): Promise<Networking> {
  const configured = s.config.providers.libvirt.segment;
  if (configured.enabled) return { bridge: false, segment: segmentSubnet(configured.subnet) };
  const network = s.config.providers.libvirt.network;
  try {
    await s.client.virsh(['net-info', network], { signal: s.signal });
    return { bridge: true };
  } catch (error) {
    if (!(error instanceof OcneError) || error.code !== 'OCNE_LIBVIRT_FAILED') throw error;
  }
  const active = (await s.client.virsh(['net-list', '--name'], { signal: s.signal })).trim();
  if (active === '') return { bridge: false };
  throw new OcneError('OCNE_LIBVIRT_NETWORK_MISSING', `Network ${network} does not exist`);
}

const ARCH: Record<string, 'amd64' | 'arm64'> = { x86_64: 'amd64', aarch64: 'arm64' };

/** Makes the base volume from the boot image, unless the pool has it (upstream never re-checks it). */
async function ensureBaseVolume(s: Session, pool: Pool, arch: string): Promise<string> {
  const base = baseVolumeName(s.config);
  if (await volumeExists(s.client, pool.name, base, { signal: s.signal })) return base;
  const reference = bootImageReference(s.config);
  const platform = ARCH[arch];
  if (platform === undefined) {
    throw new OcneError(
      'OCNE_LIBVIRT_BOOT_IMAGE_MISSING',
      `the libvirt host's architecture ${arch} has no OCK boot image (only x86_64 and aarch64 have one)`,
    );
  }
  const request = {
    arch: platform,
    kubernetesVersion: s.config.kubernetesVersion,
    bootVolumeContainerImage: reference,
    signal: s.signal,
    emit: s.emit,
  };
  const disk: LocalBootDisk = s.options.bootImage
    ? { path: await s.options.bootImage(request), release: async () => {} }
    : await pullBootDisk({
        reference,
        arch: platform,
        home: s.home,
        env: s.env,
        registry: s.options.registry,
        emit: s.emit,
        signal: s.signal,
      });
  try {
    await runStep(s.emit, `Uploading boot image to volume ${base}`, () =>
      uploadBaseVolume(s.client, pool.name, base, disk.path, { signal: s.signal }),
    );
  } finally {
    await disk.release();
  }
  return base;
}

/**
 * Upstream's limits of user-mode networking (no libvirt network): one control-plane node, no
 * workers. A node segment lifts them.
 */
function checkUserNetworkLimits(net: Networking, extraControlPlanes: number, workers: number): void {
  if (net.bridge || net.segment !== undefined) return;
  if (workers > 0) {
    throw new OcneError(
      'OCNE_LIBVIRT_USER_NETWORK_LIMIT',
      'Adding worker nodes to user-networking clusters is not supported',
    );
  }
  if (extraControlPlanes > 0) {
    throw new OcneError(
      'OCNE_LIBVIRT_USER_NETWORK_LIMIT',
      'Adding more than one control plane nodes to user-networking clusters is not supported',
    );
  }
}

/**
 * The API address of a cluster on a libvirt network: the virtual IP, else the load balancer, else
 * (chosen under the ips.yaml lock) upstream's allocation from the network's first address.
 */
async function bridgeApiAddress(s: Session): Promise<string | ((used: readonly string[]) => string)> {
  if (s.config.apiEndpoint.address !== '') return s.config.apiEndpoint.address;
  const network = s.config.providers.libvirt.network;
  const xml = await s.client.virsh(['net-dumpxml', network], { signal: s.signal });
  const address = networkAddress(xml);
  if (address === undefined) {
    throw new OcneError(
      'OCNE_LIBVIRT_NO_VIRTUAL_IP',
      `libvirt network ${network} has no IPv4 address to take a virtual IP from: set virtualIp or loadBalancer`,
    );
  }
  return (used) => allocateVirtualIp(address, used);
}

/**
 * The API address of a cluster on a node segment: the virtual IP, which must lie in the segment,
 * else (chosen under the ips.yaml lock) one allocated as upstream allocates on a network.
 */
function segmentApiAddress(
  s: Session,
  subnet: SegmentSubnet,
): string | ((used: readonly string[]) => string) {
  const configured = s.config.apiEndpoint.address;
  if (configured === '') return (used) => segmentVirtualIp(subnet, used);
  if (!inSegment(subnet, configured)) {
    throw new OcneError(
      'OCNE_CONFIG_CONFLICT',
      `the virtual IP ${configured} is not in the node segment's subnet ${s.config.providers.libvirt.segment.subnet}: the nodes could not reach it`,
    );
  }
  return configured;
}

/** The NICs of a node: its user NIC (forwarding the tunnel on the first node), and its segment NIC. */
function nodeNics(
  s: Session,
  domain: string,
  net: Networking,
  record: ClusterAddress,
  first: boolean,
): { nics: DomainNic[]; segmentAddress?: string } {
  const lv = s.config.providers.libvirt;
  const user: DomainNic = {
    type: 'user',
    subnet: lv.slirpSubnet,
    slot: 2,
    forwards: first ? [{ listen: s.connection.targetIp, from: record.port, to: 6443 }] : [],
  };
  if (net.segment !== undefined && record.segment !== undefined) {
    const { role, index } = nodeIndex(domain);
    const segmentAddress = segmentNodeAddress(net.segment, role, index);
    const segment: DomainNic = {
      type: 'segment',
      channel: record.segment,
      mac: segmentMac(segmentAddress),
      bus: 1,
      slot: 0,
    };
    return { nics: [user, segment], segmentAddress };
  }
  if (!net.bridge) return { nics: [user] };
  const network: DomainNic = { type: 'network', network: lv.network, bus: 1, slot: 0 };
  // As upstream's: only the first node has a user NIC besides the network.
  return { nics: first ? [user, network] : [network] };
}

/** One node to make: its domain name and role. */
export interface LibvirtNodeName {
  domain: string;
  role: 'control-plane' | 'worker';
}

/**
 * The nodes a join adds, named as upstream names them: control-plane nodes then workers, each
 * numbered after the highest of its role the cluster has (a start makes control-plane 2..N and
 * workers 1..M).
 */
export function nodesToJoin(
  cluster: string,
  existing: readonly string[],
  counts: { controlPlaneNodes: number; workerNodes: number },
): LibvirtNodeName[] {
  const highest = (role: 'control-plane' | 'worker'): number => {
    let max = 0;
    for (const name of existing) {
      const prefix = `${cluster}-${role}-`;
      if (!name.startsWith(prefix)) continue;
      const n = Number(name.slice(prefix.length));
      if (Number.isInteger(n) && n > max) max = n;
    }
    return max;
  };
  const nodes: LibvirtNodeName[] = [];
  for (const role of ['control-plane', 'worker'] as const) {
    const count = role === 'control-plane' ? counts.controlPlaneNodes : counts.workerNodes;
    const from = highest(role);
    for (let i = 1; i <= count; i++) nodes.push({ domain: domainName(cluster, role, from + i), role });
  }
  return nodes;
}

/** What a node needs beyond its Ignition. */
interface NodePlan {
  domain: string;
  role: 'control-plane' | 'worker';
  ignition: string;
  nics: DomainNic[];
}

/**
 * Makes (or reuses) one node: overlay, Ignition volume, domain; starts it.
 * @returns true when the domain was created or started now, false when it was running already
 */
async function addNode(
  s: Session,
  pool: Pool,
  base: string,
  arch: string,
  hypervisor: 'kvm' | 'qemu' | 'hvf',
  node: NodePlan,
): Promise<boolean> {
  const volumes = nodeVolumes(node.domain);
  const existing = await s.client.domain(node.domain);
  if (existing !== undefined) {
    if (await s.client.isActive(existing)) return false;
    s.emit({ type: 'log', level: 'info', message: `Starting the existing domain ${node.domain}` });
    await s.client.startDomain(existing, node.domain);
    return true;
  }
  const lv = s.config.providers.libvirt;
  const size = node.role === 'control-plane' ? lv.controlPlaneNode : lv.workerNode;
  await ensureOverlayVolume(s.client, pool, volumes.disk, size.storage, base, { signal: s.signal });
  const ignitionPath = await writeIgnitionVolume(s.client, pool.name, volumes.ignition, node.ignition, {
    signal: s.signal,
  });
  const xml = domainXml({
    name: node.domain,
    hypervisor,
    arch,
    memory: size.memory,
    cpus: size.cpu,
    pool: pool.name,
    volume: volumes.disk,
    ignitionPath,
    nics: node.nics,
    secureBoot: lv.secureBoot,
    smm: lv.smm,
    ...(s.options.serialLogDir ? { serialLog: join(s.options.serialLogDir, `${node.domain}.log`) } : {}),
  });
  const domain = await s.client.defineDomain(xml);
  await s.client.startDomain(domain, node.domain);
  return true;
}

async function chooseHypervisor(s: Session, arch: string): Promise<'kvm' | 'qemu' | 'hvf'> {
  if (s.options.hypervisor) return s.options.hypervisor;
  if (s.connection.local && process.platform === 'darwin') return 'hvf';
  return (await s.client.supportsKvm(arch, { signal: s.signal })) ? 'kvm' : 'qemu';
}

/** Sets a kubeconfig's server URL. */
function withServer(kubeconfig: string, server: string): string {
  const doc = parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] };
  for (const c of doc.clusters ?? []) if (c.cluster) c.cluster.server = server;
  return stringify(doc);
}

const url = (host: string, port: number): string =>
  `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** What {@link startLibvirtCluster} did. */
export interface LibvirtStartResult {
  /** The `.local` kubeconfig (YAML): the admin kubeconfig, reaching the API server through the tunnel. */
  kubeconfig: string;
  kubeconfigPaths: { local: string; vm: string };
  /** The address and port the host reaches the API server at. */
  tunnel: { address: string; port: number };
  /** The API server address the nodes use. */
  apiAddress: string;
  /** The domains of the cluster. */
  domains: string[];
  /** False when the first node's domain existed already (it was reused and started if it was off). */
  created: boolean;
  /** Whether the nodes are on a libvirt network (bridge) or on user networking only. */
  bridge: boolean;
  /** The node segment's multicast channel and subnet, when the nodes are on one (not upstream's). */
  segment?: SegmentChannel;
}

/** Runs `work` with a session, always disconnecting. */
async function withSession<T>(
  context: LibvirtContext,
  options: LibvirtOptions,
  work: (s: Session) => Promise<T>,
): Promise<T> {
  const s = await openSession(context, options);
  try {
    return await work(s);
  } finally {
    await s.client.close();
  }
}

async function nodeFiles(config: ResolvedConfig, signal: AbortSignal): Promise<ConfigFileInputs> {
  const files = await readConfigFiles(config.cluster, {
    keys: NODE_FILE_KEYS,
    provenance: config.provenance,
    signal,
  });
  return configFileInputs(config.cluster, files);
}

/**
 * Creates the cluster's first control-plane node (or reuses the domain that exists) and returns
 * the admin kubeconfig. The nodes beyond the first need the API server (a join token) and are
 * added by {@link joinLibvirtNodes} once it answers (the provider's `start` does both).
 */
export async function startLibvirtCluster(
  context: Omit<LibvirtContext, 'config'> & { config: ResolvedConfig },
  options: LibvirtOptions,
): Promise<LibvirtStartResult> {
  return (await startFirstNode(context, options, { joinLater: true })).result;
}

/**
 * {@link startLibvirtCluster}, plus the key `kubeadm init` uploads the control-plane certificates
 * with (when the node was made now), which control-plane nodes joined by the same start need.
 */
export async function startFirstNode(
  context: Omit<LibvirtContext, 'config'> & { config: ResolvedConfig },
  options: LibvirtOptions,
  nodes: {
    /** False when nothing will join the other nodes (a start without the Kubernetes side): they are refused. */
    joinLater: boolean;
  },
): Promise<{ result: LibvirtStartResult; certificateKey?: string }> {
  const cluster = context.config.cluster;
  const { emit, signal, home } = context;
  const files = await nodeFiles(context.config, signal);
  return withSession({ ...context, config: cluster }, options, async (s) => {
    const net = await networking(s);
    const { bridge } = net;
    checkUserNetworkLimits(net, cluster.controlPlaneNodes - 1, cluster.workerNodes);
    if (!nodes.joinLater && cluster.controlPlaneNodes + cluster.workerNodes > 1) {
      throw new OcneError(
        'OCNE_LIBVIRT_JOIN_NEEDS_CLUSTER',
        'nodes beyond the first control-plane node join through the API server: a start with kubernetes: false makes only one node',
      );
    }
    const paths = kubeconfigPaths(home, cluster.name);
    const first = domainName(cluster.name, 'control-plane', 1);
    const existing = await s.client.domain(first);
    if (existing !== undefined) {
      const kubeconfig = await readFile(paths.local, 'utf8').catch(() => undefined);
      const record = await clusterAddress(home, cluster.name);
      if (kubeconfig === undefined || record === undefined) {
        throw new OcneError(
          'OCNE_CLUSTER_INCONSISTENT',
          `the domain ${first} exists but the kubeconfig ${paths.local} or its ips.yaml record does not: delete the cluster first`,
        );
      }
      if (!(await s.client.isActive(existing))) {
        emit({ type: 'log', level: 'info', message: `Starting the existing domain ${first}` });
        await s.client.startDomain(existing, first);
      } else {
        emit({
          type: 'log',
          level: 'info',
          message: `Cluster ${cluster.name} has its domain ${first} running already`,
        });
      }
      const domains = (await s.client.domainNames()).filter((n) => isClusterDomain(n, cluster.name)).sort();
      return {
        result: {
          kubeconfig,
          kubeconfigPaths: paths,
          tunnel: { address: s.connection.targetIp, port: record.port },
          apiAddress: record.ip,
          domains,
          created: false,
          bridge,
          ...(record.segment ? { segment: record.segment } : {}),
        },
      };
    }
    emit({
      type: 'log',
      level: 'info',
      message: `Creating new Kubernetes cluster with version ${cluster.kubernetesVersion} named ${cluster.name}`,
    });
    const arch = await s.client.hostArch();
    const hypervisor = await chooseHypervisor(s, arch);
    const pool = await openPool(s);
    const base = await ensureBaseVolume(s, pool, arch);
    const record = await reserveClusterAddress({
      home,
      name: cluster.name,
      host: s.connection.host,
      ip: net.segment ? segmentApiAddress(s, net.segment) : bridge ? await bridgeApiAddress(s) : '127.0.0.1',
      local: s.connection.local,
      listenAddress: s.connection.targetIp,
      ...(net.segment ? { segmentSubnet: cluster.providers.libvirt.segment.subnet } : {}),
      signal,
    });
    const apiAddress = record.ip;
    if (record.segment !== undefined) {
      emit({
        type: 'log',
        level: 'info',
        message: `Using virtual IP ${apiAddress} on the node segment ${cluster.providers.libvirt.segment.subnet} (multicast ${record.segment.group}:${record.segment.port} on the loopback)`,
      });
    }
    if (bridge && cluster.apiEndpoint.address === '') {
      emit({
        type: 'log',
        level: 'info',
        message: `Using virtual IP ${apiAddress} on libvirt network ${cluster.providers.libvirt.network}`,
      });
    }
    const certificateKey = generateCertificateKey(cryptoRandom);
    let made = false;
    try {
      const [caKeys, adminKeys] = await Promise.all([
        generateRsaKeyPair({ signal }),
        generateRsaKeyPair({ signal }),
      ]);
      const pki = await generateClusterPki({
        apiAddress,
        apiPort: 6443,
        serviceSubnets: cluster.serviceSubnet.split(',').map((x) => x.trim()),
        subject: {
          country: cluster.certificateInformation.country,
          org: cluster.certificateInformation.org,
          state: cluster.certificateInformation.state,
        },
        now: new Date(),
        random: cryptoRandom,
        caKeys,
        adminKeys,
        signal,
      });
      const local = withServer(pki.kubeconfig, url(s.connection.targetIp, record.port));
      await mkdir(join(home, '.kube'), { recursive: true, mode: 0o700 });
      await writeFileAtomic(paths.vm, withServer(pki.kubeconfig, url(apiAddress, 6443)), {
        mode: 0o600,
        signal,
      });
      await writeFileAtomic(paths.local, local, { mode: 0o600, signal });
      made = true;
      const input: LibvirtIgnitionInput = {
        cluster,
        files,
        apiAddress,
        internalLB: apiAddress !== '127.0.0.1' && cluster.loadBalancer === '',
        bridge,
        targetIp: s.connection.targetIp,
        ...(net.segment ? { segmentPrefix: net.segment.prefix } : {}),
      };
      const { nics, segmentAddress } = nodeNics(s, first, net, record, true);
      const ignition = serializeIgnition(
        firstNodeIgnition(
          input,
          {
            domain: first,
            first: true,
            role: 'control-plane',
            ...(segmentAddress ? { segmentAddress } : {}),
          },
          { caCertPem: pki.caCertPem, caKeyPem: pki.caKeyPem, certificateKey },
        ),
      );
      await runStep(emit, `Starting domain ${first}`, () =>
        addNode(s, pool, base, arch, hypervisor, { domain: first, role: 'control-plane', ignition, nics }),
      );
      return {
        result: {
          kubeconfig: local,
          kubeconfigPaths: paths,
          tunnel: { address: s.connection.targetIp, port: record.port },
          apiAddress,
          domains: [first],
          created: true,
          bridge,
          ...(record.segment ? { segment: record.segment } : {}),
        },
        certificateKey,
      };
    } catch (error) {
      // Nothing half-made stays: the next start would take it for a cluster.
      // (also the volumes of a node whose domain could not be defined)
      await removeClusterDomains(s, cluster.name, [first]).catch(() => {});
      if (made) await Promise.all([rm(paths.local, { force: true }), rm(paths.vm, { force: true })]);
      await releaseClusterAddress(home, cluster.name).catch(() => {});
      throw error;
    }
  });
}

/** What {@link joinLibvirtNodes} is asked for. */
export interface LibvirtJoinRequest {
  controlPlaneNodes: number;
  workerNodes: number;
  /** The admin kubeconfig (YAML) the join token is made through: the cluster's `.local` one. */
  kubeconfig: string;
  /**
   * The key the first node's `kubeadm init` uploaded the control-plane certificates with. Without it
   * control-plane nodes cannot join (the upload expires after two hours, and only a start has it).
   */
  certificateKey?: string;
}

/** What {@link joinLibvirtNodes} made. */
export interface LibvirtJoinResult {
  /** The domains made and started. */
  domains: string[];
  /** The bootstrap token the nodes join with. */
  token: string;
}

/**
 * Adds nodes to a running cluster on a libvirt network, as upstream's `join` inside `create`
 * does: a bootstrap token made through the API server, the CA hash of the `.vm` kubeconfig, then
 * per node an overlay, a join Ignition volume and a domain on the network, started (there is no
 * wait: the nodes join on their own). Nodes made by a call that fails are removed again.
 */
export async function joinLibvirtNodes(
  context: Omit<LibvirtContext, 'config'> & { config: ResolvedConfig },
  options: LibvirtOptions,
  request: LibvirtJoinRequest,
): Promise<LibvirtJoinResult> {
  const cluster = context.config.cluster;
  const { emit, signal, home } = context;
  return withSession({ ...context, config: cluster }, options, async (s) => {
    const record = await clusterAddress(home, cluster.name);
    const net = await networking(s);
    if (net.segment !== undefined && record !== undefined && record.segment === undefined) {
      throw new OcneError(
        'OCNE_LIBVIRT_SEGMENT_MISSING',
        `cluster ${cluster.name} was started without a node segment (its ips.yaml record has none): its nodes cannot join one`,
      );
    }
    const { bridge } = net;
    checkUserNetworkLimits(net, request.controlPlaneNodes, request.workerNodes);
    if (request.controlPlaneNodes > 0 && request.certificateKey === undefined) {
      throw new OcneError(
        'OCNE_NOT_IMPLEMENTED',
        'joining control-plane nodes to a running libvirt cluster needs its certificates uploaded again; this version joins control-plane nodes only while the cluster starts',
      );
    }
    const paths = kubeconfigPaths(home, cluster.name);
    const vm = await readFile(paths.vm, 'utf8').catch(() => undefined);
    const existing = (await s.client.domainNames()).filter((n) => isClusterDomain(n, cluster.name));
    const first = domainName(cluster.name, 'control-plane', 1);
    if (record === undefined || vm === undefined || !existing.includes(first)) {
      throw new OcneError(
        'OCNE_LIBVIRT_JOIN_NEEDS_CLUSTER',
        `cluster ${cluster.name} has no first node to join (domain ${first}, ${paths.vm} and its ips.yaml record): start it first`,
      );
    }
    const nodes = nodesToJoin(cluster.name, existing, request);
    const token = generateBootstrapToken(cryptoRandom);
    const { createJoinToken } = await import('./kube.js');
    await createJoinToken({ kubeconfig: request.kubeconfig, token, cluster: cluster.name, emit, signal });
    const files = await nodeFiles(context.config, signal);
    const input: LibvirtIgnitionInput = {
      cluster,
      files,
      apiAddress: record.ip,
      internalLB: record.ip !== '127.0.0.1' && cluster.loadBalancer === '',
      bridge,
      targetIp: s.connection.targetIp,
      ...(net.segment ? { segmentPrefix: net.segment.prefix } : {}),
    };
    const join = {
      token,
      caCertHashes: caCertHashesFromKubeconfig(vm),
    };
    const arch = await s.client.hostArch();
    const hypervisor = await chooseHypervisor(s, arch);
    const pool = await openPool(s);
    const base = await ensureBaseVolume(s, pool, arch);
    const made: string[] = [];
    try {
      for (const node of nodes) {
        const { nics, segmentAddress } = nodeNics(s, node.domain, net, record, false);
        const ignition = serializeIgnition(
          joiningNodeIgnition(
            input,
            {
              domain: node.domain,
              first: false,
              role: node.role,
              ...(segmentAddress ? { segmentAddress } : {}),
            },
            node.role === 'control-plane' && request.certificateKey !== undefined
              ? { ...join, certificateKey: request.certificateKey }
              : join,
          ),
        );
        made.push(node.domain);
        await runStep(emit, `Starting domain ${node.domain}`, () =>
          addNode(s, pool, base, arch, hypervisor, { ...node, ignition, nics }),
        );
      }
    } catch (error) {
      await removeNodes(s, made).catch(() => {});
      throw error;
    }
    return { domains: made, token };
  });
}

/** Destroys, undefines (with NVRAM) and deletes the volumes of the named domains. */
async function removeNodes(s: Session, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const pool = await openPool(s);
  for (const name of names) {
    const domain = await s.client.domain(name);
    if (domain !== undefined) {
      await s.client.destroyDomain(domain, name);
      await s.client.undefineDomain(name);
    }
    const volumes = nodeVolumes(name);
    await deleteVolume(s.client, pool.name, volumes.ignition, {});
    await deleteVolume(s.client, pool.name, volumes.disk, {});
  }
}

/** Removes every domain of the cluster (and `also`, made half-way); returns the names found. */
async function removeClusterDomains(
  s: Session,
  cluster: string,
  also: readonly string[] = [],
): Promise<string[]> {
  const found = (await s.client.domainNames()).filter((n) => isClusterDomain(n, cluster));
  await removeNodes(s, [...new Set([...found, ...also])]);
  return found;
}

/**
 * Deletes the cluster as upstream does: every domain named `<cluster>-(control-plane|worker)-<n>`
 * (running or not) with its NVRAM and both volumes, both kubeconfigs and the ips.yaml record. The
 * base volume and the pool stay.
 */
export async function deleteLibvirtCluster(
  context: LibvirtContext,
  options: LibvirtOptions,
): Promise<string[]> {
  const { config, home, emit } = context;
  const removed = await withSession(context, options, async (s) => {
    const names = await removeClusterDomains(s, config.name);
    for (const name of names) emit({ type: 'log', level: 'info', message: `Deleted domain ${name}` });
    return names;
  });
  const paths = kubeconfigPaths(home, config.name);
  for (const path of [paths.local, paths.vm]) {
    try {
      await rm(path);
      emit({ type: 'log', level: 'info', message: `Deleting file ${path}` });
    } catch {
      // a missing kubeconfig is fine
    }
  }
  await releaseClusterAddress(home, config.name);
  return removed;
}

/** One node of a cluster as `show` reports it. */
export interface LibvirtNodeInfo {
  domain: string;
  /** `running`, or `shut off` (anything not active). */
  state: 'running' | 'shut off';
  volumes: { disk: string; ignition: string };
}

/** What exists of a cluster. */
export interface LibvirtClusterInfo {
  name: string;
  uri: string;
  nodes: LibvirtNodeInfo[];
  /** Where the host reaches the API server, when the cluster has an ips.yaml record. */
  tunnel?: { address: string; port: number };
  kubeconfigPaths: { local: string; vm: string };
}

/** What exists of the cluster: its domains and their state, the tunnel, the kubeconfig paths. */
export async function showLibvirtCluster(
  context: LibvirtContext,
  options: LibvirtOptions = {},
): Promise<LibvirtClusterInfo> {
  const { config, home } = context;
  return withSession(context, options, async (s) => {
    const names = (await s.client.domainNames()).filter((n) => isClusterDomain(n, config.name)).sort();
    const nodes: LibvirtNodeInfo[] = [];
    for (const name of names) {
      const domain = await s.client.domain(name);
      const active = domain !== undefined && (await s.client.isActive(domain));
      nodes.push({ domain: name, state: active ? 'running' : 'shut off', volumes: nodeVolumes(name) });
    }
    const record = await clusterAddress(home, config.name);
    return {
      name: config.name,
      uri: s.connection.uri,
      nodes,
      ...(record ? { tunnel: { address: s.connection.targetIp, port: record.port } } : {}),
      kubeconfigPaths: kubeconfigPaths(home, config.name),
    };
  });
}
