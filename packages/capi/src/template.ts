/**
 * The Cluster API resources of an Oracle Cloud cluster (`ocne cluster template`), as typed objects:
 * upstream's `capi-oci.yaml` built as data instead of text. Pure except for two lookups (a
 * compartment path and the newest OCK image per architecture) that go through {@link OciLookup},
 * which the OCI provider implements; with a compartment OCID and image OCIDs in the configuration
 * no lookup happens and the template renders offline.
 *
 * Where the result differs from upstream's text, on purpose:
 * - Without `cipherSuites`, no cipher-suite arguments at all (upstream writes them empty, and the
 *   API server drops the empty values: the stored objects are the same).
 * - `selector.matchLabels` is `{}` (upstream's empty key is null, which the API server drops).
 * - The key of `sshPublicKeyPath` also goes into the machine templates' `ssh_authorized_keys`
 *   (upstream puts only an inline `sshPublicKey` there).
 * - Image lookups run only for the architectures the shapes use, and a failed lookup is a warning
 *   event (upstream ignores the error silently).
 * - A missing compartment or image is an error here (upstream's template prints empty values and
 *   only its driver refuses them, later).
 * - The node Ignition follows the byo decisions of `@ocne/ignition` (proxy drop-ins only with a
 *   proxy, no `kublet.service`; `ocne-update.service` is enabled either way).
 * - A relative `extraIgnition` resolves against `directory` (upstream: the working directory).
 * - The files the configuration names (`sshPublicKeyPath`, `extraIgnition`) come in as contents,
 *   read by `@ocne/config`'s `readConfigFiles` (`options.files`): rendering reads no files.
 * - `workerNodes` is what the resolved configuration says: for the oci provider at least 1 (upstream's
 *   `cluster template` command prints `replicas: 0` when it is unset; its driver raises it to 1).
 */
import {
  type Architecture,
  architectureFromShape,
  type ConfigFiles,
  configFileContents,
  type KubernetesVersionInfo,
  kubernetesVersionInfo,
  type ResolvedClusterConfig,
  stringifyYaml,
} from '@ocne/config';
import { type EventSink, isOcneError, OcneError, type OcneErrorCode } from '@ocne/core';
import { capiNodeIgnition, capiNodeInput, configFileInputs, serializeIgnition } from '@ocne/ignition';
import type {
  Cluster,
  KubeadmConfigTemplate,
  KubeadmControlPlane,
  MachineDeployment,
  OCICluster,
  OCIMachineTemplate,
} from './generated/types.js';
import { ociNetworkSpec } from './network.js';
import { CLUSTER_NAME_LABEL } from './objects.js';

/**
 * The Oracle Cloud lookups a template may need; the OCI provider implements them with the OCI
 * SDK. Methods may throw; errors of {@link OciLookup.latestImage} become warnings (the configured
 * image is used), errors of {@link OciLookup.compartmentId} fail the template.
 */
export interface OciLookup {
  /** The OCID of a compartment path such as `parent/child`, below the profile's tenancy. */
  compartmentId(path: string, profile: string, signal?: AbortSignal): Promise<string>;
  /**
   * The OCID of the newest image named `name` in a compartment whose freeform tags say
   * `ocne/kubernetes` = the Kubernetes version (as configured, e.g. `1.33`) and
   * `ocne/architecture` = the architecture, or `undefined` when there is none.
   */
  latestImage(query: OciImageQuery, signal?: AbortSignal): Promise<string | undefined>;
}

/** What {@link OciLookup.latestImage} looks for. */
export interface OciImageQuery {
  /** The image display name: always `ock`. */
  name: string;
  /** The Kubernetes version as configured (`1.33`), matched against the `ocne/kubernetes` tag. */
  kubernetesVersion: string;
  /** Matched against the `ocne/architecture` tag. */
  architecture: Architecture;
  /** The compartment OCID to list images in. */
  compartmentId: string;
  /** The OCI configuration profile (`providers.oci.profile`). */
  profile: string;
}

/** The display name of OCK boot images in a tenancy. */
export const OCK_IMAGE_NAME = 'ock';

/** The limit of CAPI 1.10 on `ignition.containerLinuxConfig.additionalConfig`, in characters. */
export const ADDITIONAL_CONFIG_MAX_LENGTH = 32768;

