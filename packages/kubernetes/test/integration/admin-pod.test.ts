// Admin pods against a real kube-apiserver + etcd with no kubelet: the test plays the kubelet,
// marking the pod finished through the status subresource. Without a kubelet the log API fails,
// which runOnNode reports as a warning with empty output.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { EventInput } from '@ocne/core';
import { isOcneError } from '@ocne/core';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_POD_IMAGE,
  type AdminPodResult,
  KubeCommandError,
  runOnNode,
  runOnNodeOrThrow,
} from '../../src/admin-pod.js';
import { connect, type KubeClient } from '../../src/client.js';

const { source } = controlPlanesFromInject();
const MANAGED = 'app.kubernetes.io/managed-by=ocne';
let kube: KubeClient;
let core: CoreV1Api;
let n = 0;
const nodes: string[] = [];

beforeAll(async () => {
  kube = await connect({ kubeconfig: source.kubeconfig });
  core = kube.config.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  for (const name of nodes) await kube.delete({ apiVersion: 'v1', kind: 'Node', name }, { wait: false });
});

/** A fresh node name and namespace for one test; the Node object is created unless `create` is false. */
async function fixture(create = true): Promise<{ node: string; namespace: string }> {
  const id = `${process.pid}-${n++}`;
  const node = `admin-node-${id}`;
  if (create) {
    await kube.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }], { mode: 'create' });
    nodes.push(node);
  }
  return { node, namespace: `admin-pod-${id}` };
}

/** Waits (watch) until the admin pod for `node` exists in `namespace`. */
async function podFor(namespace: string, node: string): Promise<V1Pod> {
  const pods = await kube.waitFor<V1Pod>(
    { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector: MANAGED },
    (objects) => objects.some((p) => p.spec?.nodeName === node),
    { timeoutMs: 20_000 },
  );
  return pods.find((p) => p.spec?.nodeName === node)!;
}

/** Admin pods left for `node` in `namespace`. */
async function leftovers(namespace: string, node: string): Promise<V1Pod[]> {
  const { items } = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: MANAGED });
  return items.filter((p) => p.spec?.nodeName === node);
}

/** What a kubelet does when the container exits: the status subresource, phase and terminated state. */
async function finish(pod: V1Pod, exitCode: number): Promise<void> {
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  const current = await core.readNamespacedPod({ name, namespace });
  current.status = {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: [
      {
        name: pod.spec!.containers[0]!.name,
        image: pod.spec!.containers[0]!.image!,
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode,
            reason: exitCode === 0 ? 'Completed' : 'Error',
            startedAt: new Date(),
            finishedAt: new Date(),
          },
        },
      },
    ],
  };
  await core.replaceNamespacedPodStatus({ name, namespace, body: current });
}

const UPLOAD_CERTS = [
  'chroot',
  '/hostroot',
  'kubeadm',
  'init',
  'phase',
  'upload-certs',
  '--certificate-key',
  '0123456789abcdef',
  '--upload-certs',
];

