/**
 * The two upstream configuration structures, as users write them.
 *
 * This file is the single source of truth: the JSON Schemas published with the package
 * (`schema/cluster-config.schema.json`, `schema/defaults.schema.json`) are generated from
 * these interfaces by `pnpm generate`, and the loader checks files against those schemas.
 * Every field is optional here, as in the YAML files; {@link ResolvedClusterConfig} is the
 * shape after layering, where every field has a value (an empty string or 0 meaning "unset",
 * exactly as upstream's Go zero values do).
 *
 * Field names, types and defaults follow upstream `pkg/config/types/types.go`.
 */

/** Proxy settings for node services (`proxy`) and for the CAPI controller charts (`providers.oci.proxy`). */
export interface Proxy {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

/** Subject fields of the cluster CA certificate. `orgUnit` is accepted but unused upstream. */
export interface CertificateInformation {
  /** @default "US" */
  country?: string;
  /** @default "OCNE" */
  org?: string;
  /** @default "OCNE" */
  orgUnit?: string;
  /** @default "TX" */
  state?: string;
}

/** Size of a virtual machine: memory and storage are Kubernetes quantities such as `4194304Ki` or `30Gi`. */
export interface Node {
  memory?: string;
  /** @asType integer */
  cpu?: number;
  storage?: string;
}

/** The local libvirt provider (`providers.libvirt`). */
export interface LibvirtProvider {
  /** @default "qemu:///session" */
  uri?: string;
  sshKey?: string;
  /** @default "images" */
  storagePool?: string;
  /** @default "default" */
  network?: string;
  controlPlaneNode?: Node;
  workerNode?: Node;
  /** @default "boot.qcow2" */
  bootVolumeName?: string;
  /** @default "disk/boot.qcow2" */
  bootVolumeContainerImagePath?: string;
  /** @default "192.18.255.0/24" */
  slirpSubnet?: string;
  /** @default false */
  secureBoot?: boolean;
  /** @default false */
  smm?: boolean;
  /**
   * Not upstream's: the node segment, a private layer-2 network made only of the cluster's QEMU
   * processes (UDP multicast on the libvirt host's loopback), so a cluster on user networking can
   * have workers. Off unless `enabled`; upstream's `ocne` ignores this key.
   */
  segment?: LibvirtSegment;
}

/**
 * The node segment of a libvirt cluster (an SDK extension, not upstream's): every node keeps its
 * user-network NIC and gets a second NIC on a virtual network of the cluster's own QEMU processes,
 * with static addresses from `subnet`.
 */
export interface LibvirtSegment {
  /** @default false */
  enabled?: boolean;
  /** IPv4 subnet of the segment (prefix /8 to /24): node addresses and the virtual IP. @default "198.18.0.0/24" */
  subnet?: string;
}

/** An OCI compute shape for control-plane or worker nodes. */
export interface Shape {
  shape?: string;
  /** @asType integer */
  ocpus?: number;
  /** Boot volume size in GB, a string upstream (e.g. `"50"`). */
  bootVolumeSizeInGBs?: string;
}

/** OCI custom image OCIDs per architecture. */
export interface Images {
  amd64?: string;
  arm64?: string;
}

/** Subnets for the OCI cloud controller manager's load balancers. */
export interface OciLoadBalancer {
  subnet1?: string;
  subnet2?: string;
}

/** The Oracle Cloud provider (`providers.oci`). */
export interface OciProvider {
  /** Management cluster kubeconfig. Upstream reads it from the defaults file only. */
  kubeconfig?: string;
  /** Compartment OCID or path such as `parent/child`. Required by the oci provider. */
  compartment?: string;
  /** @default "DEFAULT" */
  profile?: string;
  /** Namespace of the Cluster API objects. @default "ocne" */
  namespace?: string;
  controlPlaneShape?: Shape;
  workerShape?: Shape;
  images?: Images;
  /** @default false */
  selfManaged?: boolean;
  loadBalancer?: OciLoadBalancer;
  vcn?: string;
  /** @default "ocne-images" */
  imageBucket?: string;
  /** Proxy passed to the Cluster API controller charts only. */
  proxy?: Proxy;
}

/** The bring-your-own provider (`providers.byo`). */
export interface ByoProvider {
  /** Create join tokens in the cluster instead of printing the `kubeadm token create` command. @default false */
  automaticTokenCreation?: boolean;
  /** Network interface the nodes use for cluster traffic. Required by the byo provider. */
  networkInterface?: string;
}

/** A Kubernetes object reference by name and namespace. */
export interface NamespacedName {
  name?: string;
  namespace?: string;
}

/** Connection to the oVirt API of Oracle Linux Virtualization Manager. */
export interface OlvmOvirtApiServer {
  serverURL?: string;
  serverCA?: string;
  serverCAPath?: string;
  /** @default false */
  insecureSkipTLSVerify?: boolean;
  caConfigMap?: NamespacedName;
  credentialsSecret?: NamespacedName;
}

/** The OCK boot disk uploaded to OLVM. */
export interface OlvmOck {
  diskName?: string;
  diskSize?: string;
  storageDomainName?: string;
}

/** OLVM network of a machine. */
export interface OlvmNetwork {
  networkName?: string;
  vnicName?: string;
  vnicProfileName?: string;
}

/** CPU topology of an OLVM virtual machine. */
export interface OlvmCpuTopology {
  /** @asType integer */
  cores?: number;
  /** @asType integer */
  sockets?: number;
  /** @asType integer */
  threads?: number;
}

/** CPU of an OLVM virtual machine. */
export interface OlvmCpu {
  architecture?: string;
  topology?: OlvmCpuTopology;
}

/** IPv4 settings of an OLVM virtual machine. */
export interface OlvmIpv4 {
  subnet?: string;
  ipAddresses?: string;
}

/** IPv6 settings of an OLVM virtual machine. */
export interface OlvmIpv6 {
  /** @default false */
  autoConf?: boolean;
  ipAddresses?: string;
}

/** Network settings of an OLVM virtual machine. */
export interface OlvmVmNetwork {
  gateway?: string;
  /** @default "enp1s0" */
  interface?: string;
  interfaceType?: string;
  ipv4?: OlvmIpv4;
  ipv6?: OlvmIpv6;
}

/** An OLVM virtual machine. */
export interface OlvmVirtualMachine {
  memory?: string;
  cpu?: OlvmCpu;
  network?: OlvmVmNetwork;
}

/** An OLVM machine template (control plane or worker). */
export interface OlvmMachine {
  olvmOvirtClusterName?: string;
  vmTemplateName?: string;
  olvmNetwork?: OlvmNetwork;
  virtualMachine?: OlvmVirtualMachine;
}

/** The kube-apiserver endpoint on OLVM nodes. */
export interface OlvmLocalApiEndpoint {
  /** @asType integer */
  bindPort?: number;
  advertiseAddress?: string;
}

/** The oVirt CSI driver installed into OLVM workload clusters. */
export interface OvirtCsiDriver {
  /** @default true */
  install?: boolean;
  namespace?: string;
  credsSecretName?: string;
  caConfigmapName?: string;
  controllerPluginName?: string;
  nodePluginName?: string;
  csiDriverName?: string;
}

/** The Oracle Linux Virtualization Manager provider (`providers.olvm`). */
export interface OlvmProvider {
  olvmDatacenterName?: string;
  /** @default "ocne" */
  namespace?: string;
  proxy?: Proxy;
  /** @default false */
  selfManaged?: boolean;
  olvmOvirtAPIServer?: OlvmOvirtApiServer;
  olvmOCK?: OlvmOck;
  controlPlaneMachine?: OlvmMachine;
  workerMachine?: OlvmMachine;
  localAPIEndpoint?: OlvmLocalApiEndpoint;
  ovirtCsiDriver?: OvirtCsiDriver;
}

/** Per-provider settings. */
export interface Providers {
  libvirt?: LibvirtProvider;
  oci?: OciProvider;
  byo?: ByoProvider;
  olvm?: OlvmProvider;
}

/** A Helm catalog added to the cluster after the core applications. */
export interface Catalog {
  protocol?: string;
  uri?: string;
  name?: string;
  namespace?: string;
}

/** An application installed from a catalog after the core applications. */
export interface Application {
  name?: string;
  release?: string;
  version?: string;
  catalog?: string;
  namespace?: string;
  /** Helm values, any YAML. */
  config?: unknown;
  /** Path of a file with Helm values. */
  configFrom?: string;
}

/** The ephemeral cluster used to bootstrap Cluster API clusters. */
export interface EphemeralClusterConfig {
  /** @default "ocne-ephemeral" */
  name?: string;
  /** Upstream's merge drops this field, so it is false after loading whatever is written. @default false */
  preserve?: boolean;
  node?: Node;
}

/** Fields both files share. */
export interface CommonConfig {
  providers?: Providers;
  proxy?: Proxy;
  /**
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  kubeApiServerBindPort?: number;
  /**
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  kubeApiServerBindPortAlt?: number;
  /** @default "10.244.0.0/16" */
  podSubnet?: string;
  /** @default "10.96.0.0/12" */
  serviceSubnet?: string;
  /** @default "container-registry.oracle.com" */
  registry?: string;
  certificateInformation?: CertificateInformation;
  osTag?: string;
  osRegistry?: string;
  /** @default "iptables" */
  kubeProxyMode?: string;
  bootVolumeContainerImage?: string;
  /** An empty value means flannel; `none` installs no CNI. */
  cni?: string;
  /** @default false */
  headless?: boolean;
  /** @default true */
  catalog?: boolean;
  /** @default false */
  communityCatalog?: boolean;
  /** @default "1.33" */
  kubernetesVersion?: string;
  sshPublicKeyPath?: string;
  sshPublicKey?: string;
  /** SHA-512 crypt hash for user `ocne`. */
  password?: string;
  extraIgnition?: string;
  extraIgnitionInline?: string;
}

/** The cluster configuration file passed with `-c` (for example `capi.yaml`, `byo.yaml`). */
export interface ClusterConfig extends CommonConfig {
  /** Folder that relative paths resolve against; defaults to the cluster file's folder. */
  directory?: string;
  /** @default "ocne" */
  name?: string;
  provider?: string;
  /**
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  workerNodes?: number;
  /**
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  controlPlaneNodes?: number;
  virtualIp?: string;
  loadBalancer?: string;
  catalogs?: Catalog[];
  applications?: Application[];
  cipherSuites?: string;
  clusterDefinition?: string;
  clusterDefinitionInline?: string;
}

/** The defaults file, `~/.ocne/defaults.yaml` (or `$OCNE_DEFAULTS`). Unknown keys are errors. */
export interface DefaultsConfig extends CommonConfig {
  kubeconfig?: string;
  /** A string upstream: `"true"` or `"false"`. The SDK never opens a browser whatever it says. */
  autoStartUI?: string;
  /** @default false */
  quiet?: boolean;
  ephemeralCluster?: EphemeralClusterConfig;
}