/** The kubelet's volume plugin folder on OCK nodes. */
export const VOLUME_PLUGIN_DIR = '/var/lib/kubelet/volumeplugins';

/** The placeholder CAPI's kubeadm bootstrap leaves for the instance OCID; nodes fill it in at boot. */
export const INSTANCE_ID_PLACEHOLDER = '{{ ds["id"] }}';

/** Options of {@link ociTemplate}. */
export interface OciTemplateOptions {
  /** For compartment paths and image lookups. Without it, both must be OCIDs in the configuration. */
  lookup?: OciLookup;
  /** Warnings (an image lookup that failed) and progress. */
  events?: EventSink;
  /** Cancels lookups; the signal's reason is thrown. */
  signal?: AbortSignal;
  /**
   * The files the configuration names, as `readConfigFiles` read them: needed when it sets
   * `sshPublicKeyPath` (without `sshPublicKey`), `extraIgnition` or, for
   * {@link ociClusterResources}, `clusterDefinition`; Butane `local:` files of the extra Ignition
   * are read through its `readLocalFile`. Without them such a configuration fails with
   * `OCNE_CONFIG_FILE_NOT_READ`.
   */
  files?: ConfigFiles;
}

/** The seven objects of an OCI cluster, in upstream's order. */
export type OciTemplateObjects = [
  Cluster,
  OCICluster,
  KubeadmControlPlane,
  OCIMachineTemplate,
  OCIMachineTemplate,
  KubeadmConfigTemplate,
  MachineDeployment,
];

/** What {@link ociTemplate} renders. */
export interface OciTemplate {
  /** Cluster, OCICluster, KubeadmControlPlane, two OCIMachineTemplates, KubeadmConfigTemplate, MachineDeployment. */
  objects: OciTemplateObjects;
  /** The namespace of every object (`providers.oci.namespace`). */
  namespace: string;
  /** The compartment OCID (resolved from a path when one was configured). */
  compartmentId: string;
  /** The image OCID per architecture the shapes use. */
  images: Partial<Record<Architecture, string>>;
  /** The compact Ignition JSON in both `additionalConfig` fields. */
  additionalConfig: string;
}

/** @internal Throws an `OcneError` with a code, a message and the error it wraps (if any). */
export function fail(code: OcneErrorCode, message: string, cause?: unknown): never {
  throw new OcneError(code, message, cause === undefined ? {} : { cause });
}

/** Options of {@link ociAdditionalConfig}. */
export interface OciAdditionalConfigOptions {
  /** The files the configuration names, as `readConfigFiles` read them (see {@link OciTemplateOptions.files}). */
  files?: ConfigFiles;
}

/**
 * The compact Ignition JSON that Cluster API nodes get in `additionalConfig` (with a final newline,
 * as a YAML block scalar keeps it). Fails when it is longer than CAPI accepts.
 */
export function ociAdditionalConfig(
  cluster: ResolvedClusterConfig,
  options: OciAdditionalConfigOptions = {},
): string {
  const ignition = capiNodeIgnition(capiNodeInput(cluster, configFileInputs(cluster, options.files)));
  const text = `${serializeIgnition(ignition)}\n`;
  if (text.length > ADDITIONAL_CONFIG_MAX_LENGTH) {
    fail(
      'OCNE_CAPI_ADDITIONAL_CONFIG_TOO_LONG',
      `the node Ignition for Cluster API is ${text.length} characters; Cluster API accepts at most ` +
        `${ADDITIONAL_CONFIG_MAX_LENGTH} in additionalConfig. Make extraIgnition smaller ` +
        '(for example, fetch large files from a URL instead of embedding them)',
    );
  }
  return text;
}

async function resolveCompartment(
  cluster: ResolvedClusterConfig,
  options: OciTemplateOptions,
): Promise<string> {
  const { compartment, profile } = cluster.providers.oci;
  if (compartment === '') {
    fail(
      'OCNE_CAPI_COMPARTMENT_REQUIRED',
      'providers.oci.compartment is required: set it to a compartment OCID or a path such as parent/child',
    );
  }
  if (compartment.startsWith('ocid1.compartment')) return compartment;
  if (options.lookup === undefined) {
    fail(
      'OCNE_CAPI_LOOKUP_REQUIRED',
      `providers.oci.compartment "${compartment}" is a path; resolving it needs Oracle Cloud access. ` +
        'Give the compartment OCID (ocid1.compartment...) to render the template offline',
    );
  }
  try {
    return await options.lookup.compartmentId(compartment, profile, options.signal);
  } catch (error) {
    if (options.signal?.aborted || isOcneError(error)) throw error;
    return fail(
      'OCNE_CAPI_COMPARTMENT_LOOKUP_FAILED',
      `cannot resolve compartment ${compartment}: ${(error as Error).message}`,
      error,
    );
  }
}

