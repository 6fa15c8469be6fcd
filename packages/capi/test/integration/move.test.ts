// moveCluster between two real control planes (`source` and `destination`, kube-apiserver + etcd;
// no controllers run there: the tests play them by writing status). Every test works in a
// namespace of its own and removes its objects afterwards.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { EventInput } from '@ocne/core';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { request } from '@ocne/test-control-plane';
import { controlPlanesFromInject, type InjectedControlPlane } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapiMoveError, type MoveResult, moveCluster } from '../../src/index.js';
import { installCapiCrds, installCrds, simpleCrd } from '../crds.ts';
import {
  clusterStatus,
  createClusterGraph,
  deleteGraphObjects,
  GRAPH_KINDS,
  type GraphObject,
  graphSize,
  patchStatus,
} from '../graph.ts';

const { source, destination } = controlPlanesFromInject();

let from: KubeClient;
let to: KubeClient;
const namespaces: string[] = [];

type Obj = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  type?: string;
};

/** A namespace of its own in the source. */
async function newNamespace(what: string): Promise<string> {
  const namespace = `move-${what}-${randomBytes(3).toString('hex')}`;
  namespaces.push(namespace);
  await from.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  return namespace;
}

/** Every object of the graph's kinds in a namespace, by `Kind/name`. */
async function snapshot(kube: KubeClient, namespace: string): Promise<Map<string, Obj>> {
  const out = new Map<string, Obj>();
  for (const kind of GRAPH_KINDS) {
    // No catch: a list that fails must fail the test, not look like an empty namespace.
    const { items } = await kube.list<Obj>(kind.apiVersion, kind.kind, { namespace });
    for (const item of items) out.set(`${kind.kind}/${item.metadata?.name}`, { ...item, kind: kind.kind });
  }
  return out;
}

function withoutObservedGenerations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutObservedGenerations);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'observedGeneration')
      .map(([k, v]) => [k, withoutObservedGenerations(v)]),
  );
}

const keys = (graph: readonly GraphObject[]) => graph.map((o) => `${o.kind}/${o.name}`).sort();

function collector() {
  const events: EventInput[] = [];
  return {
    events,
    emit: (e: EventInput) => void events.push(e),
    steps: () => events.flatMap((e) => (e.type === 'step' ? [`${e.step}:${e.status}`] : [])),
    logs: () => events.flatMap((e) => (e.type === 'log' ? [e.message] : [])),
  };
}

async function rejection(promise: Promise<unknown>): Promise<CapiMoveError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CapiMoveError);
  return error as CapiMoveError;
}

/** The source still has the graph exactly as it was (same UIDs, same content), unpaused. */
async function expectSourceIntact(namespace: string, before: Map<string, Obj>): Promise<void> {
  const after = await snapshot(from, namespace);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [key, object] of before) {
    const now = after.get(key)!;
    expect(now.metadata?.uid, key).toBe(object.metadata?.uid);
    expect(now.spec, key).toEqual(object.spec);
    expect(now.metadata?.annotations ?? {}, key).toEqual(object.metadata?.annotations ?? {});
    expect(now.metadata?.finalizers, key).toEqual(object.metadata?.finalizers);
    expect(now.metadata?.deletionTimestamp, key).toBeUndefined();
  }
}

/** The target has no object of the graph's kinds in the namespace (the namespace itself may be going). */
async function expectTargetEmpty(namespace: string, except: readonly string[] = []): Promise<void> {
  const left = [...(await snapshot(to, namespace)).keys()].filter((k) => !except.includes(k));
  expect(left).toEqual([]);
}

beforeAll(async () => {
  from = await connect({ kubeconfigPath: source.kubeconfigPath });
  to = await connect({ kubeconfigPath: destination.kubeconfigPath });
  await Promise.all([installCapiCrds(from), installCapiCrds(to)]);
});

afterAll(async () => {
  for (const namespace of namespaces) {
    await deleteGraphObjects(source.kubeconfig, namespace);
    await deleteGraphObjects(destination.kubeconfig, namespace);
  }
});

