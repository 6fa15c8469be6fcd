// The pure move plan (src/move/graph.ts), without an API server: the kinds a move lists from the
// CRDs, which objects of a namespace move with a Cluster, in which order they are created and
// deleted, how each copy looks in the target (owners remapped to the new UIDs), and the checks
// that keep a move from starting. The objects are the realistic graph of test/graph.ts, as the
// source's API server would list them.

import { pool } from '@ocne/core';
import { describe, expect, it } from 'vitest';
import { CapiMoveError } from '../src/move/errors.js';
import {
  blockMoveProblems,
  type Crd,
  DELETE_FOR_MOVE,
  deletionGroups,
  type GraphNode,
  type Kind,
  mergePatched,
  missingKinds,
  moveKinds,
  type Obj,
  type Plan,
  planMove,
  provisioningProblems,
  statusToCopy,
  summarize,
  targetObject,
} from '../src/move/graph.js';
import { capiCrds } from './crds.ts';
import { type ClusterGraphOptions, listedClusterGraph } from './graph.ts';

const NS = 'team-a';
const CRDS = capiCrds() as unknown as Crd[];
const KINDS = moveKinds(CRDS);

/** Objects as discovery lists them: each with the kind it was listed as. */
function listed(objects: ReadonlyArray<Record<string, unknown>>): Array<{ obj: Obj; kind: Kind }> {
  return objects.map((o) => {
    const obj = o as unknown as Obj;
    const kind = KINDS.find(
      (k) =>
        (k.group === '' ? k.version : `${k.group}/${k.version}`) === obj.apiVersion && k.kind === obj.kind,
    );
    if (kind === undefined) throw new Error(`no listed kind for ${obj.apiVersion} ${obj.kind}`);
    return { obj, kind };
  });
}

const graph = (name: string, options: Partial<ClusterGraphOptions> = {}) =>
  listedClusterGraph({ namespace: NS, name, workers: 2, ...options });
