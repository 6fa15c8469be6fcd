/**
 * The workload-cluster half of upstream's `oci` driver `Start()` (`pkg/cluster/driver/oci/driver.go`):
 * waiting for the kubeconfig Secret CAPI writes into the management cluster, saving it, and the
 * OCI cloud controller manager (`oci-ccm`) settings and Secrets derived from the `OCICluster`.
 */
import { join } from 'node:path';
import { type OciProvider, stringifyYaml } from '@ocne/config';
import { type EventSink, isOcneError, OcneError, runStep, writeFileAtomic } from '@ocne/core';
import type { KubeClient } from '@ocne/kubernetes';
import type { OCICluster } from './generated/types.js';
import { CLUSTER_NAME_LABEL } from './objects.js';
import { EMPTY_PASSPHRASE_PLACEHOLDER, type OciCredentials } from './providers.js';

/** The user's home folder; `node:os` is loaded only when no home is given (the CLI gives `HOME`). */
const homedir = (): string => process.getBuiltinModule('node:os').homedir();

/** Upstream's waiter text while the kubeconfig Secret is awaited. */
export const WAITING_FOR_KUBECONFIG = 'Waiting for kubeconfig';

/** How long upstream waits for the kubeconfig Secret: 20 minutes. */
export const KUBECONFIG_TIMEOUT_MS = 1_200_000;

/** Options of {@link waitForWorkloadKubeconfig}. */
export interface WaitForWorkloadKubeconfigOptions {
  /** A client of the management cluster. */
  client: KubeClient;
  /** Namespace of the CAPI resources (that of the `Cluster` object). */
  namespace: string;
  /** The value of the cluster's `cluster.x-k8s.io/cluster-name` label. */
  clusterName: string;
  /** @defaultValue 1200000 (20 minutes, as upstream) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives the step `Waiting for kubeconfig` (started, then succeeded or failed). */
  emit?: EventSink;
}

/** The fields of a Secret the wait reads. */
interface SecretFields {
  metadata?: { name?: string };
  data?: Record<string, string>;
}

/** Throws `OCNE_CANCELLED` (with the signal's reason as `cause`) when `signal` has aborted. */
function throwIfCancelled(signal: AbortSignal | undefined, doing: string): void {
  if (signal?.aborted) {
    throw new OcneError('OCNE_CANCELLED', `${doing}: cancelled`, { cause: signal.reason });
  }
}

const isKubeconfigSecret = (s: SecretFields): boolean => (s.metadata?.name ?? '').includes('kubeconfig');

