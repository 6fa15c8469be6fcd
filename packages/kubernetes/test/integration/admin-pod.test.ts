// Admin pods against a real kube-apiserver + etcd and the real test node (containerd + kubelet,
// started by the global setup): commands really run there, through exec. A Node object without a
// kubelet stands in only where the real node cannot: a pod that never runs, or one that is rejected.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { EventInput } from '@ocne/core';
import { isOcneError } from '@ocne/core';
import { NODE_TOOLBOX_IMAGE } from '@ocne/test-control-plane';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
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
const realNode = testNodeFromInject();
const MANAGED = 'app.kubernetes.io/managed-by=ocne';
let kube: KubeClient;
let core: CoreV1Api;
let n = 0;
const nodes: string[] = [];
let work: string;

beforeAll(async () => {
  kube = await connect({ kubeconfig: source.kubeconfig });
  core = kube.config.makeApiClient(CoreV1Api);
  work = await mkdtemp(join(tmpdir(), 'admin-pod-test-'));
  // A test double of kubeadm on the node's PATH: it records its arguments in a file the test owns.
  await writeFile(
    join(realNode.binDir, 'kubeadm'),
    `#!/bin/sh\necho "$@" >> ${work}/kubeadm.args\necho "[upload-certs] Using certificate key:"\n`,
    { mode: 0o755 },
  );
});

afterAll(async () => {
  for (const name of nodes) await kube.delete({ apiVersion: 'v1', kind: 'Node', name }, { wait: false });
  await rm(join(realNode.binDir, 'kubeadm'), { force: true });
  await rm(work, { recursive: true, force: true });
});

/**
 * A fresh namespace for one test, on the real node; or on a Node object with no kubelet
 * (`fake`), whose pods never run; or on a node the cluster does not have (`missing`).
 */
async function fixture(
  kind: 'real' | 'fake' | 'missing' = 'real',
): Promise<{ node: string; namespace: string }> {
  const id = `${process.pid}-${n++}`;
  const namespace = `admin-pod-${id}`;
  if (kind === 'real') return { node: realNode.name, namespace };
  const node = `admin-node-${id}`;
  if (kind === 'fake') {
    await kube.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }], { mode: 'create' });
    nodes.push(node);
  }
  return { node, namespace };
}

/** Waits (watch) until the admin pod for `node` exists in `namespace`. */
async function podFor(namespace: string, node: string, running = false): Promise<V1Pod> {
  const pods = await kube.waitFor<V1Pod>(
    { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector: MANAGED },
    (objects) =>
      objects.some(
        (p) => p.spec?.nodeName === node && (!running || p.status?.containerStatuses?.[0]?.state?.running),
      ),
    { timeoutMs: 20_000 },
  );
  return pods.find((p) => p.spec?.nodeName === node)!;
}

