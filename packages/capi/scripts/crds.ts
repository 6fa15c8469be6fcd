// The CustomResourceDefinitions this package's types, templates and tests are made against: the
// Cluster API 1.10.8 and CAPOCI 0.21.0 CRDs from the steering repository's reference schemas
// (next to the checkout), with Oracle's two extra Ignition fields patched into the kubeadm
// control-plane and bootstrap CRDs as Oracle's CAPI build serves them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
/** The reference schemas folder. */
export const SCHEMAS: string = join(here, '../../../../shared/schemas');

/** One CRD file and the API version this SDK generates for it. */
export interface CrdSource {
  kind: string;
  /** `group/version` the SDK emits. */
  apiVersion: string;
  /** Path below {@link SCHEMAS}. */
  file: string;
}

/** The seven kinds the SDK types, in the order upstream's template emits them (Machine last). */
export const CRD_SOURCES: readonly CrdSource[] = [
  {
    kind: 'Cluster',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    file: 'capi/v1.10.8/cluster.x-k8s.io_clusters.yaml',
  },
  {
    kind: 'OCICluster',
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    file: 'capoci/v0.21.0/infrastructure.cluster.x-k8s.io_ociclusters.yaml',
  },
  {
    kind: 'KubeadmControlPlane',
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
    file: 'capi/v1.10.8/controlplane.cluster.x-k8s.io_kubeadmcontrolplanes.yaml',
  },
  {
    kind: 'OCIMachineTemplate',
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    file: 'capoci/v0.21.0/infrastructure.cluster.x-k8s.io_ocimachinetemplates.yaml',
  },
  {
    kind: 'KubeadmConfigTemplate',
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    file: 'capi/v1.10.8/bootstrap.cluster.x-k8s.io_kubeadmconfigtemplates.yaml',
  },
  {
    kind: 'MachineDeployment',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    file: 'capi/v1.10.8/cluster.x-k8s.io_machinedeployments.yaml',
  },
  {
    kind: 'Machine',
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    file: 'capi/v1.10.8/cluster.x-k8s.io_machines.yaml',
  },
];

/** Path below {@link SCHEMAS} of the JSON patches that add Oracle's Ignition fields. */
export const PATCH_FILE: string = 'capi/ocne-patches/ocne-ignition-fields.patch.json';

interface PatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** Applies RFC 6902 `add` operations (all the Oracle patch uses) to a copy of a document. */
function applyPatch(doc: unknown, ops: readonly PatchOp[]): unknown {
  const copy = structuredClone(doc);
  for (const op of ops) {
    if (op.op !== 'add') throw new Error(`unsupported JSON patch op ${op.op}`);
    const keys = op.path
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop()!;
    let node = copy as Record<string, unknown>;
    for (const key of keys) {
      const next = node[key];
      if (next === null || typeof next !== 'object')
        throw new Error(`JSON patch path ${op.path} does not exist`);
      node = next as Record<string, unknown>;
    }
    node[last] = op.value;
  }
  return copy;
}

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

/** The CRD of one source, with the Oracle patch applied where it has one. */
export function loadCrd(source: CrdSource): Crd {
  const crd = parse(readFileSync(join(SCHEMAS, source.file), 'utf8')) as Crd;
  const patches = JSON.parse(readFileSync(join(SCHEMAS, PATCH_FILE), 'utf8')) as Record<string, unknown>;
  const name = source.file.split('/').pop()!;
  const ops = patches[name];
  return Array.isArray(ops) ? (applyPatch(crd, ops as PatchOp[]) as Crd) : crd;
}

/** The OpenAPI v3 schema of the version a source names. */
export function crdSchema(source: CrdSource, crd: Crd = loadCrd(source)): Record<string, unknown> {
  const version = source.apiVersion.split('/')[1];
  const served = crd.spec.versions.find((v) => v.name === version);
  if (served?.schema === undefined) throw new Error(`${source.file} has no schema for ${version}`);
  return served.schema.openAPIV3Schema;
}