/** The decoded `value` of the first (by name) kubeconfig Secret that has a non-empty one. */
function kubeconfigOf(secrets: readonly SecretFields[]): string | undefined {
  const ready = secrets
    .filter((s) => isKubeconfigSecret(s) && (s.data?.value ?? '') !== '')
    .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const value = ready[0]?.data?.value;
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/**
 * Waits for the kubeconfig CAPI writes for a workload cluster, as upstream's waiter
 * `Waiting for kubeconfig` does: a Secret in `namespace` labelled
 * `cluster.x-k8s.io/cluster-name=<clusterName>` whose name contains `kubeconfig`. Returns its
 * data key `value`, decoded. Watch-based (one list, then a watch that resumes after drops).
 *
 * @remarks
 * A matching Secret without a `value` (or with an empty one) does not end the wait: the wait goes
 * on until a Secret has one (upstream fails at once on such a Secret). When several match, the
 * first by name wins (upstream takes the first the API lists, which is the same order). The
 * kubeconfig never appears in events or error messages.
 *
 * @throws `OcneError` `OCNE_CAPI_KUBECONFIG_TIMEOUT` naming the namespace and cluster (and a
 *   matching Secret that has no `value`, if one was seen) when nothing came within `timeoutMs`;
 *   `OCNE_CANCELLED` when `signal` aborts; the `KubeError` of a failed list or watch.
 */
export async function waitForWorkloadKubeconfig(options: WaitForWorkloadKubeconfigOptions): Promise<string> {
  const { client, namespace, clusterName, signal, emit } = options;
  const timeoutMs = options.timeoutMs ?? KUBECONFIG_TIMEOUT_MS;
  const doing = `${WAITING_FOR_KUBECONFIG} of cluster ${namespace}/${clusterName}`;
  return runStep(emit, WAITING_FOR_KUBECONFIG, async () => {
    throwIfCancelled(signal, doing);
    let seen: readonly SecretFields[] = [];
    try {
      const secrets = await client.waitFor<SecretFields & { apiVersion?: string; kind?: string }>(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace,
          labelSelector: `${CLUSTER_NAME_LABEL}=${clusterName}`,
        },
        (objects) => {
          seen = objects;
          return kubeconfigOf(objects) !== undefined;
        },
        {
          timeoutMs,
          description: doing,
          ...(signal ? { signal } : {}),
        },
      );
      return kubeconfigOf(secrets)!;
    } catch (error) {
      // An abort arrives as waitFor's OCNE_CANCELLED (`<doing>: cancelled`), whatever its reason.
      if (isOcneError(error) && error.code === 'OCNE_KUBE_TIMEOUT') {
        const empty = seen.filter(isKubeconfigSecret).map((s) => s.metadata?.name ?? '');
        const hint =
          empty.length > 0
            ? `; kubeconfig secrets without a data key "value": ${empty.sort().join(', ')}`
            : '';
        throw new OcneError(
          'OCNE_CAPI_KUBECONFIG_TIMEOUT',
          `no kubeconfig found for cluster ${clusterName} in namespace ${namespace} after ${timeoutMs} ms${hint}`,
          { cause: error },
        );
      }
      throw error;
    }
  });
}

/**
 * Where upstream saves a workload cluster's kubeconfig: `~/.kube/kubeconfig.<name>`.
 *
 * @param name - The cluster name.
 * @param home - The home folder (default: the user's, `os.homedir()`).
 */
export function workloadKubeconfigPath(name: string, home: string = homedir()): string {
  return join(home, '.kube', `kubeconfig.${name}`);
}

/** Options of {@link writeWorkloadKubeconfig}. */
export interface WriteWorkloadKubeconfigOptions {
  signal?: AbortSignal;
}

/**
 * Saves a workload cluster's kubeconfig atomically: a temp file of mode 0600 in the same folder,
 * fsync, then a rename over `path`, so a reader sees the old file or the new one, never a part.
 * A failed write leaves the previous file as it was and removes the temp file. Missing parent
 * folders are made with mode 0700. When `path` is a symbolic link, the file it points to is
 * replaced and the link is kept.
 *
 * @remarks
 * Upstream writes this file with mode 0700; it holds the cluster-admin credentials, so this
 * function uses 0600 (whatever the umask). The contents never appear in errors.
 *
 * @throws `OcneError` `OCNE_FILE_WRITE_FAILED` (with `cause`) when a step fails;
 *   `OCNE_CANCELLED` when `signal` aborts before the rename.
 */
export async function writeWorkloadKubeconfig(
  path: string,
  contents: string,
  options: WriteWorkloadKubeconfigOptions = {},
): Promise<void> {
  const { signal } = options;
  throwIfCancelled(signal, `writing ${path}`);
  try {
    await writeFileAtomic(path, contents, { mode: 0o600, signal });
  } catch (error) {
    throwIfCancelled(signal, `writing ${path}`);
    throw error;
  }
}

/**
 * The part of an `OCICluster` (`infrastructure.cluster.x-k8s.io/v1beta2`) that
 * {@link ociCcmSettings} reads: any `OCICluster`, with or without `apiVersion` and `kind`.
 */
export type OciClusterNetworkFields = Partial<Pick<OCICluster, 'metadata' | 'spec'>>;

/** The VCN and load-balancer subnets `oci-ccm` uses. */
export interface OciCcmSettings {
  /** VCN OCID. */
  vcn: string;
  loadBalancer: {
    /** OCID of the first load-balancer subnet. */
    subnet1: string;
    /** OCID of the second load-balancer subnet; empty when the cluster has one (as upstream). */
    subnet2: string;
  };
}

