/**
 * The one catalogue of every code an SDK error or warning carries. A code is defined here and
 * nowhere else: `OcneError` accepts only these (a typo is a type error), a test fails when a
 * source file names an `OCNE_` code missing from here, and `docs/errors.md` is generated from it.
 *
 * Codes are stable API: a caller may branch on them. Add new codes at the end of their area;
 * never reuse a removed one for another meaning.
 */

/** What the catalogue says about one code. */
export interface ErrorCodeInfo {
  /** The package that raises it (or `*` for every package). */
  readonly area: string;
  /** `error` for thrown errors, `warning` for the code of a warning event, `both` for either. */
  readonly severity: 'error' | 'warning' | 'both';
  /** What happened, for a reader of the error. */
  readonly meaning: string;
}

/** Every error and warning code of the SDK, with its meaning. */
export const ERROR_CODES = {
  // Shared by every package.
  OCNE_CANCELLED: {
    area: '*',
    severity: 'error',
    meaning:
      "The caller's signal stopped the work; what was done so far is described by the operation's events.",
  },
  OCNE_ERROR: {
    area: '*',
    severity: 'error',
    meaning:
      'An error from outside the SDK reached an operation unwrapped (the `done` event carries its message).',
  },
  OCNE_USAGE: {
    area: '*',
    severity: 'error',
    meaning: 'A call or a command line asks for something impossible (no nodes to join, missing flags).',
  },
  OCNE_NOT_IMPLEMENTED: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning:
      'The provider of the cluster has no such operation at all (e.g. `template` for byo), as upstream says.',
  },
  OCNE_DEPENDENCY_MISSING: {
    area: '*',
    severity: 'error',
    meaning:
      'A program or optional package the operation needs is not installed (helm, an optional peer dependency); the message names it.',
  },
  OCNE_FILE_WRITE_FAILED: {
    area: '@ocne/core',
    severity: 'error',
    meaning:
      'A file could not be written atomically (kubeconfig, cache, Ignition); the old content, if any, is unchanged.',
  },
  OCNE_LOCK_TIMEOUT: {
    area: '@ocne/core',
    severity: 'error',
    meaning: 'Another live process held the PID lock (`~/.ocne/ocne.pid`) for the whole wait.',
  },
  OCNE_LOCK_FAILED: {
    area: '@ocne/core',
    severity: 'error',
    meaning: 'The PID lock file could not be created or read.',
  },
  OCNE_LOCK_RELEASE_FAILED: {
    area: '@ocne/core',
    severity: 'error',
    meaning: 'The PID lock file could not be removed after the work was done.',
  },

  // Configuration.
  OCNE_CONFIG_READ_FAILED: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'A configuration file could not be read.',
  },
  OCNE_CONFIG_SYNTAX: { area: '@ocne/config', severity: 'error', meaning: 'The YAML is not well formed.' },
  OCNE_CONFIG_TYPE: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'A value has the wrong type (a list where a string was expected, ...).',
  },
  OCNE_CONFIG_UNKNOWN_KEY: {
    area: '@ocne/config',
    severity: 'both',
    meaning: 'A key the format does not have: an error in the defaults file, a warning in the cluster file.',
  },
  OCNE_CONFIG_INVALID_VALUE: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'A value has the right type but is not acceptable (bad CIDR, bad OCID, bad size, ...).',
  },
  OCNE_CONFIG_CONFLICT: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'Two settings that exclude each other are both set.',
  },
  OCNE_CONFIG_MISSING: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'A setting the chosen provider needs is missing.',
  },
  OCNE_CONFIG_UNSUPPORTED_VERSION: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'The Kubernetes version is not one this release supports.',
  },
  OCNE_CONFIG_FILE_MISSING: {
    area: '@ocne/config',
    severity: 'error',
    meaning:
      'A file the configuration names (sshPublicKeyPath, extraIgnition, clusterDefinition) does not exist, or a part of its path is not a folder.',
  },
  OCNE_CONFIG_FILE_UNREADABLE: {
    area: '@ocne/config',
    severity: 'error',
    meaning:
      'A file or folder the configuration names exists but cannot be read (permissions, an I/O error).',
  },
  OCNE_CONFIG_NOT_A_FILE: {
    area: '@ocne/config',
    severity: 'error',
    meaning:
      'sshPublicKeyPath or clusterDefinition (or an Ignition or Butane file in an extraIgnition folder) is a folder, device, socket or pipe.',
  },
  OCNE_CONFIG_NOT_A_FILE_OR_FOLDER: {
    area: '@ocne/config',
    severity: 'error',
    meaning: 'extraIgnition is neither a regular file nor a folder.',
  },
  OCNE_CONFIG_FILE_NOT_READ: {
    area: '@ocne/config',
    severity: 'error',
    meaning:
      'A generator got a configuration naming a file without its contents: a programming error; read them with readConfigFiles first.',
  },
  OCNE_CONFIG_INVALID_CIDR: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'An entry of `podSubnet` is not a CIDR, or is a second one of the same IP family.',
  },
  OCNE_CONFIG_LIMIT: {
    area: '@ocne/config',
    severity: 'both',
    meaning:
      'A configuration file (or the cluster cache) is beyond a limit of the reader (`CONFIG_LIMITS` of `@ocne/config`): larger than 1 MiB (the cache: 8 MiB), nested deeper than 100 levels, or aliases and merge keys that expand to more than 10,000 values. Also the last issue of a list cut at 50 errors or warnings, with the count of the rest.',
  },

  // The cluster cache and the facade.
  OCNE_CACHE_READ_FAILED: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The cluster cache (`~/.ocne/clusters.yaml`) could not be read.',
  },
  OCNE_CACHE_INVALID: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The cluster cache is not valid; the cause is a ConfigError with file, line and column.',
  },
  OCNE_CACHE_INVALID_INPUT: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'A cluster handed to the cache lacks what an entry needs (a kubeconfig path).',
  },
  OCNE_CLUSTER_NAME_REQUIRED: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'A cluster without a name cannot be cached.',
  },
  OCNE_CLUSTER_EXISTS: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The cache already has a cluster of that name.',
  },
  OCNE_CLUSTER_UNKNOWN: {
    area: '@ocne/cli',
    severity: 'error',
    meaning: 'No cluster of that name is in the cache.',
  },
  OCNE_CLUSTER_MISMATCH: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning:
      'The cluster exists with another provider or Kubernetes version than the configuration asks for.',
  },
  OCNE_CLUSTER_INCONSISTENT: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The cache lists the cluster but its kubeconfig is gone: delete the cluster first.',
  },
  OCNE_CLUSTER_BUSY: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning:
      'Another process is starting or deleting a cluster of that name now (it holds `~/.ocne/cluster-<name>.pid`); the message names it.',
  },
  OCNE_KUBECONFIG_MISSING: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The kubeconfig an operation needs could not be read or is not known.',
  },
  OCNE_PROVIDER_UNKNOWN: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The provider name is not one a provider package can have, or its package could not be loaded.',
  },
  OCNE_PROVIDER_INVALID: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'A provider package or registered provider does not keep the provider contract of `@ocne/core`.',
  },
  OCNE_PROVIDER_UNAVAILABLE: {
    area: '@ocne/cluster',
    severity: 'error',
    meaning: 'The provider exists but does not offer this operation in this version of the SDK.',
  },
  OCNE_INTERNAL: {
    area: '@ocne/cli',
    severity: 'error',
    meaning: 'A bug: an error that is not an OcneError reached the command line.',
  },
  OCNE_OUTPUT_FAILED: {
    area: '@ocne/cli',
    severity: 'error',
    meaning:
      'Standard output could not be written (a full disk, a closed pipe); a new cluster whose Ignition was not delivered is not recorded.',
  },

  // Ignition, Butane and PKI.
  OCNE_IGNITION_INVALID: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'Not JSON/YAML, or not a valid Ignition config or Butane file.',
  },
  OCNE_IGNITION_UNSUPPORTED_VERSION: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'An Ignition spec version the SDK does not read.',
  },
  OCNE_IGNITION_CONFLICT: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'Two extra configs set the same path or unit differently.',
  },
  OCNE_IGNITION_READ_FAILED: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'A file an Ignition or Butane config names could not be read, or lies outside the files folder.',
  },
  OCNE_BUTANE_UNSUPPORTED: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'A Butane variant, version or field outside the supported subset.',
  },
  OCNE_PKI_INVALID_INPUT: {
    area: '@ocne/ignition',
    severity: 'error',
    meaning: 'A PKI input cannot be used: empty or malformed address, bad subnet, bad PEM, non-RSA key, ...',
  },

  // Kubernetes access.
  OCNE_KUBE_API: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'The API server answered with an error Status (its reason and message are in the error).',
  },
  OCNE_KUBE_UNREACHABLE: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'The API server could not be reached (refused, DNS, TLS).',
  },
  OCNE_KUBE_UNAUTHORIZED: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'The credentials were refused (401) or lack a permission (403).',
  },
  OCNE_KUBE_TIMEOUT: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'A wait or a call did not finish within its time.',
  },
  OCNE_KUBE_INVALID_KUBECONFIG: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'The kubeconfig cannot be used.',
  },
  OCNE_KUBE_INVALID_MANIFEST: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'Manifests that cannot be applied (bad YAML, no kind).',
  },
  OCNE_KUBE_COMMAND_FAILED: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning:
      'A command run on a node through an admin pod exited non-zero (or its pod failed before it ran).',
  },
  OCNE_KUBE_ADMIN_POD_LEFT: {
    area: '@ocne/kubernetes',
    severity: 'warning',
    meaning: 'An admin pod could not be deleted after its command; it is named in the message.',
  },
  OCNE_HELM_FAILED: {
    area: '@ocne/kubernetes',
    severity: 'error',
    meaning: 'helm exited with an error, or printed something that could not be read.',
  },

  // BYO.
  OCNE_BYO_NEEDS_CLUSTER: {
    area: '@ocne/provider-byo',
    severity: 'both',
    meaning:
      'The first control-plane node of a byo cluster is not known: an error when the cluster has none, a warning when a manual join leaves a placeholder in the upload-certs command.',
  },
  OCNE_BYO_MIXED_JOIN: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'Worker and control-plane nodes in one byo join.',
  },
  OCNE_CATALOG_MISSING: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'No application catalog was given, so the core applications cannot be installed.',
  },
  OCNE_CLUSTER_DNS_MISSING: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'The kubelet configuration of the cluster has no `clusterDNS`.',
  },
  OCNE_MIGRATE_NODE_NOT_FOUND: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'The node to move is not in the source cluster.',
  },
  OCNE_MIGRATE_DESTINATION_INCOMPLETE: {
    area: '@ocne/provider-byo',
    severity: 'error',
    meaning: 'The destination has no control-plane node or kube-apiserver pod (control-plane moves).',
  },
  OCNE_MIGRATE_NODE_NOT_DELETED: {
    area: '@ocne/provider-byo',
    severity: 'warning',
    meaning: 'The moved node could not be deleted from the source cluster.',
  },

  // libvirt.
  OCNE_LIBVIRT_CONNECT_FAILED: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      'The libvirt daemon at the configured URI could not be reached (no daemon, no socket access, ssh refused).',
  },
  OCNE_LIBVIRT_FAILED: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      "A libvirt call on a pool, volume, network or domain failed; the message names the call and carries libvirt's own message.",
  },
  OCNE_LIBVIRT_DOMAIN_START_FAILED: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      "libvirt refused to start a node's domain (upstream ignores this and waits 15 minutes); the message carries QEMU's or libvirt's reason.",
  },
  OCNE_LIBVIRT_BOOT_IMAGE_MISSING: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      "The OCK image has no boot disk for the libvirt host's architecture (only x86_64 and aarch64 hosts have one).",
  },
  OCNE_LIBVIRT_NETWORK_MISSING: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      'The configured libvirt network does not exist while other networks do (upstream: `Network %s does not exist`).',
  },
  OCNE_LIBVIRT_USER_NETWORK_LIMIT: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      'A cluster on user-mode networking (no libvirt network) asks for workers or more than one control-plane node, which upstream does not support.',
  },
  OCNE_LIBVIRT_PORT_IN_USE: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning: 'The API tunnel port chosen for the cluster is already taken on the host.',
  },

  // libvirt: clusters of several nodes and joins.
  OCNE_LIBVIRT_NO_VIRTUAL_IP: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      "A cluster on a libvirt network with neither `virtualIp` nor `loadBalancer`: the network has no IPv4 address, or no address from its gateway + 200 upward is free in `~/.ocne/ips.yaml` (upstream's allocation).",
  },
  OCNE_LIBVIRT_JOIN_NEEDS_CLUSTER: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      'Nodes beyond the first need the running cluster (a join token made through its API server), but the start was asked to skip the Kubernetes side, or the cluster has no first node.',
  },
  // libvirt node segment (an SDK extension: multi-node clusters without a libvirt network).
  OCNE_LIBVIRT_SEGMENT_FULL: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      'A node segment has no room left: every multicast channel of the libvirt host is held by a cluster in `~/.ocne/ips.yaml`, or the segment has no address for the node (past 89 control-plane nodes or 99 workers).',
  },
  OCNE_LIBVIRT_SEGMENT_MISSING: {
    area: '@ocne/provider-libvirt',
    severity: 'error',
    meaning:
      '`providers.libvirt.segment.enabled` asks for a node segment, but the running cluster was started without one (its `~/.ocne/ips.yaml` record has none), so new nodes could not reach it.',
  },

  // Cluster API.
  OCNE_CAPI_EVEN_CONTROL_PLANE: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'An even number of control-plane nodes (etcd needs an odd number).',
  },
  OCNE_CAPI_UNKNOWN_KUBERNETES_VERSION: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The template has no kubeadm settings for this Kubernetes version.',
  },
  OCNE_CAPI_COMPARTMENT_REQUIRED: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The OCI template needs a compartment and none is configured.',
  },
  OCNE_CAPI_LOOKUP_REQUIRED: {
    area: '@ocne/capi',
    severity: 'error',
    meaning:
      'A compartment path or a newest-image search needs Oracle Cloud access, and no lookup was given.',
  },
  OCNE_CAPI_COMPARTMENT_LOOKUP_FAILED: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The compartment path could not be resolved to an OCID.',
  },
  OCNE_CAPI_IMAGE_INVALID: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'An image id that is not an `ocid1.image` OCID.',
  },
  OCNE_CAPI_ADDITIONAL_CONFIG_TOO_LONG: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: "The node Ignition exceeds Cluster API's 32768 characters of `additionalConfig`.",
  },
  OCNE_CAPI_DEFINITION_CONFLICT: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'Both `clusterDefinition` and `clusterDefinitionInline` are set.',
  },
  OCNE_CAPI_INVALID_RESOURCES: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The cluster definition is not a YAML stream of Kubernetes objects.',
  },
  OCNE_CAPI_NO_CLUSTER: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The cluster definition has no Cluster with the cluster-name label of this cluster.',
  },
  OCNE_CAPI_CONTROLLERS_UNAVAILABLE: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'A Cluster API controller Deployment did not become Available in time.',
  },
  OCNE_CAPI_KUBECONFIG_TIMEOUT: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'No kubeconfig Secret of the workload cluster appeared in time.',
  },
  OCNE_CAPI_OCICLUSTER_NOT_FOUND: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The OCICluster does not exist.',
  },
  OCNE_CAPI_OCI_VCN_MISSING: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The OCICluster has no VCN OCID yet.',
  },
  OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The OCICluster has no subnet with role `service-lb` and an OCID.',
  },
  OCNE_CAPI_MOVE_NOT_FOUND: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The Cluster to move does not exist in the source namespace.',
  },
  OCNE_CAPI_MOVE_NOT_READY: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'The cluster did not become ready to move in time.',
  },
  OCNE_CAPI_MOVE_CONFLICT: {
    area: '@ocne/capi',
    severity: 'error',
    meaning:
      'The move cannot be done as asked: same source and target, a kind missing in the target, the Cluster already unpaused in the target, objects shared with another Cluster, or an owner cycle.',
  },
  OCNE_CAPI_MOVE_UNSUPPORTED: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'A feature the move does not handle, such as a managed topology (ClusterClass).',
  },
  OCNE_CAPI_MOVE_FAILED: {
    area: '@ocne/capi',
    severity: 'error',
    meaning: 'A request failed before the point of no return; the move was rolled back.',
  },
  OCNE_CAPI_MOVE_INCOMPLETE: {
    area: '@ocne/capi',
    severity: 'error',
    meaning:
      'A request failed after the deletion from the source began: the target holds the paused graph; running the same move again finishes it.',
  },
  OCNE_CAPI_MOVE_OWNER_DROPPED: {
    area: '@ocne/capi',
    severity: 'warning',
    meaning: 'An owner reference of a moved object pointed outside the graph and was dropped.',
  },

  // Images: container registries, the image cache and image upload (@ocne/image).
  OCNE_IMAGE_REFERENCE_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'An image reference or location (`docker://host/repo:tag`, `oci-archive:file`, `dir:folder`) cannot be read; the message says why.',
  },
  OCNE_REGISTRY_UNREACHABLE: {
    area: '@ocne/image',
    severity: 'both',
    meaning:
      'The registry could not be reached or its TLS certificate was not trusted (name, connection, certificate, timeout); the message names the registry. As a warning: a complete cached image was used instead.',
  },
  OCNE_REGISTRY_AUTH_FAILED: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The registry refused the credentials, or asked for credentials none of the auth files had; the message names the registry.',
  },
  OCNE_REGISTRY_NOT_FOUND: {
    area: '@ocne/image',
    severity: 'error',
    meaning: 'The registry has no such repository, tag, manifest or blob.',
  },
  OCNE_REGISTRY_ERROR: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The registry answered a request with an unexpected status or body; the message has its status and error codes.',
  },
  OCNE_IMAGE_DIGEST_MISMATCH: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'Content did not match its digest or size (a blob, a manifest); nothing was kept under the digest.',
  },
  OCNE_IMAGE_PLATFORM_MISSING: {
    area: '@ocne/image',
    severity: 'error',
    meaning: 'A multi-architecture image has no manifest for the architecture asked for.',
  },
  OCNE_IMAGE_UNSUPPORTED: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'An image format the SDK does not handle (Docker schema 1, an unknown media type, a destination transport it cannot write).',
  },
  OCNE_IMAGE_SOURCE_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'A local image (oci-archive, OCI layout or dir) to upload is missing, unreadable or not a valid layout.',
  },
  OCNE_IMAGE_CACHE_FAILED: {
    area: '@ocne/image',
    severity: 'error',
    meaning: 'The image cache (`~/.ocne/images`) or a local destination could not be written.',
  },
  OCNE_IMAGE_UPLOAD_UNAVAILABLE: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'This kind of upload is not available in this build (`--type oci` to Object Storage, `--type olvm`).',
  },
  // @ocne/image, `image create --type ostree`.
  OCNE_IMAGE_OSTREE_REFERENCE: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The ostree image reference (`osRegistry:osTag`) has no known ostree transport, no image name or no tag.',
  },

  OCNE_IMAGE_OSTREE_SOURCE_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'A local image layout is unreadable or inconsistent: no manifest, a manifest list, diff_ids that do not match the layers, an unsupported media type or digest.',
  },
  OCNE_IMAGE_OSTREE_UNSUPPORTED: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The image is not an ostree-ext v1 ("chunked") image: no `ostree.commit` label, or no `ostree.final-diffid` label (the v0 format).',
  },
  OCNE_IMAGE_OSTREE_DERIVED_LAYERS: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The image has layers after its ostree layers (a derived image); like upstream, they cannot be unencapsulated.',
  },
  OCNE_IMAGE_OSTREE_DIGEST: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      "A layer's or config's bytes do not match their digest or the config's diff_id, or a layer cannot be decompressed or read as a tar.",
  },
  OCNE_IMAGE_OSTREE_CHECKSUM: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'An OSTree object in the image does not match its checksum: the image is corrupt or was tampered with; nothing is written.',
  },
  OCNE_IMAGE_OSTREE_MALFORMED: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'An ostree layer breaks the ostree-ext tar rules (a missing xattrs reference, metadata in a chunk layer, a second or missing commit).',
  },
  // Oracle Cloud (the OCI provider's cloud layer).
  OCNE_OCI_CONFIG_INVALID: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'The OCI configuration cannot be used: the config file (~/.oci/config) or its profile is missing, malformed, too large or not text, a key is absent, or the key file cannot be read (or decrypted with its passphrase).',
  },
  OCNE_OCI_AUTH_FAILED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'Oracle Cloud refused the request signature (401): the user, tenancy, fingerprint or key of the profile do not match an API key, or the clock is off by more than five minutes.',
  },
  OCNE_OCI_NOT_FOUND: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'Oracle Cloud says the resource does not exist or the user may not see it (404): a compartment, image, bucket, namespace or object.',
  },
  OCNE_OCI_THROTTLED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning: 'Oracle Cloud kept answering 429 (too many requests) after every retry.',
  },
  OCNE_OCI_REQUEST_FAILED: {
    area: '@ocne/provider-oci',
    severity: 'both',
    meaning:
      'Oracle Cloud refused a request (the message has the service code and the opc-request-id), or kept failing with server errors after every retry; as a warning, a shape that could not be removed from an arm64 image.',
  },
  OCNE_OCI_UNREACHABLE: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning: 'The OCI endpoint could not be reached (connection refused or reset) after every retry.',
  },
  OCNE_OCI_TIMEOUT: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning: 'An OCI request, or the wait for an image import, took longer than its time limit.',
  },
  OCNE_OCI_COMPARTMENT_NOT_FOUND: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning: 'A level of a compartment path (`parent/child`) names no active compartment under its parent.',
  },
  OCNE_OCI_IMAGE_FILE_INVALID: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning: 'The image file to upload cannot be read or is not a qcow2 image.',
  },
  OCNE_OCI_IMPORT_FAILED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      "The work request importing an image into Oracle Cloud ended FAILED or CANCELED; the message has the work request's errors.",
  },
  OCNE_OCI_CAPABILITY_SCHEMA: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'Oracle Cloud does not have exactly one global image capability schema, so the image schema cannot be made.',
  },
  // Boot images: `image create --type oci`/`olvm` (@ocne/image).

  OCNE_IMAGE_BOOT_SOURCE_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'The cached OCK image is unusable: its manifest or layer 0 is missing or corrupt (digest mismatch), or layer 0 holds no `disk/boot.qcow2`.',
  },
  OCNE_IMAGE_LAYOUT_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      "The boot disk is not laid out as OCK's (GPT, XFS /boot on p2 and root on p3, the BLS entry, the ostree deployment); nothing was changed.",
  },
  OCNE_IMAGE_KERNEL_ARGS_INVALID: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      "The extra kernel arguments leave upstream's sed no usable separator (they use every printable character, or the separator would be `$` or a backslash) or hold a newline.",
  },
  OCNE_IMAGE_EDITOR_UNAVAILABLE: {
    area: '@ocne/image',
    severity: 'error',
    meaning:
      'No disk editor can run here (loop needs root, loop devices and XFS; guestfs needs guestfish with XFS support); the message names the missing packages.',
  },
  OCNE_IMAGE_EDIT_FAILED: {
    area: '@ocne/image',
    severity: 'error',
    meaning: 'A disk tool failed while the boot image was edited; the output was not written.',
  },
  // @ocne/provider-oci: starting and deleting clusters (start/).
  OCNE_OCI_MANAGEMENT_CLUSTER_REQUIRED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'No management cluster is named (providers.oci.kubeconfig, TEST_KUBECONFIG, KUBECONFIG) and no ephemeral cluster can be started.',
  },
  OCNE_OCI_IMAGES_REQUIRED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'The shapes need an OCK image OCID the configuration does not name, and the provider has no images port or lookup to find or make one.',
  },
  OCNE_OCI_CONTROLLER_ERROR: {
    area: '@ocne/provider-oci',
    severity: 'warning',
    meaning:
      'A Cluster API controller reports an error condition on the Cluster, its infrastructure object or a Machine; it may still recover.',
  },
  OCNE_OCI_CLUSTER_FAILED: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'A Cluster API controller reports a terminal failure (failureReason/failureMessage, or a Machine in phase Failed): the cluster needs a person to step in.',
  },
  OCNE_OCI_DELETE_TIMEOUT: {
    area: '@ocne/provider-oci',
    severity: 'error',
    meaning:
      'The Cluster API objects of a deleted cluster were not all gone in time; the controllers go on deleting in the management cluster.',
  },
} as const;

// Every entry has the catalogue's shape (a `satisfies` on the export itself would need the whole
// type spelled out under isolatedDeclarations).
const _shape: Readonly<Record<`OCNE_${string}`, ErrorCodeInfo>> = ERROR_CODES;
void _shape;

/** Any code of an SDK error or warning: a key of {@link ERROR_CODES}. */
export type OcneErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is a code of the catalogue. */
export function isOcneErrorCode(value: unknown): value is OcneErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
