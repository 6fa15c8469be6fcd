/**
 * The bring-your-own provider (upstream `pkg/cluster/driver/byo`): the nodes are machines the
 * user boots with the Ignition this module makes. `start` makes the cluster's PKI and the first
 * control-plane node's Ignition; `join` makes the Ignition of more nodes and the commands that
 * let them in. Neither needs the cluster to be reachable, except for what the Kubernetes support
 * adds later (automatic token creation, the upload-certs node lookup).
 */
import type { ConfigFiles, ResolvedClusterConfig } from '@ocne/config';
import { type EventSink, OcneError, runStep } from '@ocne/core';
import {
  apiServerUrl,
  caCertHashesFromKubeconfig,
  clusterNodeInput,
  configFileInputs,
  cryptoRandom,
  generateBootstrapToken,
  generateCertificateKey,
  generateClusterPki,
  generateRsaKeyPair,
  type IgnitionConfig,
  initNodeIgnition,
  joinNodeIgnition,
  type NodeRole,
  type RandomSource,
} from '@ocne/ignition';
import { loadKubernetes } from './kube.js';

/** What every BYO call takes. */
export interface ByoOptions {
  /** The resolved cluster configuration. */
  config: ResolvedClusterConfig;
  /**
   * The files the configuration names, as `readConfigFiles` of `@ocne/config` read them: needed
   * when it sets `sshPublicKeyPath` (without `sshPublicKey`) or `extraIgnition`, which otherwise
   * fail with `OCNE_CONFIG_FILE_NOT_READ`. Nothing here reads files.
   */
  files?: ConfigFiles;
  /** Receives step, log and instruction events. */
  emit?: EventSink;
  signal?: AbortSignal;
  /** Randomness for tokens, keys and serials. @defaultValue `cryptoRandom` */
  random?: RandomSource;
  /** The time certificates start. @defaultValue now */
  now?: Date;
}

/**
 * Checks what the BYO provider needs: a network interface, and exactly one of a virtual IP
 * and a load balancer (upstream's texts).
 */
export function validateByoConfig(config: ResolvedClusterConfig): void {
  if (config.providers.byo.networkInterface === '') {
    throw new OcneError(
      'OCNE_CONFIG_MISSING',
      'A network interface must be provided: set providers.byo.networkInterface',
    );
  }
  if (config.apiEndpoint.address === '') {
    throw new OcneError(
      'OCNE_CONFIG_MISSING',
      'A virtual IP or load balancer is required: set virtualIp or loadBalancer',
    );
  }
  if (config.apiEndpoint.internalLB && config.loadBalancer !== '') {
    throw new OcneError('OCNE_CONFIG_CONFLICT', 'Can not specify both virtual IP and load balancer');
  }
}

function nodeInput({ config, files }: ByoOptions) {
  return clusterNodeInput(config, configFileInputs(config, files));
}

/** What {@link byoStart} makes. */
export interface ByoStartResult {
  /** Ignition of the first control-plane node. */
  ignition: IgnitionConfig;
  /** The admin kubeconfig (YAML; it holds the admin key: store it with mode 0600). */
  kubeconfig: string;
  /** The API server URL in the kubeconfig. */
  server: string;
}

/**
 * Makes the cluster's CA and admin credentials and the Ignition that boots the first
 * control-plane node (`kubeadm init`). Nothing is written: the caller stores the kubeconfig.
 *
 * Decision: the kubeconfig's server uses `kubeApiServerBindPort`; upstream hard-codes 6443 (the
 * default, so the two agree unless the port is changed, where upstream's kubeconfig is wrong).
 */
export async function byoStart(options: ByoOptions): Promise<ByoStartResult> {
  const { config, emit, signal } = options;
  validateByoConfig(config);
  const random = options.random ?? cryptoRandom;
  const input = nodeInput(options);
  signal?.throwIfAborted();
  emit?.({
    type: 'log',
    level: 'info',
    message: 'Generating the cluster certificate authority and admin credentials',
  });
  const [caKeys, adminKeys] = await Promise.all([
    generateRsaKeyPair(signal ? { signal } : {}),
    generateRsaKeyPair(signal ? { signal } : {}),
  ]);
  const apiAddress = config.apiEndpoint.address;
  const pki = await generateClusterPki({
    apiAddress,
    apiPort: config.kubeApiServerBindPort,
    serviceSubnets: config.serviceSubnet.split(',').map((s) => s.trim()),
    subject: {
      country: config.certificateInformation.country,
      org: config.certificateInformation.org,
      state: config.certificateInformation.state,
    },
    now: options.now ?? new Date(),
    random,
    caKeys,
    adminKeys,
    ...(signal ? { signal } : {}),
  });
  const ignition = initNodeIgnition({
    ...input,
    caCertPem: pki.caCertPem,
    caKeyPem: pki.caKeyPem,
    certificateKey: generateCertificateKey(random),
    expectWorkers: config.workerNodes > 0,
  });
  return {
    ignition,
    kubeconfig: pki.kubeconfig,
    server: apiServerUrl(apiAddress, config.kubeApiServerBindPort),
  };
}

