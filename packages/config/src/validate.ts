/**
 * Checks a resolved configuration. Pure: every problem becomes an issue located in the layer
 * that set the value (file, line, column, YAML path), and all of them are reported at once.
 */

import { PROVIDERS } from './defaults.js';
import type { ConfigIssue } from './errors.js';
import { checkOstreeReference, parseOstreeReference } from './images.js';
import {
  isSupportedKubernetesVersion,
  kubernetesVersionInfo,
  supportedKubernetesVersions,
} from './kubernetes-versions.js';
import { LAYER_ORDER, type Provenance } from './layers.js';
import { clip } from './limits.js';
import type { ResolvedClusterConfig, ResolvedDefaultsConfig } from './resolved.js';
import {
  checkHost,
  checkIp,
  checkOcid,
  checkSegmentSubnet,
  checkShape,
  checkSize,
  checkSubnetList,
  ipv4Range,
  parseCompartment,
} from './values.js';

const KUBE_PROXY_MODES = ['iptables', 'ipvs', 'nftables'];
const CNIS = ['', 'flannel', 'none'];
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Context for {@link validateResolved}. */
export interface ValidateInput {
  cluster: ResolvedClusterConfig;
  defaults: ResolvedDefaultsConfig;
  provenance: Provenance;
  defaultsProvenance: Provenance;
  /** Label used for problems with no source (a required value nobody set). */
  clusterSource: string;
  /** Provider names accepted besides upstream's (providers an embedder registered). */
  extraProviders?: readonly string[];
}