async function resolveImages(
  cluster: ResolvedClusterConfig,
  compartmentId: string,
  options: OciTemplateOptions,
): Promise<Partial<Record<Architecture, string>>> {
  const { oci } = cluster.providers;
  const wanted = new Set([
    architectureFromShape(oci.controlPlaneShape.shape),
    architectureFromShape(oci.workerShape.shape),
  ]);
  const images: Partial<Record<Architecture, string>> = {};
  for (const architecture of [...wanted].sort()) {
    let image = oci.images[architecture];
    if (options.lookup !== undefined) {
      // As upstream: an image found in the compartment wins over the configured one.
      try {
        const found = await options.lookup.latestImage(
          {
            name: OCK_IMAGE_NAME,
            kubernetesVersion: cluster.kubernetesVersion,
            architecture,
            compartmentId,
            profile: oci.profile,
          },
          options.signal,
        );
        if (found !== undefined) image = found;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        options.events?.({
          type: 'log',
          level: 'warn',
          message: `Could not look up the ${architecture} ${OCK_IMAGE_NAME} image for Kubernetes ${cluster.kubernetesVersion}: ${(error as Error).message}`,
        });
      }
    }
    if (!image.startsWith('ocid1.image')) {
      fail(
        'OCNE_CAPI_IMAGE_INVALID',
        image === ''
          ? `no ${architecture} image: set providers.oci.images.${architecture} to an image OCID, or upload an OCK image to the compartment`
          : `providers.oci.images.${architecture} "${image}" is not an image OCID (ocid1.image...)`,
      );
    }
    images[architecture] = image;
  }
  return images;
}

/**
 * `{ [key]: cipherSuites }`, or nothing without cipher suites. Upstream writes the key with an
 * empty (null) value, which the API server drops: the same result.
 */
const ciphers = (cipherSuites: string, key = 'tls-cipher-suites'): Record<string, string> =>
  cipherSuites === '' ? {} : { [key]: cipherSuites };

const kubeletArgs = (cipherSuites: string): Record<string, string> => ({
  'cloud-provider': 'external',
  'provider-id': `oci://${INSTANCE_ID_PLACEHOLDER}`,
  'volume-plugin-dir': VOLUME_PLUGIN_DIR,
  ...ciphers(cipherSuites),
});

/** What the seven objects share: computed once by {@link ociTemplate}, read by each builder. */
interface TemplateParts {
  cluster: ResolvedClusterConfig;
  /** `providers.oci.namespace`: every object's namespace. */
  namespace: string;
  /** `<name>-control-plane`: the KubeadmControlPlane and its machine template. */
  controlPlaneName: string;
  /** `<name>-md-0`: the worker machine template, KubeadmConfigTemplate and MachineDeployment. */
  workerName: string;
  /** The Kubernetes and etcd versions of `kubernetesVersion`. */
  versions: KubernetesVersionInfo;
  compartmentId: string;
  images: Partial<Record<Architecture, string>>;
  /** The node Ignition JSON (see {@link ociAdditionalConfig}). */
  additionalConfig: string;
  /** The key text for the instances' `ssh_authorized_keys`. */
  sshAuthorizedKeys: string;
}

const clusterLabels = (name: string): Record<string, string> => ({ [CLUSTER_NAME_LABEL]: name });

/** The `ignition` field of both kubeadm configs: a fresh object each time, as each spec owns its own. */
const kubeadmIgnition = (additionalConfig: string) => ({
  variant: 'fcos',
  version: '1.5.0',
  containerLinuxConfig: { additionalConfig },
});