describe('moveCluster', () => {
  it('moves one cluster with every object, status and owner reference, and leaves another cluster alone', async () => {
    const namespace = await newNamespace('full');
    const alpha = await createClusterGraph(source.kubeconfig, {
      namespace,
      name: 'alpha',
      workers: 3,
      controlPlanes: 3,
    });
    const beta = await createClusterGraph(source.kubeconfig, { namespace, name: 'beta', workers: 2 });
    const before = await snapshot(from, namespace);
    const { emit, steps, events } = collector();

    const result: MoveResult = await moveCluster({
      from: source.kubeconfigPath,
      to: destination.kubeconfigPath,
      namespace,
      name: 'alpha',
      emit,
    });

    expect(alpha).toHaveLength(graphSize(3, 3));
    expect(result.objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(keys(alpha));
    expect(result).toMatchObject({ created: alpha.length, updated: 0, deleted: alpha.length, dryRun: false });
    expect(result.counts).toMatchObject({
      Machine: 6,
      KubeadmConfig: 6,
      OCIMachine: 6,
      Secret: 11,
      MachineSet: 1,
    });
    expect(steps()).toEqual([
      'Migrating Cluster API resources:started',
      'Migrating Cluster API resources:succeeded',
    ]);
    const created = events.flatMap((e) =>
      e.type === 'progress' && e.step === 'Creating objects in the target cluster'
        ? [e.transferredBytes]
        : [],
    );
    expect(created.at(-1)).toBe(alpha.length);

    // The target has every object of alpha, with the same content, and nothing of beta.
    const target = await snapshot(to, namespace);
    expect([...target.keys()].sort()).toEqual(keys(alpha));
    const byUid = new Map([...target.values()].map((o) => [o.metadata?.uid, o]));
    for (const key of keys(alpha)) {
      const was = before.get(key)!;
      const now = target.get(key)!;
      expect(now.spec, key).toEqual(was.spec);
      // Status is kept, without the generations the source observed (the copy starts at 1).
      expect(now.status, key).toEqual(withoutObservedGenerations(was.status));
      expect(now.data, key).toEqual(was.data);
      expect(now.type, key).toEqual(was.type);
      expect(now.metadata?.labels, key).toEqual(was.metadata?.labels);
      expect(now.metadata?.finalizers, key).toEqual(was.metadata?.finalizers);
      expect(now.metadata?.annotations?.['clusterctl.cluster.x-k8s.io/delete-for-move'], key).toBeUndefined();
      // Owner references: as many, same owners by kind and name, each resolving to the target's object.
      const refs = now.metadata?.ownerReferences ?? [];
      expect(
        refs.map(
          (r) =>
            `${r.apiVersion}/${r.kind}/${r.name}/${r.controller ?? false}/${r.blockOwnerDeletion ?? false}`,
        ),
        key,
      ).toEqual(
        (was.metadata?.ownerReferences ?? []).map(
          (r) =>
            `${r.apiVersion}/${r.kind}/${r.name}/${r.controller ?? false}/${r.blockOwnerDeletion ?? false}`,
        ),
      );
      for (const ref of refs) {
        const owner = byUid.get(ref.uid);
        expect(owner, `${key} -> ${ref.kind}/${ref.name}`).toBeDefined();
        expect(`${owner?.kind}/${owner?.metadata?.name}`).toBe(`${ref.kind}/${ref.name}`);
      }
      // The source's managed fields were restored (clusterctl does the same).
      if (key !== 'Cluster/alpha') {
        expect(new Set(now.metadata?.managedFields?.map((f) => f.manager)), key).toEqual(
          new Set(was.metadata?.managedFields?.map((f) => f.manager)),
        );
      }
    }
    expect(target.get('Cluster/alpha')?.spec?.paused).toBeUndefined();
    expect(target.get('Machine/alpha-md-0-7f9c4-2')?.status?.nodeRef).toMatchObject({
      name: 'alpha-md-0-7f9c4-2',
    });

    // The source has beta, untouched, and nothing of alpha.
    const after = await snapshot(from, namespace);
    expect([...after.keys()].sort()).toEqual(keys(beta));
    for (const key of keys(beta)) {
      expect(after.get(key)?.metadata?.resourceVersion, key).toBe(before.get(key)?.metadata?.resourceVersion);
    }
  });

  it('plans a dry run without changing anything', async () => {
    const namespace = await newNamespace('dry');
    const graph = await createClusterGraph(source.kubeconfig, { namespace, name: 'gamma', workers: 2 });
    const before = await snapshot(from, namespace);
    const result = await moveCluster({ from, namespace, name: 'gamma', dryRun: true });
    expect(result.objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(keys(graph));
    expect(result).toMatchObject({ dryRun: true, created: 0, deleted: 0, notReady: [], groups: 6 });
    const of = (key: string) => result.objects.find((o) => `${o.kind}/${o.name}` === key)!;
    expect(of('Cluster/gamma').group).toBe(0);
    expect(of('ConfigMap/gamma-addons')).toMatchObject({ group: 0, owners: [] });
    expect(of('Secret/gamma-etcd')).toMatchObject({
      group: 1,
      owners: [{ kind: 'Cluster', name: 'gamma', soft: true }],
    });
    expect(of('MachineSet/gamma-md-0-7f9c4')).toMatchObject({
      group: 2,
      owners: [{ kind: 'MachineDeployment', name: 'gamma-md-0', soft: false }],
    });
    expect(of('Secret/gamma-md-0-7f9c4-1')).toMatchObject({
      group: 5,
      owners: [{ kind: 'KubeadmConfig', name: 'gamma-md-0-7f9c4-1' }],
    });
    for (const o of result.objects) expect(o.droppedOwners).toEqual([]);
    await expectSourceIntact(namespace, before);
    await expectTargetEmpty(namespace);
  });

  it('retries while the cluster is not ready, then fails with OCNE_CAPI_MOVE_NOT_READY and the source unchanged', async () => {
    const namespace = await newNamespace('notready');
    await createClusterGraph(source.kubeconfig, { namespace, name: 'delta', workers: 1, ready: false });
    const before = await snapshot(from, namespace);
    const { emit, logs, steps } = collector();
    const error = await rejection(
      moveCluster({ from, to, namespace, name: 'delta', emit, timeoutMs: 1500, retryIntervalMs: 300 }),
    );
    expect(error.code).toBe('OCNE_CAPI_MOVE_NOT_READY');
    expect(error.state).toBe('unchanged');
    expect(error.message).toContain(
      `cannot start the move operation while Cluster ${namespace}/delta is still provisioning the infrastructure`,
    );
    expect(error.message).toContain(`Machine ${namespace}/delta-md-0-7f9c4-0 is still provisioning the node`);
    expect(logs().filter((m) => m.includes('checking again in')).length).toBeGreaterThanOrEqual(2);
    expect(steps()).toEqual([
      'Migrating Cluster API resources:started',
      'Migrating Cluster API resources:failed',
    ]);
    await expectSourceIntact(namespace, before);
    await expectTargetEmpty(namespace);

    // Cancelled while waiting: OCNE_CANCELLED at once, nothing changed either.
    const controller = new AbortController();
    const started = performance.now();
    const cancelled = await rejection(
      moveCluster({
        from,
        to,
        namespace,
        name: 'delta',
        signal: controller.signal,
        retryIntervalMs: 60_000,
        emit: (e) => {
          if (e.type === 'log' && e.message.includes('checking again in 60 s')) controller.abort();
        },
      }),
    );
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(cancelled.code).toBe('OCNE_CANCELLED');
    expect(cancelled.state).toBe('unchanged');
    await expectSourceIntact(namespace, before);
  });

  it('moves once the cluster becomes ready during the retries', async () => {
    const namespace = await newNamespace('ready');
    const graph = await createClusterGraph(source.kubeconfig, {
      namespace,
      name: 'eps',
      workers: 2,
      ready: false,
    });
    let provisioned: Promise<void> | undefined;
    const provision = async () => {
      await patchStatus(source.kubeconfig, 'Cluster', namespace, 'eps', clusterStatus(true));
      for (const m of graph.filter((o) => o.kind === 'Machine')) {
        await patchStatus(source.kubeconfig, 'Machine', namespace, m.name, {
          nodeRef: { apiVersion: 'v1', kind: 'Node', name: m.name },
        });
      }
    };
    const result = await moveCluster({
      from,
      to,
      namespace,
      name: 'eps',
      retryIntervalMs: 200,
      timeoutMs: 30_000,
      emit: (e) => {
        if (e.type === 'log' && e.message.includes('cannot start the move operation'))
          provisioned ??= provision();
      },
    });
    await provisioned;
    expect(result.attempts).toBeGreaterThanOrEqual(2);
    expect(result.created).toBe(graph.length);
    expect([...(await snapshot(to, namespace)).keys()].sort()).toEqual(keys(graph));
    expect([...(await snapshot(from, namespace)).keys()]).toEqual([]);
  });

  it('rolls back when cancelled half-way through the creation: source unpaused and intact, target clean', async () => {
    const namespace = await newNamespace('abort');
    const graph = await createClusterGraph(source.kubeconfig, { namespace, name: 'zeta', workers: 10 });
    const before = await snapshot(from, namespace);
    const controller = new AbortController();
    const { emit, events } = collector();
    const error = await rejection(
      moveCluster({
        from,
        to,
        namespace,
        name: 'zeta',
        signal: controller.signal,
        concurrency: 4,
        emit: (e) => {
          emit(e);
          if (
            e.type === 'progress' &&
            e.step === 'Creating objects in the target cluster' &&
            e.transferredBytes >= 12
          ) {
            controller.abort();
          }
        },
      }),
    );
    expect(error.code).toBe('OCNE_CANCELLED');
    expect(error.state).toBe('rolled-back');
    expect(error.message).toMatch(
      /cancelled; rolled back: the source Cluster was unpaused, the \d+ objects created/,
    );
    const created = events.flatMap((e) => (e.type === 'progress' ? [e.transferredBytes] : []));
    expect(Math.max(...created)).toBeLessThan(graph.length);
    await expectSourceIntact(namespace, before);
    expect((await from.get<Obj>({ ...ref('Cluster', namespace, 'zeta') }))?.spec?.paused).toBeUndefined();
    await expectTargetEmpty(namespace);
    // The namespace stays: another move may be using it, and deleting it would delete its objects.
    const ns = await to.get<KubernetesObject & { status?: { phase?: string } }>({
      apiVersion: 'v1',
      kind: 'Namespace',
      name: namespace,
    });
    expect(ns?.status?.phase).toBe('Active');
  });

  it('rolls back when the target refuses an object, naming it, and keeps what the target had', async () => {
    const namespace = await newNamespace('refused');
    await createClusterGraph(source.kubeconfig, { namespace, name: 'eta', workers: 4 });
    const before = await snapshot(from, namespace);
    const refused = 'eta-md-0-7f9c4-2';
    const policy = `ocne-test-refuse-${namespace}`;
    // The target namespace exists with an object of its own, and a policy refuses one OCIMachine.
    await to.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace }, data: { a: 'b' } },
      ...refusalPolicy(policy, namespace, 'CREATE', `object.metadata.name != '${refused}'`),
    ] as KubernetesObject[]);
    try {
      // The policy takes effect within a second or so: wait until a dry run is refused.
      const probe = {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'OCIMachine',
        metadata: { name: refused, namespace },
      };
      await expect
        .poll(
          () =>
            to.apply([probe], { mode: 'create', dryRun: true }).then(
              () => 'accepted',
              (e: Error) => e.message,
            ),
          { timeout: 20_000, interval: 200 },
        )
        .toContain(REFUSED);

      const error = await rejection(moveCluster({ from, to, namespace, name: 'eta', concurrency: 2 }));
      expect(error.code).toBe('OCNE_CAPI_MOVE_FAILED');
      expect(error.state).toBe('rolled-back');
      expect(error.object).toEqual({
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'OCIMachine',
        namespace,
        name: refused,
      });
      expect(error.message).toContain(`creating OCIMachine ${namespace}/${refused} in the target cluster`);
      expect(error.message).toContain(REFUSED);
      expect(error.message).toContain('rolled back: the source Cluster was unpaused');
      await expectSourceIntact(namespace, before);
      await expectTargetEmpty(namespace, ['ConfigMap/unrelated']);
      expect(
        await to.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'unrelated' }),
      ).toBeDefined();
    } finally {
      for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) {
        await to.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, name: policy });
      }
    }
  });

  it('fails past the point of no return with OCNE_CAPI_MOVE_INCOMPLETE, and the same move run again finishes', async () => {
    const namespace = await newNamespace('resume');
    const graph = await createClusterGraph(source.kubeconfig, { namespace, name: 'kappa', workers: 3 });
    const stuck = 'kappa-md-0-7f9c4-1';
    const policy = `ocne-test-keep-${namespace}`;
    // The source refuses to delete one OCIMachine (and a probe named after it): the deletion phase
    // stops after that move group. The policy takes effect within a second or so.
    await from.apply(
      refusalPolicy(policy, namespace, 'DELETE', `!oldObject.metadata.name.startsWith('${stuck}')`),
    );
    const probe = ref('OCIMachine', namespace, `${stuck}-probe`);
    const deletionRefused = async () => {
      await from.apply(
        [{ apiVersion: probe.apiVersion, kind: probe.kind, metadata: { name: probe.name, namespace } }],
        {
          mode: 'create',
        },
      );
      return from.delete(probe, { wait: false }).then(
        () => false,
        (e: Error) => e.message.includes(REFUSED),
      );
    };
    try {
      await expect.poll(deletionRefused, { timeout: 20_000, interval: 200 }).toBe(true);
      const first = await rejection(moveCluster({ from, to, namespace, name: 'kappa', concurrency: 2 }));
      expect(first.code).toBe('OCNE_CAPI_MOVE_INCOMPLETE');
      expect(first.state).toBe('incomplete');
      expect(first.object).toMatchObject({ kind: 'OCIMachine', name: stuck });
      expect(first.message).toContain(`deleting OCIMachine ${namespace}/${stuck} in the source cluster`);
      expect(first.message).toContain('run the same move again to finish it');
      // The target has the whole graph, paused; the source keeps the rest of the graph, paused too.
      expect([...(await snapshot(to, namespace)).keys()].sort()).toEqual(keys(graph));
      expect((await to.get<Obj>(ref('Cluster', namespace, 'kappa')))?.spec?.paused).toBe(true);
      expect((await from.get<Obj>(ref('Cluster', namespace, 'kappa')))?.spec?.paused).toBe(true);
      expect((await snapshot(from, namespace)).has(`OCIMachine/${stuck}`)).toBe(true);
    } finally {
      for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) {
        await from.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, name: policy });
      }
    }
    await expect.poll(deletionRefused, { timeout: 20_000, interval: 200 }).toBe(false);
    const second = await moveCluster({ from, to, namespace, name: 'kappa' });
    expect(second.created).toBe(0);
    expect(second.updated).toBe(second.objects.length);
    expect(second.deleted).toBe(second.objects.length);
    expect([...(await snapshot(from, namespace)).keys()]).toEqual([]);
    const target = await snapshot(to, namespace);
    expect([...target.keys()].sort()).toEqual(keys(graph));
    expect(target.get('Cluster/kappa')?.spec?.paused).toBeUndefined();
    const annotations = [...target.values()].flatMap((o) => Object.keys(o.metadata?.annotations ?? {}));
    expect(annotations).not.toContain('clusterctl.cluster.x-k8s.io/delete-for-move');
    const byUid = new Set([...target.values()].map((o) => o.metadata?.uid));
    for (const o of target.values()) {
      for (const r of o.metadata?.ownerReferences ?? [])
        expect(byUid.has(r.uid), `${o.kind} -> ${r.name}`).toBe(true);
    }
  });

  it('finishes, when run again, a move that failed after the source Cluster was deleted', async () => {
    const namespace = await newNamespace('unpause');
    await createClusterGraph(source.kubeconfig, { namespace, name: 'lambda', workers: 1 });
    const policy = `ocne-test-paused-${namespace}`;
    // The target refuses to unpause Clusters: the move fails at its very last step.
    await to.apply(
      refusalPolicy(
        policy,
        namespace,
        'UPDATE',
        '!(has(oldObject.spec.paused) && oldObject.spec.paused == true && !has(object.spec.paused))',
        { group: 'cluster.x-k8s.io', resource: 'clusters' },
      ),
    );
    const probe = ref('Cluster', namespace, 'lambda-probe');
    await to.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    await to.apply(
      [
        {
          apiVersion: probe.apiVersion,
          kind: probe.kind,
          metadata: { name: probe.name, namespace },
          spec: { paused: true },
        } as KubernetesObject,
      ],
      { mode: 'create' },
    );
    const path = `/apis/cluster.x-k8s.io/v1beta1/namespaces/${namespace}/clusters/${probe.name}`;
    const unpauseRefused = async () => {
      const rest = to.rest();
      try {
        await rest.call('PATCH', path, {
          merge: true,
          body: { spec: { paused: null } },
          doing: 'unpausing the probe',
        });
        await rest.call('PATCH', path, {
          merge: true,
          body: { spec: { paused: true } },
          doing: 'pausing the probe',
        });
        return false;
      } catch (error) {
        return (error as Error).message.includes(REFUSED);
      } finally {
        rest.close();
      }
    };
    try {
      await expect.poll(unpauseRefused, { timeout: 20_000, interval: 200 }).toBe(true);
      const first = await rejection(moveCluster({ from, to, namespace, name: 'lambda' }));
      expect(first.code).toBe('OCNE_CAPI_MOVE_INCOMPLETE');
      expect(first.message).toContain('still paused there: run the same move again to finish it');
      expect([...(await snapshot(from, namespace)).keys()]).toEqual([]);
      expect((await to.get<Obj>(ref('Cluster', namespace, 'lambda')))?.spec?.paused).toBe(true);
    } finally {
      for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) {
        await to.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind, name: policy });
      }
    }
    await expect.poll(unpauseRefused, { timeout: 20_000, interval: 200 }).toBe(false);
    const { events, emit } = collector();
    const second = await moveCluster({ from, to, namespace, name: 'lambda', emit });
    expect(second).toMatchObject({ created: 0, deleted: 0, objects: [] });
    expect(events.some((e) => e.type === 'log' && e.message.includes('finishing an earlier move'))).toBe(
      true,
    );
    expect((await to.get<Obj>(ref('Cluster', namespace, 'lambda')))?.spec?.paused).toBeUndefined();
  });

  it('refuses before changing anything when the target lacks a kind of the graph', async () => {
    const namespace = await newNamespace('nokind');
    const probe = {
      group: 'test.cluster.x-k8s.io',
      version: 'v1alpha1',
      kind: 'ProbeMachine',
      plural: 'probemachines',
    };
    const graph = await createClusterGraph(source.kubeconfig, { namespace, name: 'theta', workers: 1 });
    await installCrds(from, [simpleCrd(probe)]);
    try {
      const machine = graph.find((o) => o.kind === 'Machine')!;
      await from.apply([
        {
          apiVersion: 'test.cluster.x-k8s.io/v1alpha1',
          kind: 'ProbeMachine',
          metadata: {
            name: 'probe',
            namespace,
            ownerReferences: [
              { apiVersion: machine.apiVersion, kind: 'Machine', name: machine.name, uid: machine.uid },
            ],
          },
        },
      ]);
      const before = await snapshot(from, namespace);
      const error = await rejection(moveCluster({ from, to, namespace, name: 'theta' }));
      expect(error.code).toBe('OCNE_CAPI_MOVE_CONFLICT');
      expect(error.state).toBe('unchanged');
      expect(error.message).toContain(
        'the target cluster cannot store ProbeMachine (test.cluster.x-k8s.io/v1alpha1)',
      );
      await expectSourceIntact(namespace, before);
      await expectTargetEmpty(namespace);
    } finally {
      await from.delete(ref('ProbeMachine', namespace, 'probe', 'test.cluster.x-k8s.io/v1alpha1'));
      await from.delete({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'probemachines.test.cluster.x-k8s.io',
      });
    }
  });

  it('writes with PUTs (no merge patch for the API servers to apply), and a patch only for an object someone changed meanwhile', async () => {
    const namespace = await newNamespace('put');
    const workers = 3;
    const graph = await createClusterGraph(source.kubeconfig, { namespace, name: 'mu', workers });
    const machines = workers + 1;
    // Played controllers: right before the move's first PUT of a status in the target and its first
    // PUT in the source, another writer labels that very object, so both PUTs meet a newer object.
    const controller = { 'example.com/touched': 'yes' };
    const touched: string[] = [];
    const interfering = (kube: KubeClient, test: (method: string, path: string) => boolean): KubeClient =>
      ({
        rest: (options: Parameters<KubeClient['rest']>[0]) => {
          const api = kube.rest(options);
          const call = api.call.bind(api);
          api.call = (async (method: string, path: string, callOptions: Parameters<typeof call>[2]) => {
            if (touched.length < 2 && test(method, path) && !touched.some((t) => t.startsWith(kube.server))) {
              const object = path.replace(/\/status$/, '');
              touched.push(`${kube.server} ${object}`);
              await call('PATCH', object, {
                merge: true,
                body: { metadata: { labels: controller } },
                doing: 'playing a controller',
              });
            }
            return call(method, path, callOptions);
          }) as typeof api.call;
          return api;
        },
      }) as unknown as KubeClient;
    const isMachine = (path: string) => path.includes('/machines/');
    const [sourceBefore, targetBefore] = await Promise.all([
      requestCounts(source),
      requestCounts(destination),
    ]);

    const result = await moveCluster({
      from: interfering(from, (method, path) => method === 'PUT' && isMachine(path)),
      to: interfering(to, (method, path) => method === 'PUT' && isMachine(path) && path.endsWith('/status')),
      namespace,
      name: 'mu',
    });

    expect(result.objects).toHaveLength(graph.length);
    expect(touched).toHaveLength(2);
    const [fromSource, fromTarget] = await Promise.all([
      requestCounts(source).then((after) => served(sourceBefore, after)),
      requestCounts(destination).then((after) => served(targetBefore, after)),
    ]);
    // The target: per Machine a create, a PUT of the status and one of the managed fields; the
    // status the played controller raced with went as a patch after its PUT's conflict.
    expect(fromTarget('POST machines')).toBe(machines);
    expect(fromTarget('PUT machines/status')).toBe(machines);
    expect(fromTarget('PUT machines')).toBe(machines);
    expect(fromTarget('PATCH machines/status')).toBe(1);
    expect(fromTarget('PATCH machines')).toBe(1); // the played controller's own label
    // The source: per Machine a PUT (annotation, no finalizers) and a delete; one patch after a conflict.
    expect(fromSource('PUT machines')).toBe(machines);
    expect(fromSource('DELETE machines')).toBe(machines);
    expect(fromSource('PATCH machines')).toBe(2); // the played controller's label and the move's patch
    // Nothing of what the controllers wrote was lost, and the move is complete.
    const target = await snapshot(to, namespace);
    expect([...target.keys()].sort()).toEqual(keys(graph));
    const raced = [...target.values()].filter((o) => o.metadata?.labels?.['example.com/touched'] === 'yes');
    expect(raced).toHaveLength(1);
    expect(raced[0]?.status).toMatchObject({ phase: 'Running', bootstrapReady: true });
    expect([...(await snapshot(from, namespace)).keys()]).toEqual([]);
  });

  it('refuses to move a cluster onto its own management cluster, or one that does not exist', async () => {
    const namespace = await newNamespace('same');
    await createClusterGraph(source.kubeconfig, { namespace, name: 'iota', workers: 0 });
    const same = await rejection(moveCluster({ from, to: source.kubeconfigPath, namespace, name: 'iota' }));
    expect(same.code).toBe('OCNE_CAPI_MOVE_CONFLICT');
    expect(same.message).toContain('the source and the target are the same cluster');
    const missing = await rejection(moveCluster({ from, to, namespace, name: 'nope' }));
    expect(missing.code).toBe('OCNE_CAPI_MOVE_NOT_FOUND');
    expect(missing.message).toBe(`Cluster ${namespace}/nope does not exist in the source management cluster`);
    expect((await from.get<Obj>(ref('Cluster', namespace, 'iota')))?.spec?.paused).toBeUndefined();
  });
});