/** Checks a resolved configuration and returns its problems (errors and warnings). */
export function validateResolved(input: ValidateInput): ConfigIssue[] {
  const { cluster: c, defaults: d } = input;
  const issues: ConfigIssue[] = [];
  const add = (
    code: ConfigIssue['code'],
    path: string,
    message: string,
    options: { severity?: 'error' | 'warning'; defaultsLevel?: boolean } = {},
  ): void => {
    const source = (options.defaultsLevel ? input.defaultsProvenance : input.provenance).sourceOf(path);
    issues.push({
      code,
      message,
      severity: options.severity ?? 'error',
      file: source?.source ?? input.clusterSource,
      ...(source?.line !== undefined ? { line: source.line, column: source.column } : {}),
      path: source?.path ?? path,
    });
  };
  const check = (
    path: string,
    value: string,
    problem: (v: string) => string | undefined,
    defaultsLevel = false,
  ): void => {
    if (value === '') return;
    const message = problem(value);
    if (message !== undefined) add('OCNE_CONFIG_INVALID_VALUE', path, message, { defaultsLevel });
  };

  // Identity and provider.
  if (!NAME.test(c.name) || c.name.length > 63) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'name',
      `expected a cluster name of at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit (it names files, VMs and Kubernetes objects), found "${clip(c.name)}"`,
    );
  }
  const providers = [...PROVIDERS, ...(input.extraProviders ?? [])];
  if (!providers.includes(c.provider)) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'provider',
      `expected one of ${providers.join(', ')}, found "${clip(c.provider)}"`,
    );
  }

  // Kubernetes version and the values derived from it.
  if (
    !isSupportedKubernetesVersion(c.kubernetesVersion) ||
    kubernetesVersionInfo(c.kubernetesVersion) === undefined
  ) {
    const known = supportedKubernetesVersions().map((v) => v.minor);
    const hint = c.kubernetesVersion.startsWith('v') ? ` (write it without the leading "v")` : '';
    add(
      'OCNE_CONFIG_UNSUPPORTED_VERSION',
      'kubernetesVersion',
      `expected a supported Kubernetes version (${known[0]} to ${known.at(-1)}, or one of their exact patch versions), found "${clip(c.kubernetesVersion)}"${hint}`,
    );
  }

  // Networks.
  check('podSubnet', c.podSubnet, checkSubnetList);
  check('serviceSubnet', c.serviceSubnet, checkSubnetList);
  check('virtualIp', c.virtualIp, checkIp);
  check('loadBalancer', c.loadBalancer, checkHost);
  // The endpoint is the virtual IP (see resolve.ts): a load balancer besides it is a conflict.
  if (c.apiEndpoint.internalLB && c.loadBalancer !== '') {
    add(
      'OCNE_CONFIG_CONFLICT',
      'loadBalancer',
      'Can not specify both virtual IP and load balancer: set virtualIp or loadBalancer, not both',
    );
  }
  if (c.kubeApiServerBindPort === c.kubeApiServerBindPortAlt) {
    // Blame the one a user set (the higher layer when both were).
    const rank = (p: string) => {
      const layer = input.provenance.sourceOf(p)?.layer;
      return layer === undefined || layer === 'derived' ? -1 : LAYER_ORDER.indexOf(layer);
    };
    const blamed =
      rank('kubeApiServerBindPort') > rank('kubeApiServerBindPortAlt')
        ? 'kubeApiServerBindPort'
        : 'kubeApiServerBindPortAlt';
    add(
      'OCNE_CONFIG_CONFLICT',
      blamed,
      `expected kubeApiServerBindPortAlt to differ from kubeApiServerBindPort (${c.kubeApiServerBindPort}): with a virtual IP, nginx listens on one and kube-apiserver on the other`,
    );
  }
  if (!KUBE_PROXY_MODES.includes(c.kubeProxyMode)) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'kubeProxyMode',
      `expected one of ${KUBE_PROXY_MODES.join(', ')}, found "${clip(c.kubeProxyMode)}"`,
    );
  }
  if (!CNIS.includes(c.cni)) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'cni',
      `unknown CNI "${clip(c.cni)}": no CNI will be installed (upstream knows flannel and none)`,
      {
        severity: 'warning',
      },
    );
  }

  // Images. Upstream reads osRegistry with containers/image's rules; a digest is refused like a
  // tag, since /etc/ocne/update.yaml has room for neither (upstream drops a digest silently).
  const ostree = parseOstreeReference(c.osRegistry);
  if (ostree === undefined) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'osRegistry',
      `expected an OSTree image reference such as container-registry.oracle.com/olcne/ock-ostree, found "${clip(c.osRegistry)}": ${checkOstreeReference(c.osRegistry)}`,
    );
  } else if (ostree.tag !== '') {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'osRegistry',
      `osRegistry field cannot have a tag: remove ":${clip(ostree.tag)}" (the tag comes from osTag)`,
    );
  } else if (ostree.digest !== '') {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'osRegistry',
      `osRegistry field cannot have a digest: remove "@${ostree.digest}" (the node follows osTag)`,
    );
  }

  // Secrets: never echo them.
  if (c.password !== '' && !/^\$(1|2[abxy]?|5|6|y|gy|7)\$/.test(c.password)) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'password',
      'expected a password hash such as the output of `openssl passwd -6` ($6$...), found something else (a plain password cannot be used and is not shown here)',
    );
  }
  if (
    c.sshPublicKey !== '' &&
    !/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+/.test(c.sshPublicKey.trim())
  ) {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'sshPublicKey',
      'expected an OpenSSH public key line such as "ssh-ed25519 AAAA... comment"',
    );
  }

  // Cluster definitions.
  if (c.clusterDefinition !== '' && c.clusterDefinitionInline !== '') {
    add(
      'OCNE_CONFIG_CONFLICT',
      'clusterDefinitionInline',
      'cluster configuration has file-based and inline resources: set clusterDefinition or clusterDefinitionInline, not both',
    );
  }

  // Sizes and nodes.
  const lv = c.providers.libvirt;
  for (const [path, n] of [
    ['providers.libvirt.controlPlaneNode', lv.controlPlaneNode],
    ['providers.libvirt.workerNode', lv.workerNode],
  ] as const) {
    check(`${path}.memory`, n.memory, checkSize);
    check(`${path}.storage`, n.storage, checkSize);
    // 0 means unset (the default applies); a negative count would reach libvirt as it is.
    if (n.cpu < 0) {
      add('OCNE_CONFIG_INVALID_VALUE', `${path}.cpu`, `expected a positive number of CPUs, found ${n.cpu}`);
    }
  }
  // The node segment (an SDK extension): its subnet must not meet a network the nodes already use.
  check('providers.libvirt.segment.subnet', lv.segment.subnet, checkSegmentSubnet);
  const segment = lv.segment.enabled ? ipv4Range(lv.segment.subnet) : undefined;
  if (segment !== undefined && checkSegmentSubnet(lv.segment.subnet) === undefined) {
    for (const [key, value] of [
      ['providers.libvirt.slirpSubnet', lv.slirpSubnet],
      ['podSubnet', c.podSubnet],
      ['serviceSubnet', c.serviceSubnet],
    ] as const) {
      const overlapping = value
        .split(',')
        .map((entry) => ipv4Range(entry))
        .some((r) => r !== undefined && r.first <= segment.last && segment.first <= r.last);
      if (overlapping) {
        add(
          'OCNE_CONFIG_CONFLICT',
          'providers.libvirt.segment.subnet',
          `the node segment's subnet ${clip(lv.segment.subnet)} overlaps ${key} ${clip(value)}: choose a subnet that meets neither the user network nor the pod and service subnets`,
        );
      }
    }
  }
  const eph = d.ephemeralCluster.node;
  check('ephemeralCluster.node.memory', eph.memory, checkSize, true);
  check('ephemeralCluster.node.storage', eph.storage, checkSize, true);
  if (d.autoStartUI !== 'true' && d.autoStartUI !== 'false') {
    add(
      'OCNE_CONFIG_INVALID_VALUE',
      'autoStartUI',
      `expected "true" or "false", found "${clip(d.autoStartUI)}"`,
      {
        defaultsLevel: true,
      },
    );
  }

  // OCI values are checked whatever the provider (they are wrong either way); requirements only for oci.
  const oci = c.providers.oci;
  check('providers.oci.images.amd64', oci.images.amd64, (v) => checkOcid(v, 'image'));
  check('providers.oci.images.arm64', oci.images.arm64, (v) => checkOcid(v, 'image'));
  check('providers.oci.vcn', oci.vcn, (v) => checkOcid(v, 'vcn'));
  check('providers.oci.loadBalancer.subnet1', oci.loadBalancer.subnet1, (v) => checkOcid(v, 'subnet'));
  check('providers.oci.loadBalancer.subnet2', oci.loadBalancer.subnet2, (v) => checkOcid(v, 'subnet'));
  check('providers.oci.controlPlaneShape.shape', oci.controlPlaneShape.shape, checkShape);
  check('providers.oci.workerShape.shape', oci.workerShape.shape, checkShape);
  check('providers.oci.compartment', oci.compartment, (v) => {
    const ref = parseCompartment(v);
    return typeof ref === 'string' ? ref : undefined;
  });
  for (const shape of ['controlPlaneShape', 'workerShape'] as const) {
    const s = oci[shape];
    if (s.ocpus < 0)
      add(
        'OCNE_CONFIG_INVALID_VALUE',
        `providers.oci.${shape}.ocpus`,
        `expected a positive number of OCPUs, found ${s.ocpus}`,
      );
    check(`providers.oci.${shape}.bootVolumeSizeInGBs`, s.bootVolumeSizeInGBs, (v) =>
      /^[1-9]\d*$/.test(v) ? undefined : `expected a whole number of GB such as "50", found "${clip(v)}"`,
    );
  }

  switch (c.provider) {
    case 'oci':
    case 'olvm':
      if (c.controlPlaneNodes % 2 === 0) {
        add(
          'OCNE_CONFIG_INVALID_VALUE',
          'controlPlaneNodes',
          `the number of control plane nodes must be odd (etcd needs a majority), found ${c.controlPlaneNodes}`,
        );
      }
      if (c.provider === 'oci' && oci.compartment === '') {
        add(
          'OCNE_CONFIG_MISSING',
          'providers.oci.compartment',
          'the oci provider requires a compartment in the provider with configuration: set providers.oci.compartment to an OCID or a path such as "parent/child"',
        );
      }
      break;
    case 'byo':
      if (c.providers.byo.networkInterface === '') {
        add(
          'OCNE_CONFIG_MISSING',
          'providers.byo.networkInterface',
          'A network interface must be provided: set providers.byo.networkInterface (for example enp1s0)',
        );
      }
      if (c.apiEndpoint.address === '') {
        add(
          'OCNE_CONFIG_MISSING',
          'virtualIp',
          'A virtual IP or load balancer is required: set virtualIp or loadBalancer',
        );
      }
      break;
  }
  return issues;
}