function clusterObject({ cluster, namespace, controlPlaneName }: TemplateParts): Cluster {
  const { name } = cluster;
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    metadata: { name, namespace, labels: clusterLabels(name) },
    spec: {
      clusterNetwork: {
        pods: { cidrBlocks: [cluster.podSubnet] },
        serviceDomain: 'cluster.local',
        services: { cidrBlocks: [cluster.serviceSubnet] },
      },
      infrastructureRef: {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'OCICluster',
        name,
        namespace,
      },
      controlPlaneRef: {
        apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
        kind: 'KubeadmControlPlane',
        name: controlPlaneName,
        namespace,
      },
    },
  };
}

function ociClusterObject({ cluster, namespace, compartmentId }: TemplateParts): OCICluster {
  const { name } = cluster;
  return {
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    kind: 'OCICluster',
    metadata: { name, namespace, labels: clusterLabels(name) },
    spec: { compartmentId, networkSpec: ociNetworkSpec(name) },
  };
}

function kubeadmControlPlane(parts: TemplateParts): KubeadmControlPlane {
  const { cluster, namespace, controlPlaneName, versions } = parts;
  const { cipherSuites } = cluster;
  return {
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
    kind: 'KubeadmControlPlane',
    metadata: {
      name: controlPlaneName,
      namespace,
      annotations: {
        'controlplane.cluster.x-k8s.io/skip-kube-proxy': 'true',
        'controlplane.cluster.x-k8s.io/skip-coredns': 'true',
      },
    },
    spec: {
      version: versions.kubernetes,
      replicas: cluster.controlPlaneNodes,
      machineTemplate: {
        infrastructureRef: {
          apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
          kind: 'OCIMachineTemplate',
          name: controlPlaneName,
          namespace,
        },
      },
      kubeadmConfigSpec: {
        format: 'ignition',
        ignition: kubeadmIgnition(parts.additionalConfig),
        clusterConfiguration: {
          kubernetesVersion: versions.kubernetes,
          imageRepository: 'container-registry.oracle.com/olcne',
          apiServer: {
            certSANs: ['localhost', '127.0.0.1'],
            extraArgs: ciphers(cipherSuites),
          },
          etcd: {
            local: {
              imageRepository: 'container-registry.oracle.com/olcne',
              imageTag: versions.etcd,
              extraArgs: ciphers(cipherSuites, 'cipher-suites'),
            },
          },
          networking: {},
          controllerManager: { extraArgs: ciphers(cipherSuites) },
          scheduler: { extraArgs: ciphers(cipherSuites) },
        },
        initConfiguration: {
          skipPhases: ['preflight', 'addon/kube-proxy', 'addon/coredns'],
          patches: { directory: '/etc/ocne/ock/patches' },
          nodeRegistration: {
            criSocket: '/var/run/crio/crio.sock',
            kubeletExtraArgs: kubeletArgs(cipherSuites),
          },
        },
        joinConfiguration: {
          skipPhases: ['preflight'],
          patches: { directory: '/etc/ocne/ock/patches' },
          discovery: {},
          nodeRegistration: {
            criSocket: '/var/run/crio/crio.sock',
            kubeletExtraArgs: kubeletArgs(cipherSuites),
          },
        },
      },
    },
  };
}

/** The OCIMachineTemplate of the control plane or of the workers. */
function machineTemplate(
  { namespace, compartmentId, images, sshAuthorizedKeys }: TemplateParts,
  name: string,
  shape: ResolvedClusterConfig['providers']['oci']['controlPlaneShape'],
): OCIMachineTemplate {
  return {
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    kind: 'OCIMachineTemplate',
    metadata: { name, namespace },
    spec: {
      template: {
        spec: {
          imageId: images[architectureFromShape(shape.shape)]!,
          compartmentId,
          shape: shape.shape,
          shapeConfig: { ocpus: String(shape.ocpus) },
          bootVolumeSizeInGBs: String(shape.bootVolumeSizeInGBs),
          metadata: { ssh_authorized_keys: sshAuthorizedKeys },
          isPvEncryptionInTransitEnabled: false,
        },
      },
    },
  };
}

function kubeadmConfigTemplate({
  cluster,
  namespace,
  workerName,
  additionalConfig,
}: TemplateParts): KubeadmConfigTemplate {
  return {
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    kind: 'KubeadmConfigTemplate',
    metadata: { name: workerName, namespace },
    spec: {
      template: {
        spec: {
          format: 'ignition',
          ignition: kubeadmIgnition(additionalConfig),
          // As upstream: workers get neither skipPhases nor the patches folder.
          joinConfiguration: { nodeRegistration: { kubeletExtraArgs: kubeletArgs(cluster.cipherSuites) } },
        },
      },
    },
  };
}