/** The requests a control plane has served so far, by `VERB resource[/subresource]` (its metrics). */
async function requestCounts(plane: InjectedControlPlane): Promise<Map<string, number>> {
  const { status, body } = await request(`${plane.url}/metrics`, { ca: plane.ca, token: plane.token });
  expect(status).toBe(200);
  const counts = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** The requests served between two {@link requestCounts}. */
function served(before: Map<string, number>, after: Map<string, number>): (key: string) => number {
  return (key) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

function ref(kind: string, namespace: string, name: string, apiVersion?: string) {
  return {
    apiVersion: apiVersion ?? GRAPH_KINDS.find((k) => k.kind === kind)!.apiVersion,
    kind,
    namespace,
    name,
  };
}

const REFUSED = 'refused by a test policy';

/** A ValidatingAdmissionPolicy (and its binding) refusing an operation on OCIMachines of one namespace. */
function refusalPolicy(
  name: string,
  namespace: string,
  operation: 'CREATE' | 'UPDATE' | 'DELETE',
  expression: string,
  rule: { group: string; resource: string } = {
    group: 'infrastructure.cluster.x-k8s.io',
    resource: 'ocimachines',
  },
): Array<KubernetesObject & Record<string, unknown>> {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [rule.group],
              apiVersions: ['*'],
              operations: [operation],
              resources: [rule.resource],
            },
          ],
        },
        validations: [{ expression, message: REFUSED }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
      },
    },
  ];
}
