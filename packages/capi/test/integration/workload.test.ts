// The workload-cluster functions against a real kube-apiserver + etcd (the `destination` control
// plane; no controllers run there): the test plays CAPI by creating the kubeconfig Secret and the
// OCICluster. Every test works in a namespace of its own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type EventInput, isOcneError } from '@ocne/core';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_SOURCES, loadCrd } from '../../scripts/crds.ts';
import {
  CLUSTER_NAME_LABEL,
  ociCcmSecrets,
  readOciCcmSettings,
  waitForWorkloadKubeconfig,
  workloadKubeconfigPath,
  writeWorkloadKubeconfig,
} from '../../src/index.js';

const { destination } = controlPlanesFromInject();

let kube: KubeClient;
let work: string;

beforeAll(async () => {
  kube = await connect({ kubeconfigPath: destination.kubeconfigPath });
  work = await mkdtemp(join(tmpdir(), 'ocne-capi-workload-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A new namespace for one test (namespaces stay: no namespace controller runs on a bare control plane). */
async function freshNamespace(): Promise<string> {
  const namespace = `workload-${randomBytes(4).toString('hex')}`;
  await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  return namespace;
}

/** Creates a Secret as CAPI would (or not quite, for the cases the wait must ignore). */
async function createSecret(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  data: Record<string, string> = {},
): Promise<void> {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels },
    type: 'cluster.x-k8s.io/secret',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
  await kube.apply([secret as KubernetesObject]);
}

function collector() {
  const events: EventInput[] = [];
  const steps = () => events.flatMap((e) => (e.type === 'step' ? [`${e.step}:${e.status}`] : []));
  const started = new Promise<void>((resolve) => {
    const check = () => (steps().length > 0 ? resolve() : setTimeout(check, 5));
    check();
  });
  return { events, steps, started, emit: (e: EventInput) => void events.push(e) };
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** Cases the wait must ignore: no label, another cluster's label, a name without `kubeconfig`. */
async function createDistractors(namespace: string, clusterName: string): Promise<void> {
  await createSecret(namespace, `${clusterName}-kubeconfig-unlabelled`, {}, { value: 'wrong: unlabelled' });
  await createSecret(
    namespace,
    'other-kubeconfig',
    { [CLUSTER_NAME_LABEL]: 'other' },
    { value: 'wrong: other cluster' },
  );
  await createSecret(
    namespace,
    `${clusterName}-ca`,
    { [CLUSTER_NAME_LABEL]: clusterName },
    { value: 'wrong: ca' },
  );
}

describe('waitForWorkloadKubeconfig', () => {
  it('returns the value of the Secret that appears after the wait started, ignoring the others', async () => {
    const namespace = await freshNamespace();
    const { events, steps, started, emit } = collector();
    const waiting = settle(
      waitForWorkloadKubeconfig({ client: kube, namespace, clusterName: 'demo', timeoutMs: 30_000, emit }),
    );
    await started;
    await new Promise((r) => setTimeout(r, 300));
    await createDistractors(namespace, 'demo');
    // A kubeconfig Secret of the cluster without `value` does not end the wait either.
    await createSecret(namespace, 'demo-kubeconfig', { [CLUSTER_NAME_LABEL]: 'demo' }, { other: 'x' });
    const early = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('pending'), 700))]);
    expect(early).toBe('pending');

    await createSecret(
      namespace,
      'demo-kubeconfig',
      { [CLUSTER_NAME_LABEL]: 'demo' },
      { value: destination.kubeconfig },
    );
    const result = await waiting;
    expect(result).toEqual({ ok: true, value: destination.kubeconfig });
    expect(steps()).toEqual(['Waiting for kubeconfig:started', 'Waiting for kubeconfig:succeeded']);
    expect(JSON.stringify(events)).not.toContain('client-key-data');

    // Saved where upstream saves it, it is a kubeconfig that works.
    const path = workloadKubeconfigPath('demo', join(work, 'home'));
    await writeWorkloadKubeconfig(path, result.ok ? result.value : '');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const workload = await connect({ kubeconfigPath: path });
    expect(await workload.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeDefined();
  });

  it('returns at once when the Secret is there already', async () => {
    const namespace = await freshNamespace();
    await createSecret(
      namespace,
      'demo-kubeconfig',
      { [CLUSTER_NAME_LABEL]: 'demo' },
      { value: 'kubeconfig: demo' },
    );
    await expect(waitForWorkloadKubeconfig({ client: kube, namespace, clusterName: 'demo' })).resolves.toBe(
      'kubeconfig: demo',
    );
  });

  it('times out with OCNE_CAPI_KUBECONFIG_TIMEOUT naming the namespace and cluster when only other Secrets exist', async () => {
    const namespace = await freshNamespace();
    await createDistractors(namespace, 'demo');
    const { events, steps, emit } = collector();
    const begun = performance.now();
    const result = await settle(
      waitForWorkloadKubeconfig({ client: kube, namespace, clusterName: 'demo', timeoutMs: 1500, emit }),
    );
    expect(performance.now() - begun).toBeGreaterThanOrEqual(1400);
    expect(result.ok).toBe(false);
    const error = (result as { error: unknown }).error;
    expect(isOcneError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('OCNE_CAPI_KUBECONFIG_TIMEOUT');
    expect((error as Error).message).toBe(
      `no kubeconfig found for cluster demo in namespace ${namespace} after 1500 ms`,
    );
    expect(steps()).toEqual(['Waiting for kubeconfig:started', 'Waiting for kubeconfig:failed']);
    expect(events.at(-1)).toMatchObject({ error: { code: 'OCNE_CAPI_KUBECONFIG_TIMEOUT' } });
    expect(JSON.stringify(events)).not.toContain('wrong:');
  });

  it('names a kubeconfig Secret without value when it times out', async () => {
    const namespace = await freshNamespace();
    await createSecret(namespace, 'demo-kubeconfig', { [CLUSTER_NAME_LABEL]: 'demo' }, { other: 'x' });
    const result = await settle(
      waitForWorkloadKubeconfig({ client: kube, namespace, clusterName: 'demo', timeoutMs: 1000 }),
    );
    const error = (result as { error: Error & { code: string } }).error;
    expect(error.code).toBe('OCNE_CAPI_KUBECONFIG_TIMEOUT');
    expect(error.message).toContain('; kubeconfig secrets without a data key "value": demo-kubeconfig');
  });

  it('stops with OCNE_CANCELLED when the signal aborts', async () => {
    const namespace = await freshNamespace();
    const controller = new AbortController();
    const { steps, emit } = collector();
    const begun = performance.now();
    const waiting = settle(
      waitForWorkloadKubeconfig({
        client: kube,
        namespace,
        clusterName: 'demo',
        signal: controller.signal,
        emit,
      }),
    );
    setTimeout(() => controller.abort(), 300);
    const result = await waiting;
    expect(performance.now() - begun).toBeLessThan(10_000);
    const error = (result as { error: unknown }).error;
    expect(isOcneError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('OCNE_CANCELLED');
    expect(steps()).toEqual(['Waiting for kubeconfig:started', 'Waiting for kubeconfig:failed']);

    // A string reason (as Operation.cancel gives) is a cancellation too.
    const again = new AbortController();
    const second = settle(
      waitForWorkloadKubeconfig({ client: kube, namespace, clusterName: 'demo', signal: again.signal }),
    );
    setTimeout(() => again.abort('cancelled'), 200);
    expect(((await second) as { error: { code: string } }).error.code).toBe('OCNE_CANCELLED');
    await expect(
      waitForWorkloadKubeconfig({
        client: kube,
        namespace,
        clusterName: 'demo',
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'OCNE_CANCELLED' });
  });
});

describe('readOciCcmSettings', () => {
  const VCN = 'ocid1.vcn.oc1..vcn';
  beforeAll(async () => {
    const source = CRD_SOURCES.find((k) => k.kind === 'OCICluster')!;
    // Applying waits until the CRD is established.
    await kube.apply([loadCrd(source) as unknown as KubernetesObject]);
  });

  async function createOciCluster(
    namespace: string,
    name: string,
    vcn: Record<string, unknown>,
  ): Promise<void> {
    await kube.apply([
      {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'OCICluster',
        metadata: { name, namespace },
        spec: { compartmentId: 'ocid1.compartment.oc1..c', networkSpec: { vcn } },
      } as KubernetesObject,
    ]);
  }

  it('reads the VCN and the service-lb subnets of the OCICluster', async () => {
    const namespace = await freshNamespace();
    await createOciCluster(namespace, 'demo', {
      id: VCN,
      subnets: [
        { name: 'control-plane', role: 'control-plane', id: 'ocid1.subnet.oc1..cp' },
        { name: 'service-lb', role: 'service-lb', id: 'ocid1.subnet.oc1..lb1' },
        { name: 'service-lb-2', role: 'service-lb', id: 'ocid1.subnet.oc1..lb2' },
        { name: 'worker', role: 'worker', id: 'ocid1.subnet.oc1..w' },
      ],
    });
    const settings = await readOciCcmSettings(kube, { namespace, name: 'demo' });
    expect(settings).toEqual({
      vcn: VCN,
      loadBalancer: { subnet1: 'ocid1.subnet.oc1..lb1', subnet2: 'ocid1.subnet.oc1..lb2' },
    });

    // The Secrets made from them are Secrets the API server takes.
    const secretNamespace = await freshNamespace();
    const secrets = ociCcmSecrets({
      credentials: {
        region: 'us-ashburn-1',
        tenancy: 'ocid1.tenancy.oc1..t',
        user: 'ocid1.user.oc1..u',
        fingerprint: 'aa:bb',
        key: '-----BEGIN PRIVATE KEY-----\nTEST\n-----END PRIVATE KEY-----\n',
      },
      compartmentId: 'ocid1.compartment.oc1..c',
      settings,
    }).map((s) => ({ ...s, metadata: { ...s.metadata, namespace: secretNamespace } }));
    const applied = await kube.apply(secrets, { mode: 'create' });
    expect(applied.map((a) => a.result)).toEqual(['created', 'created']);
    const stored = await kube.get<KubernetesObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: secretNamespace,
      name: 'oci-volume-provisioner',
    });
    const config = parse(Buffer.from(stored?.data?.['config.yaml'] ?? '', 'base64').toString('utf8'));
    expect(config).toMatchObject({ vcn: VCN, loadBalancer: { subnet1: 'ocid1.subnet.oc1..lb1' } });
  });

  it('fails with OCNE_CAPI_OCI_VCN_MISSING while CAPOCI has not filled in the VCN id', async () => {
    const namespace = await freshNamespace();
    await createOciCluster(namespace, 'demo', {
      subnets: [{ name: 'service-lb', role: 'service-lb' }],
    });
    await expect(readOciCcmSettings(kube, { namespace, name: 'demo' })).rejects.toMatchObject({
      code: 'OCNE_CAPI_OCI_VCN_MISSING',
      message: `OCICluster ${namespace}/demo has an empty vcn id (spec.networkSpec.vcn.id)`,
    });
  });

  it('fails with OCNE_CAPI_OCICLUSTER_NOT_FOUND for an OCICluster that does not exist', async () => {
    const namespace = await freshNamespace();
    await expect(readOciCcmSettings(kube, { namespace, name: 'absent' })).rejects.toMatchObject({
      code: 'OCNE_CAPI_OCICLUSTER_NOT_FOUND',
    });
  });

  it('reads nothing when the VCN and both subnets are configured', async () => {
    const configured = {
      vcn: 'ocid1.vcn.oc1..mine',
      loadBalancer: { subnet1: 'ocid1.a', subnet2: 'ocid1.b' },
    };
    const namespace = await freshNamespace();
    await expect(readOciCcmSettings(kube, { namespace, name: 'absent', configured })).resolves.toEqual(
      configured,
    );
  });
});