const keyOf = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;
const nodeKey = (n: GraphNode) => `${n.kind.kind}/${n.obj.metadata.name}`;
const keysOf = (objects: ReadonlyArray<Record<string, unknown>>) =>
  objects.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`).sort();

/** A Secret of the namespace, listed. */
const secret = (name: string, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: NS, uid: `uid-Secret-${name}`, ...metadata },
  data: {},
});

/** What moving `name` out of `objects` throws. */
function planError(objects: ReadonlyArray<Record<string, unknown>>, name: string): CapiMoveError {
  try {
    planMove(listed(objects), NS, name);
  } catch (error) {
    expect(error).toBeInstanceOf(CapiMoveError);
    return error as CapiMoveError;
  }
  throw new Error('planMove did not throw');
}

describe('the kinds a move lists', () => {
  it('are the namespaced Cluster API kinds at their storage version, then Secrets and ConfigMaps', () => {
    const crd = (
      group: string,
      names: { kind: string; plural: string },
      scope: string,
      versions: Crd['spec']['versions'],
      labels?: Record<string, string>,
    ): Crd => ({
      metadata: { name: `${names.plural}.${group}`, ...(labels ? { labels } : {}) },
      spec: { group, scope, names, versions },
    });
    const other = crd('example.com', { kind: 'Widget', plural: 'widgets' }, 'Namespaced', [
      { name: 'v1', served: true, storage: true },
    ]);
    const labelled = crd(
      'example.org',
      { kind: 'Probe', plural: 'probes' },
      'Namespaced',
      [
        { name: 'v1alpha1', served: true, storage: false },
        { name: 'v1beta1', served: true, storage: true, subresources: { status: {} } },
      ],
      { 'clusterctl.cluster.x-k8s.io': '' },
    );
    const global = crd(
      'infrastructure.cluster.x-k8s.io',
      { kind: 'OCIClusterIdentity', plural: 'ociclusteridentities' },
      'Cluster',
      [{ name: 'v1beta2', served: true, storage: true }],
    );
    const kinds = moveKinds([...CRDS, other, labelled, global]);
    expect(kinds.map((k) => `${k.group ? `${k.group}/` : ''}${k.version} ${k.kind}`)).toEqual([
      'bootstrap.cluster.x-k8s.io/v1beta1 KubeadmConfig',
      'bootstrap.cluster.x-k8s.io/v1beta1 KubeadmConfigTemplate',
      'cluster.x-k8s.io/v1beta1 Cluster',
      'cluster.x-k8s.io/v1beta1 Machine',
      'cluster.x-k8s.io/v1beta1 MachineDeployment',
      'cluster.x-k8s.io/v1beta1 MachineSet',
      'controlplane.cluster.x-k8s.io/v1beta1 KubeadmControlPlane',
      'example.org/v1beta1 Probe',
      'infrastructure.cluster.x-k8s.io/v1beta2 OCICluster',
      'infrastructure.cluster.x-k8s.io/v1beta2 OCIMachine',
      'infrastructure.cluster.x-k8s.io/v1beta2 OCIMachineTemplate',
      'v1 Secret',
      'v1 ConfigMap',
    ]);
    expect(kinds.find((k) => k.kind === 'Probe')).toMatchObject({ plural: 'probes', status: true });
  });
});

describe('which objects move', () => {
  it('moves every object of the Cluster, soft-owned and labelled ones included, and nothing of another Cluster', () => {
    const alpha = graph('alpha', { controlPlanes: 3 });
    const beta = graph('beta', { workers: 1 });
    const unrelated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: NS } };
    const plan = planMove(listed([...beta, ...alpha, unrelated]), NS, 'alpha');
    const { objects, counts } = summarize(plan);
    expect(objects.map(keyOf).sort()).toEqual(keysOf(alpha));
    expect(counts).toMatchObject({ Cluster: 1, Machine: 5, KubeadmConfig: 5, OCIMachine: 5, Secret: 10 });
    // Tied by name only (no owner reference): the user-supplied etcd CA, a soft owner.
    expect(objects.find((o) => o.name === 'alpha-etcd')).toMatchObject({
      owners: [{ kind: 'Cluster', name: 'alpha', soft: true }],
    });
    // Tied by the cluster-name label only.
    expect(objects.find((o) => o.name === 'alpha-addons')).toMatchObject({ owners: [] });
    for (const o of objects) expect(o.droppedOwners).toEqual([]);
  });

  it('keeps an owner reference to an object outside the move as dropped, and the copy goes without it', () => {
    const alpha = graph('alpha');
    const foreign = secret('alpha-extra', {
      labels: { 'cluster.x-k8s.io/cluster-name': 'alpha' },
      ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Vault', name: 'v', uid: 'uid-not-listed' }],
    });
    const plan = planMove(listed([...alpha, foreign]), NS, 'alpha');
    const object = summarize(plan).objects.find((o) => o.name === 'alpha-extra');
    expect(object).toMatchObject({
      group: 0,
      owners: [],
      droppedOwners: [{ apiVersion: 'example.com/v1', kind: 'Vault', name: 'v', soft: false }],
    });
    const node = plan.nodes.find((n) => n.obj.metadata.name === 'alpha-extra')!;
    expect(targetObject(node, new Map()).metadata.ownerReferences).toBeUndefined();
  });

  it('refuses an object that belongs to two Clusters, a missing Cluster, a cycle and a managed topology', () => {
    const alpha = graph('alpha', { workers: 1 });
    const beta = graph('beta', { workers: 1 });
    const shared = secret('shared', {
      ownerReferences: [
        { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', name: 'alpha', uid: 'uid-Cluster-alpha' },
        { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', name: 'beta', uid: 'uid-Cluster-beta' },
      ],
    });
    const both = planError([...alpha, ...beta, shared], 'alpha');
    expect(both.code).toBe('OCNE_CAPI_MOVE_CONFLICT');
    expect(both.message).toBe(
      `Secret ${NS}/shared belong to both Cluster ${NS}/alpha and Cluster ${NS}/beta, so neither can be moved without the other`,
    );

    const missing = planError(alpha, 'gamma');
    expect(missing.code).toBe('OCNE_CAPI_MOVE_NOT_FOUND');
    expect(missing.message).toBe(`Cluster ${NS}/gamma does not exist in the source management cluster`);

    const ref = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', name, uid: `uid-Secret-${name}` });
    const label = { 'cluster.x-k8s.io/cluster-name': 'alpha' };
    const cycle = planError(
      [
        ...alpha,
        secret('one', { labels: label, ownerReferences: [ref('two')] }),
        secret('two', { labels: label, ownerReferences: [ref('one')] }),
      ],
      'alpha',
    );
    expect(cycle.code).toBe('OCNE_CAPI_MOVE_CONFLICT');
    expect(cycle.message).toMatch(/^the owner references of .*Secret team-a\/one.* form a cycle$/);

    const managed = alpha.map((o) =>
      o.kind === 'Cluster' ? { ...o, spec: { ...(o.spec as object), topology: { class: 'c' } } } : o,
    );
    expect(planError(managed, 'alpha').code).toBe('OCNE_CAPI_MOVE_UNSUPPORTED');
  });
});

describe('the order of a move', () => {
  const plan = (): Plan => planMove(listed(graph('alpha')), NS, 'alpha');

  it('creates owners before what they own, in move groups sorted by kind and name', () => {
    const groups = plan().groups.map((g) => g.map(nodeKey));
    expect(groups).toEqual([
      ['ConfigMap/alpha-addons', 'Cluster/alpha'],
      [
        'Secret/alpha-etcd',
        'KubeadmConfigTemplate/alpha-md-0',
        'MachineDeployment/alpha-md-0',
        'KubeadmControlPlane/alpha-control-plane',
        'OCICluster/alpha',
        'OCIMachineTemplate/alpha-control-plane',
        'OCIMachineTemplate/alpha-md-0',
      ],
      [
        'Secret/alpha-ca',
        'Secret/alpha-kubeconfig',
        'Secret/alpha-proxy',
        'Secret/alpha-sa',
        'Machine/alpha-control-plane-0',
        'MachineSet/alpha-md-0-7f9c4',
      ],
      [
        'KubeadmConfig/alpha-control-plane-0',
        'Machine/alpha-md-0-7f9c4-0',
        'Machine/alpha-md-0-7f9c4-1',
        'OCIMachine/alpha-control-plane-0',
      ],
      [
        'Secret/alpha-control-plane-0',
        'KubeadmConfig/alpha-md-0-7f9c4-0',
        'KubeadmConfig/alpha-md-0-7f9c4-1',
        'OCIMachine/alpha-md-0-7f9c4-0',
        'OCIMachine/alpha-md-0-7f9c4-1',
      ],
      ['Secret/alpha-md-0-7f9c4-0', 'Secret/alpha-md-0-7f9c4-1'],
    ]);
    // What the result reports: the objects in that order, each with its group and owners.
    const { objects, groups: count } = summarize(plan());
    expect(count).toBe(6);
    expect(objects.map(keyOf)).toEqual(groups.flat());
    expect(objects.find((o) => o.name === 'alpha-md-0-7f9c4-1' && o.kind === 'Secret')).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: NS,
      name: 'alpha-md-0-7f9c4-1',
      group: 5,
      owners: [
        {
          apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
          kind: 'KubeadmConfig',
          name: 'alpha-md-0-7f9c4-1',
          soft: false,
        },
      ],
      droppedOwners: [],
    });
  });

  it('deletes what is owned before its owners: the last move group first', () => {
    const p = plan();
    const order = deletionGroups(p, p.nodes, (n) => n).map((g) => g.map(nodeKey));
    expect(order).toEqual(p.groups.map((g) => g.map(nodeKey)).reverse());
    // Some objects only (a rollback deletes what it created), with their new UIDs.
    const created = p.nodes
      .filter((n) => ['Cluster', 'MachineSet', 'Machine'].includes(n.kind.kind))
      .map((n) => [n, `new-${n.uid}`] as const);
    expect(
      deletionGroups(p, created, ([n]) => n).map((g) => g.map(([n, uid]) => `${nodeKey(n)} ${uid}`)),
    ).toEqual([
      [
        'Machine/alpha-md-0-7f9c4-0 new-uid-Machine-alpha-md-0-7f9c4-0',
        'Machine/alpha-md-0-7f9c4-1 new-uid-Machine-alpha-md-0-7f9c4-1',
      ],
      [
        'Machine/alpha-control-plane-0 new-uid-Machine-alpha-control-plane-0',
        'MachineSet/alpha-md-0-7f9c4 new-uid-MachineSet-alpha-md-0-7f9c4',
      ],
      ['Cluster/alpha new-uid-Cluster-alpha'],
    ]);
  });
});

describe('the copy in the target', () => {
  it('points owner references at the owners created in the target, at their stored version', () => {
    const objects = graph('alpha', { workers: 1 }).map((o) =>
      o.kind === 'MachineSet'
        ? {
            ...o,
            metadata: {
              ...(o.metadata as object),
              // A reference naming an older version of its owner, as objects created long ago have.
              ownerReferences: (o.metadata as { ownerReferences: object[] }).ownerReferences.map((r) => ({
                ...r,
                apiVersion: 'cluster.x-k8s.io/v1alpha4',
              })),
            },
          }
        : o,
    );
    const plan = planMove(listed(objects), NS, 'alpha');
    // Create group by group, as the mover does: each copy refers to the UIDs of copies created before it.
    const targetUids = new Map<GraphNode, string>();
    const copies = new Map<string, Obj>();
    for (const node of plan.nodes) {
      const copy = targetObject(node, targetUids);
      copies.set(nodeKey(node), copy);
      targetUids.set(node, `target-${nodeKey(node)}`);
    }
    expect(copies.get('MachineSet/alpha-md-0-7f9c4')?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'cluster.x-k8s.io/v1beta1',
        kind: 'MachineDeployment',
        name: 'alpha-md-0',
        uid: 'target-MachineDeployment/alpha-md-0',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(copies.get('Secret/alpha-md-0-7f9c4-0')?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
        kind: 'KubeadmConfig',
        name: 'alpha-md-0-7f9c4-0',
        uid: 'target-KubeadmConfig/alpha-md-0-7f9c4-0',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    // No copy refers to a UID of the source.
    for (const [key, copy] of copies) {
      for (const ref of copy.metadata.ownerReferences ?? []) expect(ref.uid, key).toMatch(/^target-/);
    }
    // Soft owners are no owner references.
    expect(copies.get('Secret/alpha-etcd')?.metadata.ownerReferences).toBeUndefined();
  });

  it('leaves out what the API server sets and the delete-for-move annotation of an interrupted move; keeps the rest', () => {
    const cluster = graph('alpha').find((o) => o.kind === 'Cluster')!;
    const interrupted = {
      ...cluster,
      metadata: {
        ...(cluster.metadata as object),
        generation: 3,
        managedFields: [{ manager: 'capi', operation: 'Update' }],
        annotations: { [DELETE_FOR_MOVE]: '', 'example.com/keep': 'yes' },
      },
    };
    const node = planMove(listed([interrupted]), NS, 'alpha').cluster;
    const copy = targetObject(node, new Map());
    expect(copy.metadata).toEqual({
      name: 'alpha',
      namespace: NS,
      finalizers: ['cluster.cluster.x-k8s.io'],
      annotations: { 'example.com/keep': 'yes' },
    });
    expect(copy.spec).toEqual(cluster.spec);
    // The source's object is left as it was.
    expect(node.obj.metadata.uid).toBe('uid-Cluster-alpha');
  });

  it('writes the status without the generations the source observed, for kinds with a status subresource', () => {
    const plan = planMove(listed(graph('alpha')), NS, 'alpha');
    const status = statusToCopy(plan.cluster);
    expect(status).toMatchObject({ infrastructureReady: true, phase: 'Provisioned' });
    expect(JSON.stringify(status)).not.toContain('observedGeneration');
    expect(JSON.stringify(plan.cluster.obj.status)).toContain('observedGeneration');
    const secretNode = plan.nodes.find((n) => n.kind.kind === 'Secret')!;
    expect(statusToCopy(secretNode)).toBeUndefined();
  });
});

describe('the PUT that stands for a merge patch', () => {
  it('is what the API server makes of the patch: objects merge, null removes, arrays and scalars replace', () => {
    const stored = {
      metadata: { name: 'm', annotations: { a: '1', b: '2' }, finalizers: ['f'] },
      spec: { x: 1 },
    };
    const patch = {
      metadata: { annotations: { b: null, c: '3' }, finalizers: null },
      status: { ready: true, z: null },
    };
    expect(mergePatched(stored, patch)).toEqual({
      metadata: { name: 'm', annotations: { a: '1', c: '3' } },
      spec: { x: 1 },
      status: { ready: true },
    });
    // Arrays replace whole, also what is inside them; a scalar or an array patch replaces the target.
    expect(mergePatched({ list: [{ a: 1 }] }, { list: [{ b: null }] })).toEqual({ list: [{ b: null }] });
    expect(mergePatched({ a: 1 }, [1])).toEqual([1]);
    expect(mergePatched('text', { a: { b: null } })).toEqual({ a: {} });
    // The inputs stay as they were, and a key named __proto__ stays a key.
    expect(stored.metadata.annotations).toEqual({ a: '1', b: '2' });
    const hostile = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const merged = mergePatched({}, hostile) as Record<string, unknown>;
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('before a move starts', () => {
  it('names what is still provisioning, and what blocks the move', () => {
    const waiting = planMove(listed(graph('alpha', { ready: false, workers: 1 })), NS, 'alpha');
    expect(provisioningProblems(waiting)).toEqual([
      `cannot start the move operation while Cluster ${NS}/alpha is still provisioning the infrastructure`,
      `cannot start the move operation while Machine ${NS}/alpha-control-plane-0 is still provisioning the node`,
      `cannot start the move operation while Machine ${NS}/alpha-md-0-7f9c4-0 is still provisioning the node`,
    ]);
    const ready = graph('alpha', { workers: 1 });
    expect(provisioningProblems(planMove(listed(ready), NS, 'alpha'))).toEqual([]);
    const blocked = ready.map((o) =>
      o.kind === 'OCICluster'
        ? {
            ...o,
            metadata: {
              ...(o.metadata as object),
              annotations: { 'clusterctl.cluster.x-k8s.io/block-move': '' },
            },
          }
        : o,
    );
    expect(blockMoveProblems(planMove(listed(blocked), NS, 'alpha'))).toEqual([
      `cannot start the move operation while OCICluster ${NS}/alpha has the clusterctl.cluster.x-k8s.io/block-move annotation`,
    ]);
  });

  it('names the kinds the target cannot store: no CRD, not established, or the version not served', () => {
    const plan = planMove(listed(graph('alpha', { workers: 1 })), NS, 'alpha');
    const established = (crd: Crd): Crd => ({
      ...crd,
      status: { conditions: [{ type: 'Established', status: 'True' }] },
    });
    const target = CRDS.map(established);
    expect(missingKinds(plan, target)).toEqual([]);
    const named = (kind: string) => (c: Crd) => c.spec.names.kind === kind;
    const changed = target
      .filter((c) => !named('OCIMachine')(c))
      .map((c) => (named('MachineSet')(c) ? { ...c, status: {} } : c))
      .map((c) =>
        named('OCICluster')(c)
          ? {
              ...c,
              spec: {
                ...c.spec,
                versions: c.spec.versions.map((v) => ({ ...v, served: v.name !== 'v1beta2' })),
              },
            }
          : c,
      );
    expect(
      missingKinds(plan, changed)
        .map((k) => k.kind)
        .sort(),
    ).toEqual(['MachineSet', 'OCICluster', 'OCIMachine']);
  });
});

describe('pool', () => {
  it('runs at most `limit` at a time, collects the errors, and with failFast starts nothing after one', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const work = async (i: number) => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (i === 2) throw new Error(`item ${i}`);
    };
    const items = Array.from({ length: 10 }, (_, i) => i);
    const all = await pool(items, 3, work, { failFast: false });
    expect(most).toBe(3);
    expect(started.sort((a, b) => a - b)).toEqual(items);
    expect(all.map((e) => (e as Error).message)).toEqual(['item 2']);

    started.length = 0;
    const fast = await pool(items, 3, work, { failFast: true });
    expect(fast).toHaveLength(1);
    expect(started.length).toBeLessThan(items.length);
    started.length = 0;
    expect(await pool(items, 2, work, { failFast: true, stop: () => true })).toEqual([]);
    expect(started).toEqual([]);
  });
});
