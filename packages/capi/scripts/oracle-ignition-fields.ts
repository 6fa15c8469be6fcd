// Oracle's two Ignition fields, which upstream Cluster API lacks: `variant` and `version` of the
// kubeadm `ignition` object, the Butane variant and version the bootstrap provider translates
// with (ocne's template sets `fcos` and `1.5.0`). Oracle's build of Cluster API adds them to its
// `IgnitionSpec` (oracle-cne/cluster-api, branch oracle/release/1.10.8, in
// bootstrap/kubeadm/api/v1beta1), and the CRDs ocne installs carry them: the KubeadmControlPlane
// and KubeadmConfigTemplate CRDs of the control-plane-capi and bootstrap-capi charts in Oracle's
// catalog, 1.7.1 to 1.10.8. Without them a strict validator refuses ocne's objects, and a bare API
// server with upstream's CRDs drops both fields. The descriptions are those of Oracle's Go fields,
// so the generated types document them. The project's own patch of the upstream CRDs.
import type { Crd } from './crds.ts';

/** The two fields, as they appear in the `ignition` object's `properties`. */
export const ORACLE_IGNITION_FIELDS: Readonly<Record<'variant' | 'version', Record<string, unknown>>> = {
  variant: {
    description: 'Variant selects the Operating System variant to use for the generated configuration',
    type: 'string',
  },
  version: {
    description: 'Version selects the version of Butane to use for generated configuration',
    type: 'string',
  },
};

/** Where the `ignition` object is in each kind that has one (property names from the root). */
const IGNITION_AT: Readonly<Record<string, readonly string[]>> = {
  KubeadmControlPlane: ['spec', 'kubeadmConfigSpec', 'ignition'],
  KubeadmConfigTemplate: ['spec', 'template', 'spec', 'ignition'],
};

/** The API version Oracle's build adds the fields to (the only one these CRDs serve). */
const VERSION = 'v1beta1';

/**
 * A CRD with Oracle's Ignition fields added to its `v1beta1` schema when its kind has an `ignition`
 * object; other kinds come back unchanged. Changes `crd` in place. Throws when the schema is not
 * shaped as expected, or already has a field of that name: a new upstream release to look at.
 */
export function withOracleIgnitionFields(crd: Crd): Crd {
  const at = IGNITION_AT[crd.spec.names.kind];
  if (at === undefined) return crd;
  const where = `${crd.metadata.name} ${VERSION}`;
  let node = crd.spec.versions.find((v) => v.name === VERSION)?.schema?.openAPIV3Schema;
  for (const key of at) {
    const properties = node?.properties as Record<string, Record<string, unknown>> | undefined;
    node = properties?.[key];
    if (node === undefined) throw new Error(`${where} has no ${at.join('.')} in its schema`);
  }
  const properties = node?.properties as Record<string, unknown> | undefined;
  if (properties === undefined) throw new Error(`${where}: ${at.join('.')} lists no properties`);
  for (const [name, schema] of Object.entries(ORACLE_IGNITION_FIELDS)) {
    if (name in properties) throw new Error(`${where}: ${at.join('.')} already has ${name}`);
    properties[name] = structuredClone(schema);
  }
  return crd;
}