/** The configured values {@link ociCcmSettings} prefers: `providers.oci.vcn` and `providers.oci.loadBalancer`. */
export type OciCcmConfigured = Pick<OciProvider, 'vcn' | 'loadBalancer'>;

/** The configured settings when all three are set, as upstream checks first. */
function configuredSettings(configured: OciCcmConfigured | undefined): OciCcmSettings | undefined {
  const vcn = configured?.vcn ?? '';
  const subnet1 = configured?.loadBalancer?.subnet1 ?? '';
  const subnet2 = configured?.loadBalancer?.subnet2 ?? '';
  return vcn !== '' && subnet1 !== '' && subnet2 !== ''
    ? { vcn, loadBalancer: { subnet1, subnet2 } }
    : undefined;
}

/**
 * Works out the `oci-ccm` VCN and load-balancer subnets exactly as upstream's
 * `getOciCcmOptions` does. When `configured` has the VCN and both subnets, those are the
 * answer. Otherwise the VCN is `spec.networkSpec.vcn.id` of the `OCICluster` and the subnets
 * come from its subnets with role `service-lb`, in order: subnet1 is the first, subnet2 the last
 * when there are two or more; with only one, subnet2 stays as configured (empty when it is not).
 * A configured VCN or subnet1 is replaced when not all three are configured. Pure.
 *
 * @remarks
 * A `service-lb` subnet without an OCID (CAPOCI has not made it yet) is skipped; upstream skips
 * one without an `id` field and would keep an empty one.
 *
 * @throws `OcneError` `OCNE_CAPI_OCI_VCN_MISSING` when the `OCICluster` has no VCN OCID yet;
 *   `OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING` when it has no `service-lb` subnet with an OCID.
 */
export function ociCcmSettings(
  ociCluster: OciClusterNetworkFields,
  configured?: OciCcmConfigured,
): OciCcmSettings {
  const given = configuredSettings(configured);
  if (given !== undefined) return given;
  const where = `${ociCluster.metadata?.namespace ?? ''}/${ociCluster.metadata?.name ?? ''}`;
  const vcn = ociCluster.spec?.networkSpec?.vcn;
  const vcnId = vcn?.id ?? '';
  if (vcnId === '') {
    throw new OcneError(
      'OCNE_CAPI_OCI_VCN_MISSING',
      `OCICluster ${where} has an empty vcn id (spec.networkSpec.vcn.id)`,
    );
  }
  const serviceSubnets = (vcn?.subnets ?? []).flatMap((s) =>
    s?.role === 'service-lb' && typeof s.id === 'string' && s.id !== '' ? [s.id] : [],
  );
  const first = serviceSubnets[0];
  if (first === undefined) {
    throw new OcneError(
      'OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING',
      `OCICluster ${where} does not have a service-lb subnet`,
    );
  }
  return {
    vcn: vcnId,
    loadBalancer: {
      subnet1: first,
      subnet2: serviceSubnets.length > 1 ? serviceSubnets.at(-1)! : (configured?.loadBalancer?.subnet2 ?? ''),
    },
  };
}

/** Options of {@link readOciCcmSettings}. */
export interface ReadOciCcmSettingsOptions {
  /** Namespace of the `OCICluster`. */
  namespace: string;
  /** Name of the `OCICluster` (the `Cluster`'s `spec.infrastructureRef.name`). */
  name: string;
  /** `providers.oci` of the cluster configuration (its `vcn` and `loadBalancer`). */
  configured?: OciCcmConfigured;
  /** Checked before and after the read (the read itself is not interrupted). */
  signal?: AbortSignal;
}

/** The API version of the `OCICluster` this SDK reads. */
const OCI_CLUSTER_API_VERSION = 'infrastructure.cluster.x-k8s.io/v1beta2';

