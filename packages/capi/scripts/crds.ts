// The CustomResourceDefinitions this package's types, templates and tests are made against: the
// Cluster API 1.10.8 and CAPOCI 0.21.0 CRDs, as upstream lays them out in its Go modules (fetched
// into the test cache by scripts/test-tools.sh; found through @ocne/test-tools), with Oracle's two
// extra Ignition fields added to the kubeadm control-plane and bootstrap CRDs as Oracle's CAPI
// build serves them (oracle-ignition-fields.ts).
import { readFileSync } from 'node:fs';
import { referenceSchema } from '@ocne/test-tools';
import { parse } from 'yaml';
import { withOracleIgnitionFields } from './oracle-ignition-fields.ts';

/** One CRD file and the API version this SDK generates for it. */
export interface CrdSource {
  kind: string;
  /** `group/version` the SDK emits. */
  apiVersion: string;
  /** The Go module that has the CRD, as `<module path>@<version>` (pinned in test-utils/tools/versions.json). */
  module: string;
  /** Path of the CRD file inside the module. */
  path: string;
}

const CAPI = 'sigs.k8s.io/cluster-api@v1.10.8';
const CAPOCI = 'github.com/oracle/cluster-api-provider-oci@v0.21.0';

/** The seven kinds the SDK types, in the order upstream's template emits them (Machine last). */
export const CRD_SOURCES: readonly CrdSource[] = [
  {
    kind: 'Cluster',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    module: CAPI,
    path: 'config/crd/bases/cluster.x-k8s.io_clusters.yaml',
  },
  {
    kind: 'OCICluster',
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    module: CAPOCI,
    path: 'config/crd/bases/infrastructure.cluster.x-k8s.io_ociclusters.yaml',
  },
  {
    kind: 'KubeadmControlPlane',
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
    module: CAPI,
    path: 'controlplane/kubeadm/config/crd/bases/controlplane.cluster.x-k8s.io_kubeadmcontrolplanes.yaml',
  },
  {
    kind: 'OCIMachineTemplate',
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    module: CAPOCI,
    path: 'config/crd/bases/infrastructure.cluster.x-k8s.io_ocimachinetemplates.yaml',
  },
  {
    kind: 'KubeadmConfigTemplate',
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    module: CAPI,
    path: 'bootstrap/kubeadm/config/crd/bases/bootstrap.cluster.x-k8s.io_kubeadmconfigtemplates.yaml',
  },
  {
    kind: 'MachineDeployment',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    module: CAPI,
    path: 'config/crd/bases/cluster.x-k8s.io_machinedeployments.yaml',
  },
  {
    kind: 'Machine',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    module: CAPI,
    path: 'config/crd/bases/cluster.x-k8s.io_machines.yaml',
  },
];

/** A CRD document as parsed YAML. */
export interface Crd {
  apiVersion: string;
  kind: 'CustomResourceDefinition';
  metadata: { name: string; [key: string]: unknown };
  spec: {
    group: string;
    names: { kind: string; plural: string; [key: string]: unknown };
    versions: Array<{
      name: string;
      schema?: { openAPIV3Schema: Record<string, unknown> };
      [key: string]: unknown;
    }>;
    [key: string]: unknown;
  };
}

/** The CRD of one source, with Oracle's Ignition fields where its kind has an `ignition` object. */
export function loadCrd(source: CrdSource): Crd {
  const crd = parse(readFileSync(referenceSchema(source.module, source.path), 'utf8')) as Crd;
  return withOracleIgnitionFields(crd);
}

/** The OpenAPI v3 schema of the version a source names. */
export function crdSchema(source: CrdSource, crd: Crd = loadCrd(source)): Record<string, unknown> {
  const version = source.apiVersion.split('/')[1];
  const served = crd.spec.versions.find((v) => v.name === version);
  if (served?.schema === undefined)
    throw new Error(`${source.module}/${source.path} has no schema for ${version}`);
  return served.schema.openAPIV3Schema;
}