/** Options of {@link byoJoin}. */
export interface ByoJoinOptions extends ByoOptions {
  /** The cluster's admin kubeconfig (YAML): the CA pins come from it. */
  kubeconfig: string;
  role: NodeRole;
  /**
   * Name of the first control-plane node, for the upload-certs command of control-plane joins.
   * Looking it up needs the cluster; without it the command carries a placeholder and a warning
   * says so.
   */
  firstControlPlaneNode?: string;
}

/** What {@link byoJoin} makes. */
export interface ByoJoinResult {
  ignition: IgnitionConfig;
  /** The bootstrap token in the join configuration. */
  token: string;
  /** For control-plane joins: the key the certificates must be uploaded with. */
  certificateKey?: string;
  /** The commands to run before the node boots (upstream prints them on stderr). */
  commands: string[];
  /** Upstream's instruction text, with the commands. */
  instructions: string;
}

/** Placeholder for the first control-plane node when it cannot be looked up. */
export const FIRST_CONTROL_PLANE_PLACEHOLDER = '<first-control-plane-node>';

/**
 * Makes the Ignition of a node that joins the cluster and the commands that admit it:
 * `kubeadm token create <token>` and, for control-plane nodes, the upload-certs command. With
 * `providers.byo.automaticTokenCreation` both happen in the cluster instead (through the
 * kubeconfig: the token as a Secret, the upload from an admin pod on the first control-plane
 * node) and there are no commands.
 */
export async function byoJoin(options: ByoJoinOptions): Promise<ByoJoinResult> {
  const { config, emit } = options;
  validateByoConfig(config);
  const automatic = config.providers.byo.automaticTokenCreation;
  const random = options.random ?? cryptoRandom;
  const input = nodeInput(options);
  const token = generateBootstrapToken(random);
  const caCertHashes = caCertHashesFromKubeconfig(options.kubeconfig);
  const certificateKey = options.role === 'control-plane' ? generateCertificateKey(random) : undefined;
  const ignition = joinNodeIgnition({
    ...input,
    role: options.role,
    token,
    caCertHashes,
    ...(certificateKey ? { certificateKey } : {}),
  });
  if (automatic) {
    // Kubernetes access is loaded only here: a BYO start or a manual join never needs it.
    const { kubernetes, inCluster } = await loadKubernetes(
      'Automatic token creation (providers.byo.automaticTokenCreation)',
    );
    const { connect, createBootstrapToken } = kubernetes;
    const signalOption = options.signal ? { signal: options.signal } : {};
    const kube = await connect({ kubeconfig: options.kubeconfig, ...signalOption });
    if (certificateKey !== undefined) {
      // A control-plane node fetches the cluster certificates with this key: upload them first,
      // from the first control-plane node, as upstream does.
      const node =
        options.firstControlPlaneNode ??
        (await inCluster.firstControlPlaneNode(kube, {
          code: 'OCNE_BYO_NEEDS_CLUSTER',
          message: 'Did not find any control plane nodes',
        }));
      await inCluster.uploadCertificates(kube, node, certificateKey, {
        description: `Uploading the control-plane certificates from node ${node}`,
        emit,
        signal: options.signal,
      });
    }
    await runStep(emit, 'Creating join token', () =>
      createBootstrapToken(kube, token, { description: `ocne join of ${config.name}`, ...signalOption }),
    );
    return { ignition, token, ...(certificateKey ? { certificateKey } : {}), commands: [], instructions: '' };
  }
  const tokenCommand = `kubeadm token create ${token}`;
  if (options.role === 'worker') {
    return {
      ignition,
      token,
      commands: [tokenCommand],
      instructions: `Run this command before booting the new node to allow it to join the cluster: ${tokenCommand}\n`,
    };
  }
  let node = options.firstControlPlaneNode;
  if (node === undefined) {
    node = FIRST_CONTROL_PLANE_PLACEHOLDER;
    emit?.({
      type: 'warning',
      code: 'OCNE_BYO_NEEDS_CLUSTER',
      message: `the first control-plane node is not known (a manual join does not ask the cluster; give it as firstControlPlaneNode, or set providers.byo.automaticTokenCreation to look it up): replace ${FIRST_CONTROL_PLANE_PLACEHOLDER} in the upload-certs command with its name`,
    });
  }
  const upload = `echo "chroot /hostroot kubeadm init phase upload-certs --certificate-key ${certificateKey} --upload-certs" | ocne cluster console --node ${node}`;
  return {
    ignition,
    token,
    ...(certificateKey ? { certificateKey } : {}),
    commands: [upload, tokenCommand],
    instructions: `Run these commands before booting the new node to allow it to join the cluster:\n\t${upload}\n\t${tokenCommand}\n`,
  };
}