/** Admin pods left for `node` in `namespace`. */
async function leftovers(namespace: string, node: string): Promise<V1Pod[]> {
  const { items } = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: MANAGED });
  return items.filter((p) => p.spec?.nodeName === node);
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
  it('runs the command in a privileged pod pinned to the node, returns its output and exit code 0, and deletes the pod', async () => {
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
    // The container idles (a bounded while); the command is exec'd in it.
    expect(container.command).toEqual(['sleep', '360']);
    expect(container.securityContext?.privileged).toBe(true);
    const mount = container.volumeMounts?.find((m) => m.mountPath === '/hostroot');
    expect(spec.volumes?.find((v) => v.name === mount?.name)?.hostPath?.path).toBe('/');

    const result: AdminPodResult = await running;
    expect(result).toEqual({
      exitCode: 0,
      logs: '[upload-certs] Using certificate key:\n',
      podName: pod.metadata?.name,
    });
    // The command ran on the host, through `chroot /hostroot`: the kubeadm double there saw its arguments.
    expect(await readFile(join(work, 'kubeadm.args'), 'utf8')).toBe(
      'init phase upload-certs --certificate-key 0123456789abcdef --upload-certs\n',
    );
    expect(await leftovers('ocne-system', node)).toEqual([]);

    const step = `Running ${UPLOAD_CERTS.join(' ')} on node ${node}`;
    expect(
      events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && `${e.step}:${e.status}`),
    ).toEqual([`${step}:started`, `${step}:succeeded`]);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
  });

  it('returns a non-zero exit code and the output instead of throwing; namespace, image and name prefix are options', async () => {
    const { node, namespace } = await fixture();
    const running = runOnNode(kube, node, ['sh', '-c', 'uname -n; echo oops >&2; exit 3'], {
      namespace,
      image: NODE_TOOLBOX_IMAGE,
      namePrefix: 'probe',
    });
    const pod = await podFor(namespace, node);
    expect(pod.metadata?.name).toMatch(/^probe-[0-9a-f]{8}$/);
    expect(pod.spec?.containers[0]?.image).toBe(NODE_TOOLBOX_IMAGE);
    const result = await running;
    expect(result.exitCode).toBe(3);
    expect(result.logs.split('\n').sort()).toEqual(['', hostname(), 'oops'].sort());
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('a node the cluster does not have is a NotFound error naming it, and no pod is made', async () => {
    const { node, namespace } = await fixture('missing');
    const error = await runOnNode(kube, node, ['true'], { namespace }).catch((e: unknown) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_API');
    expect((error as { status?: unknown }).status).toMatchObject({ code: 404, reason: 'NotFound' });
    expect((error as Error).message).toContain(`the cluster has no node ${node}`);
    expect(await leftovers(namespace, node)).toEqual([]);
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeUndefined();
  });

  it('a pod that fails without running the command (rejected by the kubelet) is a command error', async () => {
    // Played: the real kubelet accepts every admin pod.
    const { node, namespace } = await fixture('fake');
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

  it('times out with OCNE_KUBE_TIMEOUT when the pod never runs, after deleting the pod', async () => {
    const { node, namespace } = await fixture('fake');
    const started = Date.now();
    const error = await runOnNode(kube, node, ['true'], { namespace, timeoutMs: 1500 }).catch(
      (e: unknown) => e,
    );
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_TIMEOUT');
    expect((error as Error).message).toContain('not finished after 1500 ms (phase Pending)');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('times out with OCNE_KUBE_TIMEOUT when the command does not finish, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const error = await runOnNode(kube, node, ['sleep', '60'], { namespace, timeoutMs: 4000 }).catch(
      (e: unknown) => e,
    );
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_TIMEOUT');
    expect((error as Error).message).toContain(
      'not finished after 4000 ms (phase Running, container running)',
    );
    expect(await leftovers(namespace, node)).toEqual([]);
  });

  it('stops with OCNE_CANCELLED when the signal aborts while the command runs, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const controller = new AbortController();
    const events: EventInput[] = [];
    const running = runOnNode(kube, node, ['sleep', '60'], {
      namespace,
      signal: controller.signal,
      emit: (e) => events.push(e),
    });
    await podFor(namespace, node, true);
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
  it('throws OCNE_KUBE_COMMAND_FAILED with the exit code and the last lines of output, after deleting the pod', async () => {
    const { node, namespace } = await fixture();
    const events: EventInput[] = [];
    const error = await runOnNodeOrThrow(kube, node, ['sh', '-c', 'echo "it went wrong"; exit 3'], {
      namespace,
      emit: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeCommandError);
    expect(error).toMatchObject({
      code: 'OCNE_KUBE_COMMAND_FAILED',
      exitCode: 3,
      node,
      logs: 'it went wrong\n',
    });
    expect((error as Error).message).toBe(
      `Running sh -c echo "it went wrong"; exit 3 on node ${node}: exit code 3; last lines of output:\nit went wrong`,
    );
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
    const result = await runOnNodeOrThrow(kube, node, UPLOAD_CERTS, {
      namespace,
      description: `Uploading certificates on node ${node}`,
      emit: (e) => events.push(e),
    });
    expect(result).toMatchObject({ exitCode: 0, logs: '[upload-certs] Using certificate key:\n' });
    expect(await leftovers(namespace, node)).toEqual([]);
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step)).toEqual([
      `Uploading certificates on node ${node}`,
      `Uploading certificates on node ${node}`,
    ]);
    expect(JSON.stringify(events)).not.toContain('0123456789abcdef');
  });
});