describe('runOnNode', () => {
  it('runs the command in a privileged pod pinned to the node, returns exit code 0, and deletes the pod', async () => {
    const { node } = await fixture();
    const events: EventInput[] = [];
    const running = runOnNode(kube, node, UPLOAD_CERTS, { emit: (e) => events.push(e) });
    // The default namespace, created when absent.
    const pod = await podFor('ocne-system', node);

    expect(pod.metadata?.name).toMatch(new RegExp(`^ocne-admin-${node}-[0-9a-f]{8}$`));
    expect(pod.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'ocne' });
    const spec = pod.spec!;
    expect(spec).toMatchObject({
      nodeName: node,
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }],
    });
    expect(spec.containers).toHaveLength(1);
    const container = spec.containers[0]!;
    expect(container.image).toBe(ADMIN_POD_IMAGE);
    expect(container.image).toBe('container-registry.oracle.com/os/oraclelinux:8');
    expect(container.command).toEqual(UPLOAD_CERTS);
    expect(container.args).toBeUndefined();
    expect(container.securityContext?.privileged).toBe(true);
    const mount = container.volumeMounts?.find((m) => m.mountPath === '/hostroot');
    expect(spec.volumes?.find((v) => v.name === mount?.name)?.hostPath?.path).toBe('/');

    await finish(pod, 0);
    const result: AdminPodResult = await running;
    expect(result).toEqual({ exitCode: 0, logs: '', podName: pod.metadata?.name });
    expect(await leftovers('ocne-system', node)).toEqual([]);

    const step = `Running ${UPLOAD_CERTS.join(' ')} on node ${node}`;
    expect(
      events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && `${e.step}:${e.status}`),
    ).toEqual([`${step}:started`, `${step}:succeeded`]);
    // No kubelet to serve the log: empty output and a warning, not an error.
    const warnings = events.filter((e) => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'OCNE_KUBE_LOGS_UNAVAILABLE' });
    expect(warnings[0]?.type === 'warning' && warnings[0].message).toContain(
      `reading the output of pod ocne-system/${pod.metadata?.name}`,
    );
  });

  it('returns a non-zero exit code instead of throwing; namespace, image and name prefix are options', async () => {
    const { node, namespace } = await fixture();
    const running = runOnNode(kube, node, ['sh', '-c', 'exit 3'], {
      namespace,
      image: 'example.com/tools:1',
      namePrefix: 'probe',
    });
    const pod = await podFor(namespace, node);
    expect(pod.metadata?.name).toMatch(/^probe-[0-9a-f]{8}$/);
    expect(pod.spec?.containers[0]?.image).toBe('example.com/tools:1');
    expect(pod.spec?.containers[0]?.command).toEqual(['sh', '-c', 'exit 3']);
    await finish(pod, 3);
    await expect(running).resolves.toEqual({ exitCode: 3, logs: '', podName: pod.metadata?.name });
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('a node the cluster does not have is a NotFound error naming it, and no pod is made', async () => {
    const { node, namespace } = await fixture(false);
    const error = await runOnNode(kube, node, ['true'], { namespace }).catch((e: unknown) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_API');
    expect((error as { status?: unknown }).status).toMatchObject({ code: 404, reason: 'NotFound' });
    expect((error as Error).message).toContain(`the cluster has no node ${node}`);
    expect(await leftovers(namespace, node)).toEqual([]);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeUndefined();
  });

  it('a pod that fails without running the command (rejected by the kubelet) is a command error', async () => {
    const { node, namespace } = await fixture();
    const running = runOnNode(kube, node, ['true'], { namespace });
    const pod = await podFor(namespace, node);
    const current = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace });
    current.status = { phase: 'Failed', reason: 'NodeAffinity', message: 'Pod was rejected' };
    await core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace, body: current });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeCommandError);
    expect(error).toMatchObject({ code: 'OCNE_KUBE_COMMAND_FAILED', exitCode: undefined, node });
    expect((error as Error).message).toContain(
      'failed before the command ran: NodeAffinity: Pod was rejected',
    );
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('times out with OCNE_KUBE_TIMEOUT when the pod never finishes, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const started = Date.now();
    const error = await runOnNode(kube, node, ['sleep', 'infinity'], { namespace, timeoutMs: 1500 }).catch(
      (e: unknown) => e,
    );
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_TIMEOUT');
    expect((error as Error).message).toContain('not finished after 1500 ms (phase Pending)');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('stops with OCNE_CANCELLED when the signal aborts, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const controller = new AbortController();
    const events: EventInput[] = [];
    const running = runOnNode(kube, node, ['sleep', 'infinity'], {
      namespace,
      signal: controller.signal,
      emit: (e) => events.push(e),
    });
    await podFor(namespace, node);
    controller.abort();
    const error = await running.catch((e: unknown) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_CANCELLED');
    expect(await leftovers(namespace, node)).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      type: 'step',
      status: 'failed',
      error: { code: 'OCNE_CANCELLED' },
    });
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });

  it('an already aborted signal stops before anything is made', async () => {
    const { node, namespace } = await fixture();
    const error = await runOnNode(kube, node, ['true'], { namespace, signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(isOcneError(error) && error.code).toBe('OCNE_CANCELLED');
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeUndefined();
  });
});

describe('runOnNodeOrThrow', () => {
  it('throws OCNE_KUBE_COMMAND_FAILED with the exit code on a non-zero exit, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const events: EventInput[] = [];
    const running = runOnNodeOrThrow(kube, node, ['sh', '-c', 'exit 3'], {
      namespace,
      emit: (e) => events.push(e),
    });
    const pod = await podFor(namespace, node);
    await finish(pod, 3);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeCommandError);
    expect(error).toMatchObject({
      code: 'OCNE_KUBE_COMMAND_FAILED',
      exitCode: 3,
      node,
      podName: pod.metadata?.name,
      logs: '',
    });
    expect((error as Error).message).toBe(`Running sh -c exit 3 on node ${node}: exit code 3 (no output)`);
    expect(events.at(-1)).toMatchObject({
      type: 'step',
      status: 'failed',
      error: { code: 'OCNE_KUBE_COMMAND_FAILED' },
    });
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('returns the result on exit code 0; a description keeps a secret argument out of events', async () => {
    const { node, namespace } = await fixture();
    const events: EventInput[] = [];
    const running = runOnNodeOrThrow(kube, node, UPLOAD_CERTS, {
      namespace,
      description: `Uploading certificates on node ${node}`,
      emit: (e) => events.push(e),
    });
    await finish(await podFor(namespace, node), 0);
    await expect(running).resolves.toMatchObject({ exitCode: 0, logs: '' });
    expect(await leftovers(namespace, node)).toEqual([]);
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step)).toEqual([
      `Uploading certificates on node ${node}`,
      `Uploading certificates on node ${node}`,
    ]);
    expect(JSON.stringify(events)).not.toContain('0123456789abcdef');
  });
});