function machineDeployment({ cluster, namespace, workerName, versions }: TemplateParts): MachineDeployment {
  const { name } = cluster;
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'MachineDeployment',
    metadata: { name: workerName, namespace },
    spec: {
      clusterName: name,
      replicas: cluster.workerNodes,
      // Upstream writes an empty `matchLabels:` (null, dropped by the API server); {} says the same.
      selector: { matchLabels: {} },
      template: {
        spec: {
          clusterName: name,
          version: versions.kubernetes,
          bootstrap: {
            configRef: {
              apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
              kind: 'KubeadmConfigTemplate',
              name: workerName,
            },
          },
          infrastructureRef: {
            apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
            kind: 'OCIMachineTemplate',
            name: workerName,
          },
        },
      },
    },
  };
}

/**
 * Renders the Cluster API resources of an OCI cluster: Cluster, OCICluster, KubeadmControlPlane,
 * the control-plane and worker OCIMachineTemplates, KubeadmConfigTemplate and MachineDeployment,
 * in that order. Fails with an `OcneError` (codes `OCNE_CAPI_*`, see docs/errors.md) for an even
 * number of control-plane nodes, an unknown Kubernetes version, a missing compartment or image,
 * and node Ignition longer than CAPI accepts.
 */
export async function ociTemplate(
  cluster: ResolvedClusterConfig,
  options: OciTemplateOptions = {},
): Promise<OciTemplate> {
  options.signal?.throwIfAborted();
  if (cluster.controlPlaneNodes % 2 === 0) {
    fail('OCNE_CAPI_EVEN_CONTROL_PLANE', 'the number of control plane nodes must be odd');
  }
  const versions = kubernetesVersionInfo(cluster.kubernetesVersion);
  if (versions === undefined) {
    fail(
      'OCNE_CAPI_UNKNOWN_KUBERNETES_VERSION',
      `Kubernetes version ${cluster.kubernetesVersion} is not supported`,
    );
  }
  const compartmentId = await resolveCompartment(cluster, options);
  const images = await resolveImages(cluster, compartmentId, options);
  const additionalConfig = ociAdditionalConfig(cluster, options.files ? { files: options.files } : {});
  const { oci } = cluster.providers;
  const parts: TemplateParts = {
    cluster,
    namespace: oci.namespace,
    controlPlaneName: `${cluster.name}-control-plane`,
    workerName: `${cluster.name}-md-0`,
    versions,
    compartmentId,
    images,
    additionalConfig,
    // Upstream puts only an inline sshPublicKey here; the key of sshPublicKeyPath (which the nodes'
    // user gets anyway) goes here too, so the instances' default user can log in with it as well.
    sshAuthorizedKeys: (
      cluster.sshPublicKey ||
      configFileContents(cluster, options.files, 'sshPublicKeyPath')?.text ||
      ''
    ).trim(),
  };
  return {
    objects: [
      clusterObject(parts),
      ociClusterObject(parts),
      kubeadmControlPlane(parts),
      machineTemplate(parts, parts.controlPlaneName, oci.controlPlaneShape),
      machineTemplate(parts, parts.workerName, oci.workerShape),
      kubeadmConfigTemplate(parts),
      machineDeployment(parts),
    ],
    namespace: parts.namespace,
    compartmentId,
    images,
    additionalConfig,
  };
}

/**
 * Kubernetes objects as a multi-document YAML stream, as `ocne cluster template` prints them:
 * long strings are never folded, and multi-line strings (the node Ignition) are block scalars.
 */
export function objectsToYaml(objects: readonly object[]): string {
  return (
    objects
      // YAML 1.1 quoting, so names such as `no` or `on` stay strings for kubectl and Go readers.
      // Our writer (the same bytes as `yaml`, which it loads only for what it does not cover):
      // `yaml`'s stringifier was most of what a cold `ocne cluster template` spent writing.
      .map((o) => stringifyYaml(o, { version: '1.1', blockQuote: 'literal', aliasDuplicateObjects: false }))
      .join('---\n')
  );
}
