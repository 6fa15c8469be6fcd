/**
 * Upstream's built-in defaults (`config.GetDefaultConfig`, `pkg/constants`), as the lowest layer.
 */
import { DEFAULT_KUBERNETES_VERSION } from './kubernetes-versions.js';
import type { DefaultsConfig } from './types.js';

/** The providers upstream registers. */
export const PROVIDERS: readonly string[] = ['libvirt', 'oci', 'byo', 'none', 'olvm'];

/** Default cluster name. */
export const DEFAULT_CLUSTER_NAME = 'ocne';
/** Default OSTree registry of OCK updates. */
export const DEFAULT_OS_REGISTRY =
  'ostree-unverified-registry:container-registry.oracle.com/olcne/ock-ostree';
/** Default OCK boot image, untagged (the Kubernetes version becomes its tag). */
export const DEFAULT_BOOT_IMAGE = 'docker://container-registry.oracle.com/olcne/ock';
/** Default container registry of the core images. */
export const DEFAULT_REGISTRY = 'container-registry.oracle.com';
/** Name of the environment variable that selects another defaults file. */
export const DEFAULTS_ENV = 'OCNE_DEFAULTS';

const node = (storage: string) => ({ memory: '4194304Ki', cpu: 2, storage });

/**
 * The built-in defaults. A new object on every call, so callers may change it. The tri-state
 * booleans are set to their upstream defaults (`catalog` and `ovirtCsiDriver.install` true,
 * the others false); `ephemeralCluster.preserve` is true here and false after any merge (see
 * `resolveConfig`). `sshPublicKeyPath` is not here: it depends on the file system, and the
 * loader adds it.
 */
export function builtinDefaults(): DefaultsConfig {
  return {
    providers: {
      libvirt: {
        uri: 'qemu:///session',
        storagePool: 'images',
        network: 'default',
        controlPlaneNode: node('20Gi'),
        workerNode: node('20Gi'),
        bootVolumeName: 'boot.qcow2',
        bootVolumeContainerImagePath: 'disk/boot.qcow2',
        slirpSubnet: '192.18.255.0/24',
        secureBoot: false,
        smm: false,
        // Not upstream's (an SDK extension): off. 198.18.0.0/15 is reserved for benchmarking
        // networks, so it meets neither the slirp subnet nor the pod and service subnets.
        segment: { enabled: false, subnet: '198.18.0.0/24' },
      },
      oci: {
        profile: 'DEFAULT',
        namespace: 'ocne',
        controlPlaneShape: { shape: 'VM.Standard.A1.Flex', ocpus: 2, bootVolumeSizeInGBs: '50' },
        workerShape: { shape: 'VM.Standard.E4.Flex', ocpus: 4, bootVolumeSizeInGBs: '50' },
        selfManaged: false,
        imageBucket: 'ocne-images',
      },
      byo: { automaticTokenCreation: false },
      olvm: {
        namespace: 'ocne',
        selfManaged: false,
        olvmOvirtAPIServer: { insecureSkipTLSVerify: false },
        controlPlaneMachine: {
          virtualMachine: { memory: '7GB', network: { interface: 'enp1s0', ipv6: { autoConf: false } } },
        },
        workerMachine: {
          virtualMachine: { memory: '16GB', network: { interface: 'enp1s0', ipv6: { autoConf: false } } },
        },
        localAPIEndpoint: { bindPort: 6444 },
        ovirtCsiDriver: {
          install: true,
          namespace: 'ovirt-csi',
          credsSecretName: 'ovirt-csi-creds',
          caConfigmapName: 'ovirt-csi-ca.crt',
        },
      },
    },
    kubeApiServerBindPort: 6443,
    kubeApiServerBindPortAlt: 6444,
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    registry: DEFAULT_REGISTRY,
    certificateInformation: { country: 'US', org: 'OCNE', orgUnit: 'OCNE', state: 'TX' },
    osTag: DEFAULT_KUBERNETES_VERSION,
    osRegistry: DEFAULT_OS_REGISTRY,
    kubeProxyMode: 'iptables',
    bootVolumeContainerImage: DEFAULT_BOOT_IMAGE,
    headless: false,
    catalog: true,
    communityCatalog: false,
    kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
    autoStartUI: 'true',
    quiet: false,
    ephemeralCluster: { name: 'ocne-ephemeral', preserve: true, node: node('30Gi') },
  };
}
