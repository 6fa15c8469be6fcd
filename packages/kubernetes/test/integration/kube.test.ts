// Kubernetes access against a real kube-apiserver + etcd on 127.0.0.1 (the integration project's
// control planes): apply, waits, deletes, bootstrap tokens, kubeadm-config, faults.
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { isOcneError } from '@ocne/core';
import {
  connect,
  createBootstrapToken,
  type KubeClient,
  readKubeadmConfig,
  waitForDeployments,
} from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { beforeAll, describe, expect, it } from 'vitest';

const { source, destination } = controlPlanesFromInject();
let kube: KubeClient;
let other: KubeClient;
let n = 0;
const ns = () => `kube-test-${process.pid}-${n++}`;

beforeAll(async () => {
  kube = await connect({ kubeconfig: source.kubeconfig });
  other = await connect({ kubeconfigPath: destination.kubeconfigPath });
});

const crd = (group: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
          },
        },
      },
    ],
  },
});

describe('apply', () => {
  it('keeps CRD schema keys the client models spell differently (x-kubernetes-*, enum, default)', async () => {
    const group = `${ns()}.example.com`;
    const definition = crd(group);
    definition.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties = {
      size: { type: 'integer' },
      port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
      extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    } as never;
    await kube.apply([definition]);
    const stored = await kube.get<{
      apiVersion?: string;
      spec: { versions: Array<{ schema: { openAPIV3Schema: unknown } }> };
    }>({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: `widgets.${group}`,
    });
    const spec = JSON.stringify(stored?.spec.versions[0]?.schema.openAPIV3Schema);
    // The client reads a CRD into its model: the keys come back in the model's spelling.
    expect(spec).toMatch(/"x[-_]kubernetes[-_]int[-_]or[-_]string":true/);
    expect(spec).toMatch(/"x[-_]kubernetes[-_]preserve[-_]unknown[-_]fields":true/);
    expect(spec).toMatch(/"_?enum":\["a","b"\]/);
    expect(spec).toMatch(/"_?default":"a"/);
    // The server enforces the enum: proof the schema arrived whole.
    await expect(
      kube.apply(
        [
          {
            apiVersion: `${group}/v1`,
            kind: 'Widget',
            metadata: { name: 'w', namespace: 'default' },
            spec: { mode: 'c' },
          } as KubernetesObject,
        ],
        {
          dryRun: true,
        },
      ),
    ).rejects.toThrow(/Unsupported value: "c"/);
  });

  it('applies YAML server-side as field manager ocne: CRDs established first, then namespaces, then the rest', async () => {
    const namespace = ns();
    const group = `${namespace}.example.com`;
    const yaml = [
      `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: ${namespace}\nspec:\n  size: 3\n`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: ${namespace}\ndata:\n  a: "1"\n`,
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    ].join('---\n');
    const events: string[] = [];
    const applied = await kube.apply(
      [crd(group), ...(await import('@ocne/kubernetes')).parseManifests(yaml)],
      {
        emit: (e) => {
          if (e.type === 'step' && e.status === 'succeeded') events.push(e.step);
        },
      },
    );
    expect(applied.map((a) => `${a.ref.kind}/${a.ref.name}:${a.result}`)).toEqual([
      `CustomResourceDefinition/widgets.${group}:applied`,
      `Namespace/${namespace}:applied`,
      `Widget/w1:applied`,
      'ConfigMap/c1:applied',
    ]);
    expect(events).toEqual([`Waiting for CustomResourceDefinition widgets.${group} to be established`]);
    const cm = await kube.get<{
      apiVersion: string;
      kind: string;
      metadata: { managedFields: Array<{ manager: string; operation: string }> };
    }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace,
      name: 'c1',
    });
    expect(cm?.metadata.managedFields.map((f) => `${f.manager}:${f.operation}`)).toContain('ocne:Apply');
    expect((await kube.get({ apiVersion: `${group}/v1`, kind: 'Widget', namespace, name: 'w1' }))?.kind).toBe(
      'Widget',
    );
    // The other cluster is untouched.
    expect(await other.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeUndefined();
  });

  it('create mode leaves existing objects as they are; apply mode updates them', async () => {
    const namespace = ns();
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    const cm = (value: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace },
      data: { v: value },
    });
    expect((await kube.apply([cm('1')], { mode: 'create' }))[0]?.result).toBe('created');
    expect((await kube.apply([cm('2')], { mode: 'create' }))[0]?.result).toBe('exists');
    expect(
      (
        await kube.get<{ data: { v: string } } & { apiVersion: string; kind: string }>({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace,
          name: 'c',
        })
      )?.data.v,
    ).toBe('1');
    await kube.apply([cm('3')]);
    expect(
      (
        await kube.get<{ data: { v: string } } & { apiVersion: string; kind: string }>({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace,
          name: 'c',
        })
      )?.data.v,
    ).toBe('3');
  });

  it('dry run checks without storing', async () => {
    const namespace = ns();
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], {
      dryRun: true,
    });
    expect(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })).toBeUndefined();
  });

  it('an invalid object is refused with the API Status, naming the object', async () => {
    const error = await kube
      .apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: 'default' } }])
      .catch((e) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_KUBE_API');
    // Server-side apply rejects the name before validation: 400 BadRequest, not 422 Invalid.
    expect(error.status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(error.message).toContain('applying ConfigMap default/Not_Valid: BadRequest (400): ');
  });
});

describe('waits', () => {
  it('returns when a watched object reaches the condition, and emits the waiter step', async () => {
    const namespace = ns();
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    const steps: string[] = [];
    const wait = kube.waitFor(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'ready' },
      (objs) => (objs[0] as { data?: { state?: string } } | undefined)?.data?.state === 'done',
      {
        description: 'Waiting for kubeconfig',
        timeoutMs: 20_000,
        emit: (e) => e.type === 'step' && steps.push(`${e.step}:${e.status}`),
      },
    );
    await sleep(200);
    await kube.apply([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ready', namespace },
        data: { state: 'working' },
      } as never,
    ]);
    await sleep(200);
    await kube.apply([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ready', namespace },
        data: { state: 'done' },
      } as never,
    ]);
    const [cm] = await wait;
    expect((cm as { data: { state: string } }).data.state).toBe('done');
    expect(steps).toEqual(['Waiting for kubeconfig:started', 'Waiting for kubeconfig:succeeded']);
  });

  it('waits for a labelled Secret to appear', async () => {
    const namespace = ns();
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    const wait = kube.waitFor(
      { apiVersion: 'v1', kind: 'Secret', namespace, labelSelector: 'cluster.x-k8s.io/cluster-name=c1' },
      (objs) => objs.some((s) => s.metadata?.name?.includes('kubeconfig')),
    );
    await sleep(100);
    await kube.apply([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'c1-kubeconfig', namespace, labels: { 'cluster.x-k8s.io/cluster-name': 'c1' } },
        stringData: { value: 'x' },
      } as never,
    ]);
    expect((await wait).map((s) => s.metadata?.name)).toEqual(['c1-kubeconfig']);
  });

  it('resumes after the server ends the watch, from the last resourceVersion', async () => {
    const namespace = ns();
    await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    const started = Date.now();
    const wait = kube.waitFor(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'late' },
      (objs) => objs.length === 1,
      {
        watchTimeoutSeconds: 1,
        backoffMs: 50,
        timeoutMs: 20_000,
      },
    );
    await sleep(2500);
    await kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace } }]);
    await wait;
    expect(Date.now() - started).toBeGreaterThan(2500);
  });

  it('times out with a typed error within the given time', async () => {
    const started = Date.now();
    const error = await kube
      .waitFor(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'never' },
        (objs) => objs.length > 0,
        {
          timeoutMs: 700,
          description: 'Waiting for never',
        },
      )
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_KUBE_TIMEOUT' });
    expect(error.message).toContain('Waiting for never: not done after 700 ms');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['no reason (a DOMException)', undefined],
    ['a string reason, as Operation.cancel gives', 'cancelled by the user'],
  ])("stops with OCNE_CANCELLED when the caller's signal aborts with %s", async (_name, reason) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 200);
    const error = await kube
      .waitFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'never' }, () => false, {
        signal: ac.signal,
      })
      .catch((e) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_CANCELLED');
  });
});

describe('deployments', () => {
  it('waits until every deployment is Available (the test plays the controller), as one step', async () => {
    const namespace = ns();
    const deployment = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'example.com/c:1' }] },
        },
      },
    });
    await kube.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      deployment('core'),
      deployment('capoci'),
    ] as never);
    const steps: string[] = [];
    const wait = waitForDeployments(
      kube,
      [
        { namespace, name: 'core' },
        { namespace, name: 'capoci' },
      ],
      {
        description: 'Waiting for Core Cluster API Controllers',
        timeoutMs: 20_000,
        emit: (e) => e.type === 'step' && steps.push(`${e.step}:${e.status}`),
      },
    );
    const apps = kube.config.makeApiClient(AppsV1Api);
    for (const name of ['core', 'capoci']) {
      await sleep(100);
      const current = await apps.readNamespacedDeployment({ name, namespace });
      current.status = {
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' },
        ],
      };
      await apps.replaceNamespacedDeploymentStatus({ name, namespace, body: current });
    }
    await wait;
    expect(steps).toEqual([
      'Waiting for Core Cluster API Controllers:started',
      'Waiting for Core Cluster API Controllers:succeeded',
    ]);
  });
});

describe('delete', () => {
  it('deletes and waits until the object is gone; deleting the absent is fine', async () => {
    const namespace = ns();
    await kube.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', namespace } },
    ]);
    await kube.delete(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'gone' },
      { timeoutMs: 10_000 },
    );
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'gone' })).toBeUndefined();
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'gone' });
  });
});

describe('kubeadm state', () => {
  it("creates bootstrap tokens with kubeadm's defaults", async () => {
    const now = new Date('2026-11-21T12:00:00Z');
    await createBootstrapToken(kube, 'abcdef.0123456789abcdef', { now });
    const secret = await kube.get<{
      apiVersion: string;
      kind: string;
      type: string;
      data: Record<string, string>;
    }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'kube-system',
      name: 'bootstrap-token-abcdef',
    });
    const data = Object.fromEntries(
      Object.entries(secret!.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(secret!.type).toBe('bootstrap.kubernetes.io/token');
    expect(data).toEqual({
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      expiration: '2026-11-22T12:00:00Z',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      'usage-bootstrap-signing': 'true',
      'usage-bootstrap-authentication': 'true',
    });
  });

  it('reads kubeadm-config, including an IPv6 endpoint; a cluster without it is a clear error', async () => {
    const error = await readKubeadmConfig(other).catch((e) => e);
    expect(error.message).toContain('no kube-system/kubeadm-config');
    await kube.apply([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
        data: {
          ClusterConfiguration:
            'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: "[fd00::10]:6443"\n',
        },
      } as never,
    ]);
    expect(await readKubeadmConfig(kube)).toMatchObject({
      controlPlaneEndpoint: '[fd00::10]:6443',
      host: 'fd00::10',
      port: 6443,
    });
  });
});

describe('faults', () => {
  it('an unreachable API server is a typed error, not a hang', async () => {
    const dead = await connect({ kubeconfig: source.kubeconfig.replace(source.url, 'https://127.0.0.1:1') });
    const started = Date.now();
    const error = await dead.list('v1', 'Namespace').catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_KUBE_UNREACHABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('wrong credentials are refused as unauthorized', async () => {
    const bad = await connect({ kubeconfig: source.kubeconfig.replace(source.token, 'wrong-token') });
    await expect(bad.list('v1', 'Namespace')).rejects.toMatchObject({
      code: 'OCNE_KUBE_UNAUTHORIZED',
      status: { code: 401 },
    });
  });

  it('a broken kubeconfig is refused before any request', async () => {
    await expect(connect({ kubeconfig: 'not: [valid' })).rejects.toMatchObject({
      code: 'OCNE_KUBE_INVALID_KUBECONFIG',
    });
    await expect(connect({ kubeconfigPath: '/nonexistent/kubeconfig' })).rejects.toMatchObject({
      code: 'OCNE_KUBE_INVALID_KUBECONFIG',
    });
  });
});
