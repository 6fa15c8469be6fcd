// The resources an OCI cluster starts from: the template, a clusterDefinition file or
// clusterDefinitionInline, checked as upstream checks them before applying anything.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ResolvedClusterConfig, readConfigFiles } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  CapiResourcesError,
  checkClusterResources,
  objectsToYaml,
  ociClusterResources,
  ociTemplate,
  parseKubeObjects,
} from '../src/templates.js';

const dir = mkdtempSync(join(tmpdir(), 'ocne-resources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OCI = `provider: oci\nname: c1\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..aaaaaaaatest\n    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaamd\n      arm64: ocid1.image.oc1.iad.aaaaaaaaarm\n`;

async function load(text: string) {
  const configPath = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(configPath, text);
  return (await loadConfig({ configPath, defaults: false, home: dir, env: {} })).cluster;
}

/** The resources, with the files the configuration names read first (as the facade does). */
const resources = async (cluster: ResolvedClusterConfig) =>
  ociClusterResources(cluster, { files: await readConfigFiles(cluster) });

const own = (namespace: string, imageId = 'ocid1.image.oc1.iad.aaaaaaaamine') => [
  {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    metadata: { name: 'mine', namespace, labels: { 'cluster.x-k8s.io/cluster-name': 'mine' } },
  },
  {
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    kind: 'OCIMachineTemplate',
    metadata: { name: 'mine-md-0', namespace },
    spec: { template: { spec: { imageId } } },
  },
];

describe('ociClusterResources', () => {
  it('renders the template when no definition is given', async () => {
    const cluster = await load(OCI);
    const r = await ociClusterResources(cluster);
    expect(r.source).toBe('template');
    expect(r.objects).toHaveLength(7);
    expect([r.namespace, r.clusterName]).toEqual(['ocne', 'c1']);
  });

  it('reads clusterDefinition relative to the configuration file, and takes the namespace from its Cluster', async () => {
    writeFileSync(join(dir, 'mine.yaml'), objectsToYaml(own('team-b')));
    const r = await resources(await load(`${OCI}clusterDefinition: mine.yaml\n`));
    expect(r).toMatchObject({
      source: 'file',
      path: join(dir, 'mine.yaml'),
      namespace: 'team-b',
      clusterName: 'mine',
    });
    expect(r.objects.map((o) => o.kind)).toEqual(['Cluster', 'OCIMachineTemplate']);
  });

  it('takes clusterDefinitionInline', async () => {
    const inline = objectsToYaml(own('team-c'));
    const r = await ociClusterResources(
      await load(`${OCI}${stringify({ clusterDefinitionInline: inline })}`),
    );
    expect(r).toMatchObject({ source: 'inline', namespace: 'team-c' });
  });

  it('reads a rendered template back as the same objects', async () => {
    const t = await ociTemplate(await load(OCI));
    writeFileSync(join(dir, 'rendered.yaml'), objectsToYaml(t.objects));
    const r = await resources(await load(`${OCI}clusterDefinition: rendered.yaml\n`));
    expect(r.objects).toEqual(JSON.parse(JSON.stringify(t.objects)));
  });

  it('refuses both definitions at once', async () => {
    const cluster = await load(OCI);
    cluster.clusterDefinition = join(dir, 'mine.yaml');
    cluster.clusterDefinitionInline = 'kind: x';
    const e = await ociClusterResources(cluster).catch((x) => x);
    expect(isOcneError(e) && e.code).toBe('OCNE_CAPI_DEFINITION_CONFLICT');
  });

  it('names a clusterDefinition it cannot read', async () => {
    const e = await resources(await load(`${OCI}clusterDefinition: missing.yaml\n`)).catch((x) => x);
    expect(isOcneError(e) && e.code).toBe('OCNE_CONFIG_FILE_MISSING');
    expect(e.message).toContain(join(dir, 'missing.yaml'));
  });
});

describe('parseKubeObjects and checkClusterResources', () => {
  it('points at the line and column of broken YAML', () => {
    const e = (() => {
      try {
        parseKubeObjects(
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: B\nkind: C\n',
          'defs.yaml',
        );
      } catch (error) {
        return error;
      }
    })() as CapiResourcesError;
    expect(e).toBeInstanceOf(CapiResourcesError);
    expect(e.code).toBe('OCNE_CAPI_INVALID_RESOURCES');
    expect(e.location).toEqual({ file: 'defs.yaml', line: 7, column: 1 });
    expect(e.message).toMatch(/^defs\.yaml:7:1: Map keys must be unique/);
  });

  it('refuses a document that is not a Kubernetes object, with its position', () => {
    expect(() =>
      parseKubeObjects('apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n- just\n- a list\n', 'x.yaml'),
    ).toThrow(/^x\.yaml:6:1: a Kubernetes object needs apiVersion, kind and metadata\.name$/);
  });

  it('skips empty documents', () => {
    expect(parseKubeObjects('---\n---\napiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n')).toHaveLength(
      1,
    );
  });

  it('refuses an imageId that is not an image OCID, naming the object and field', () => {
    expect(() => checkClusterResources(own('ns', 'ocid1.instance.oc1..x'))).toThrow(
      'OCIMachineTemplate mine-md-0: spec.template.spec.imageId must be an image OCID (ocid1.image...), not "ocid1.instance.oc1..x"',
    );
    expect(() => checkClusterResources(own('ns', ''))).toThrow(/imageId must be an image OCID/);
  });

  it('needs a labelled v1beta1 Cluster', () => {
    const [cluster, template] = own('ns');
    const unlabelled = { ...cluster!, metadata: { name: 'mine', namespace: 'ns' } };
    const e = (() => {
      try {
        checkClusterResources([unlabelled, template!]);
      } catch (error) {
        return error as { code: string };
      }
    })();
    expect(e?.code).toBe('OCNE_CAPI_NO_CLUSTER');
  });
});
