import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { generateTypes, type KindSchema } from '../scripts/generate-types.ts';
import {
  API_VERSIONS,
  type CapiKind,
  type CapiObject,
  type KubeadmControlPlane,
  type KubeadmControlPlaneSpec,
  type Machine,
  type OCICluster,
  type OCIMachineTemplate,
  type OCIMachineTemplateShapeConfig,
} from '../src/index.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A minimal kind around one spec schema. */
const kindWithSpec = (spec: Record<string, unknown>): KindSchema => ({
  kind: 'Widget',
  apiVersion: 'example.com/v1',
  schema: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, spec } },
});

describe('generated CAPI types', () => {
  it('are current with the CRD schemas (generate --check)', () => {
    const result = spawnSync(process.execPath, ['scripts/generate-types.ts', '--check'], {
      cwd: packageRoot,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('map the fields SDK code relies on', () => {
    expectTypeOf<
      KubeadmControlPlane['apiVersion']
    >().toEqualTypeOf<'controlplane.cluster.x-k8s.io/v1beta1'>();
    expectTypeOf<KubeadmControlPlane['kind']>().toEqualTypeOf<'KubeadmControlPlane'>();
    expectTypeOf<KubeadmControlPlaneSpec['replicas']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<KubeadmControlPlaneSpec['version']>().toEqualTypeOf<string>();
    type Ignition = NonNullable<KubeadmControlPlaneSpec['kubeadmConfigSpec']['ignition']>;
    expectTypeOf<Ignition['variant']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Ignition['version']>().toEqualTypeOf<string | undefined>();
    type ShapeConfig = NonNullable<
      NonNullable<OCIMachineTemplate['spec']>['template']['spec']['shapeConfig']
    >;
    expectTypeOf<ShapeConfig>().toEqualTypeOf<OCIMachineTemplateShapeConfig>();
    expectTypeOf<ShapeConfig['ocpus']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ShapeConfig['memoryInGBs']>().toEqualTypeOf<string | undefined>();
    // int-or-string, enum, nullable
    type RollingUpdate = NonNullable<
      NonNullable<KubeadmControlPlaneSpec['rolloutStrategy']>['rollingUpdate']
    >;
    expectTypeOf<RollingUpdate['maxSurge']>().toEqualTypeOf<number | string | undefined>();
    type ClientOverrides = NonNullable<OCICluster['spec']>['clientOverrides'];
    expectTypeOf<ClientOverrides>().toEqualTypeOf<
      NonNullable<NonNullable<OCICluster['spec']>['clientOverrides']> | null | undefined
    >();
    expectTypeOf<CapiKind>().toEqualTypeOf<
      | 'Cluster'
      | 'OCICluster'
      | 'KubeadmControlPlane'
      | 'OCIMachineTemplate'
      | 'KubeadmConfigTemplate'
      | 'MachineDeployment'
      | 'Machine'
    >();

    const machine: Machine = {
      apiVersion: API_VERSIONS.Machine,
      kind: 'Machine',
      metadata: { name: 'm0', namespace: 'ocne', labels: { 'cluster.x-k8s.io/cluster-name': 'demo' } },
      spec: { clusterName: 'demo', bootstrap: {}, infrastructureRef: { kind: 'OCIMachine', name: 'm0' } },
    };
    const objects: CapiObject[] = [machine];
    expect(objects[0]?.kind).toBe('Machine');

    const template: OCIMachineTemplate = {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'OCIMachineTemplate',
      metadata: { name: 'workers' },
      // @ts-expect-error ocpus is a string in the CAPOCI schema (ocne quotes it)
      spec: { template: { spec: { shapeConfig: { ocpus: 2 } } } },
    };
    expect(template.kind).toBe('OCIMachineTemplate');
    // @ts-expect-error the apiVersion is a literal of the version the SDK emits
    const wrongVersion: Machine['apiVersion'] = 'cluster.x-k8s.io/v1beta2';
    expect(wrongVersion).toBeDefined();
  });

  it('lists the apiVersion of every kind', () => {
    expect(API_VERSIONS).toEqual({
      Cluster: 'cluster.x-k8s.io/v1beta1',
      OCICluster: 'infrastructure.cluster.x-k8s.io/v1beta2',
      KubeadmControlPlane: 'controlplane.cluster.x-k8s.io/v1beta1',
      OCIMachineTemplate: 'infrastructure.cluster.x-k8s.io/v1beta2',
      KubeadmConfigTemplate: 'bootstrap.cluster.x-k8s.io/v1beta1',
      MachineDeployment: 'cluster.x-k8s.io/v1beta1',
      Machine: 'cluster.x-k8s.io/v1beta1',
    });
  });
});

describe('generateTypes', () => {
  it('maps types, enums, maps, required and nullable fields, and escapes docs for TSDoc', () => {
    const out = generateTypes([
      kindWithSpec({
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', description: 'The name, e.g. {a} <b> @c */ d.' },
          mode: { type: 'string', enum: ['On', 'Off'] },
          port: { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 },
          size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          value: { 'x-kubernetes-preserve-unknown-fields': true },
          url: { type: 'string', nullable: true },
          created: { type: 'string', format: 'date-time' },
          items: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } },
        },
      }),
    ]);
    expect(out).toContain("apiVersion: 'example.com/v1';");
    expect(out).toContain('  spec?: WidgetSpec;');
    expect(out).toContain('  name: string;');
    expect(out).toContain("  mode?: 'On' | 'Off';");
    expect(out).toContain('  port?: number;');
    expect(out).toContain('@minimum 1');
    expect(out).toContain('@maximum 65535');
    expect(out).toContain('  size?: number | string;');
    expect(out).toContain('  labels?: Record<string, string>;');
    expect(out).toContain('  raw?: Record<string, unknown>;');
    expect(out).toContain('  value?: unknown;');
    expect(out).toContain('  url?: string | null;');
    expect(out).toContain('  created?: string;');
    expect(out).toContain('  items?: WidgetItem[];');
    expect(out).toContain('export interface WidgetItem {');
    expect(out).toContain('The name, e.g. \\{a\\} \\<b\\> \\@c *\\/ d.');
  });

  it('gives same-named objects at different places distinct names', () => {
    const condition = (extra: string) => ({
      type: 'object',
      properties: { [extra]: { type: 'string' } },
    });
    const out = generateTypes([
      kindWithSpec({
        type: 'object',
        properties: {
          conditions: { type: 'array', items: condition('a') },
          v1beta2: { type: 'object', properties: { conditions: { type: 'array', items: condition('b') } } },
        },
      }),
    ]);
    expect(out).toContain('conditions?: WidgetSpecCondition[];');
    expect(out).toContain('conditions?: WidgetV1beta2Condition[];');
  });

  it('is deterministic', () => {
    const kinds = [
      kindWithSpec({ type: 'object', properties: { b: { type: 'string' }, a: { type: 'boolean' } } }),
    ];
    expect(generateTypes(kinds)).toBe(generateTypes(kinds));
  });

  it('rejects a schema it cannot map, naming the kind and path', () => {
    expect(() =>
      generateTypes([kindWithSpec({ type: 'object', properties: { size: { type: 'tuple' } } })]),
    ).toThrow('cannot map the CRD schema of Widget at spec.size: unknown type "tuple"');
    expect(() =>
      generateTypes([
        kindWithSpec({
          type: 'object',
          properties: { choice: { oneOf: [{ type: 'string' }, { type: 'integer' }] } },
        }),
      ]),
    ).toThrow('cannot map the CRD schema of Widget at spec.choice: unsupported keyword "oneOf"');
    expect(() =>
      generateTypes([kindWithSpec({ type: 'object', properties: { list: { type: 'array' } } })]),
    ).toThrow(/Widget at spec\.list: array without an "items" schema/);
  });
});