/**
 * Reads the `OCICluster` from the management cluster and applies {@link ociCcmSettings} to it.
 * As upstream, nothing is read when the VCN and both subnets are configured.
 *
 * @param client - A client of the management cluster.
 * @throws `OcneError` `OCNE_CAPI_OCICLUSTER_NOT_FOUND` when the `OCICluster` does not exist;
 *   `OCNE_CANCELLED` when `signal` has aborted; the errors of {@link ociCcmSettings}; the
 *   `KubeError` of a failed read.
 */
export async function readOciCcmSettings(
  client: KubeClient,
  options: ReadOciCcmSettingsOptions,
): Promise<OciCcmSettings> {
  const { namespace, name, configured, signal } = options;
  const given = configuredSettings(configured);
  if (given !== undefined) return given;
  const doing = `reading OCICluster ${namespace}/${name}`;
  throwIfCancelled(signal, doing);
  const ociCluster = (await client.get({
    apiVersion: OCI_CLUSTER_API_VERSION,
    kind: 'OCICluster',
    namespace,
    name,
  })) as OciClusterNetworkFields | undefined;
  throwIfCancelled(signal, doing);
  if (ociCluster === undefined) {
    throw new OcneError('OCNE_CAPI_OCICLUSTER_NOT_FOUND', `OCICluster ${namespace}/${name} does not exist`);
  }
  return ociCcmSettings(ociCluster, configured);
}

/** A Secret of {@link ociCcmSecrets}, ready to be created in the workload cluster. */
export interface OciCcmSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string };
  type: 'Opaque';
  /** The one key (`cloud-provider.yaml` or `config.yaml`), base64-encoded. Holds credentials: never log it. */
  data: Record<string, string>;
}

/** Options of {@link ociCcmSecrets}. */
export interface OciCcmSecretsOptions {
  credentials: OciCredentials;
  /** Compartment OCID (a configured path already resolved to its OCID). */
  compartmentId: string;
  settings: OciCcmSettings;
}

/**
 * The two Secrets upstream creates in `kube-system` of the workload cluster before it installs
 * `oci-ccm`: `oci-cloud-controller-manager` (key `cloud-provider.yaml`) and
 * `oci-volume-provisioner` (key `config.yaml`), both holding the same YAML document:
 * `auth` (fingerprint, key, passphrase, region, tenancy, useInstancePrincipals, user),
 * `compartment`, `loadBalancer` (securityListManagementMode `None`, subnet1, subnet2) and `vcn`.
 * Keys are sorted, as upstream's marshalling of a Go map sorts them, with upstream's four-space
 * indentation; `useInstancePrincipals` is a boolean (false unless the credentials say true) and
 * an empty passphrase becomes {@link EMPTY_PASSPHRASE_PLACEHOLDER}, as upstream's. Pure; nothing
 * is applied.
 *
 * @remarks
 * Upstream creates each Secret only when it is absent (an existing one is left as it is), so
 * apply them in create mode to reproduce that. They hold the API signing key: never log them.
 */
export function ociCcmSecrets(options: OciCcmSecretsOptions): OciCcmSecret[] {
  const { credentials, compartmentId, settings } = options;
  const passphrase =
    credentials.passphrase === undefined || credentials.passphrase === ''
      ? EMPTY_PASSPHRASE_PLACEHOLDER
      : credentials.passphrase;
  const config = {
    auth: {
      fingerprint: credentials.fingerprint,
      key: credentials.key,
      passphrase,
      region: credentials.region,
      tenancy: credentials.tenancy,
      useInstancePrincipals: credentials.useInstancePrincipal ?? false,
      user: credentials.user,
    },
    compartment: compartmentId,
    loadBalancer: {
      securityListManagementMode: 'None',
      subnet1: settings.loadBalancer.subnet1,
      subnet2: settings.loadBalancer.subnet2,
    },
    vcn: settings.vcn,
  };
  const encoded = Buffer.from(stringifyYaml(config, { indent: 4 }), 'utf8').toString('base64');
  const secret = (name: string, key: string): OciCcmSecret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'kube-system' },
    type: 'Opaque',
    data: { [key]: encoded },
  });
  return [
    secret('oci-cloud-controller-manager', 'cloud-provider.yaml'),
    secret('oci-volume-provisioner', 'config.yaml'),
  ];
}
