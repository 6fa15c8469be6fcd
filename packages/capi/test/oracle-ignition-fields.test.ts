// Oracle's Ignition fields go where Oracle's CAPI build has them, in the two kinds that have an
// `ignition` object, and nowhere else; a CRD that is not shaped as expected is refused rather
// than patched somewhere else.
import { describe, expect, it } from 'vitest';
import { CRD_SOURCES, type Crd, loadCrd } from '../scripts/crds.ts';
import { ORACLE_IGNITION_FIELDS, withOracleIgnitionFields } from '../scripts/oracle-ignition-fields.ts';

const source = (kind: string) => CRD_SOURCES.find((s) => s.kind === kind)!;

/** The `properties` at a path of property names in a CRD's v1beta1 schema. */
function propertiesAt(crd: Crd, path: readonly string[]): Record<string, unknown> {
  let node = crd.spec.versions.find((v) => v.name === 'v1beta1')!.schema!.openAPIV3Schema;
  for (const key of path) node = (node.properties as Record<string, Record<string, unknown>>)[key]!;
  return node.properties as Record<string, unknown>;
}

describe("Oracle's Ignition fields", () => {
  it.each([
    ['KubeadmControlPlane', ['spec', 'kubeadmConfigSpec', 'ignition']],
    ['KubeadmConfigTemplate', ['spec', 'template', 'spec', 'ignition']],
  ] as const)('are added to the ignition object of %s', (kind, path) => {
    const ignition = propertiesAt(loadCrd(source(kind)), path);
    expect(Object.keys(ignition)).toEqual(['containerLinuxConfig', 'variant', 'version']);
    expect(ignition.variant).toEqual(ORACLE_IGNITION_FIELDS.variant);
    expect(ignition.version).toMatchObject({ type: 'string' });
  });

  it('leave a kind without an ignition object alone', () => {
    const crd = loadCrd(source('Cluster'));
    expect(JSON.stringify(crd)).not.toContain('Butane');
    expect(withOracleIgnitionFields(structuredClone(crd))).toEqual(crd);
  });

  it('refuse a CRD that already has them or lacks the ignition object', () => {
    const patched = loadCrd(source('KubeadmControlPlane'));
    expect(() => withOracleIgnitionFields(patched)).toThrow(
      'kubeadmcontrolplanes.controlplane.cluster.x-k8s.io v1beta1: spec.kubeadmConfigSpec.ignition already has variant',
    );
    const bare = loadCrd(source('KubeadmConfigTemplate'));
    delete propertiesAt(bare, ['spec', 'template', 'spec']).ignition;
    expect(() => withOracleIgnitionFields(bare)).toThrow(
      'kubeadmconfigtemplates.bootstrap.cluster.x-k8s.io v1beta1 has no spec.template.spec.ignition in its schema',
    );
  });
});
