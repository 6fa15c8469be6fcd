// The world an oci start meets, played on the two real test control planes: `source` is the
// management cluster, `destination` the workload cluster. The Cluster API controllers, CAPOCI and
// kubeadm cannot run here (they would create OCI instances), so this module plays them, the way
// they change objects: controller Deployments become Available, a new Cluster gets its
// OCICluster network filled in, owner references, a kubeconfig Secret pointing at `destination`,
// Machines with nodes, and Ready status; a deleted Cluster has its objects removed and its
// finalizer taken off. The SDK's own code path (helm, apply, waits, move) is the real one.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeClient, KubernetesObject } from '@ocne/kubernetes';
import { simpleCrd } from '@ocne/test-control-plane';

/** The kinds the player and the tests touch, with their plural and API version. */
export const CAPI_KINDS = [
  { kind: 'Cluster', apiVersion: 'cluster.x-k8s.io/v1beta1', plural: 'clusters' },
  { kind: 'Machine', apiVersion: 'cluster.x-k8s.io/v1beta1', plural: 'machines' },
  { kind: 'MachineDeployment', apiVersion: 'cluster.x-k8s.io/v1beta1', plural: 'machinedeployments' },
  { kind: 'MachineSet', apiVersion: 'cluster.x-k8s.io/v1beta1', plural: 'machinesets' },
  {
    kind: 'KubeadmControlPlane',
    apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
    plural: 'kubeadmcontrolplanes',
  },
  {
    kind: 'KubeadmConfigTemplate',
    apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1',
    plural: 'kubeadmconfigtemplates',
  },
  { kind: 'KubeadmConfig', apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta1', plural: 'kubeadmconfigs' },
  { kind: 'OCICluster', apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', plural: 'ociclusters' },
  {
    kind: 'OCIMachineTemplate',
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
    plural: 'ocimachinetemplates',
  },
  { kind: 'OCIMachine', apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', plural: 'ocimachines' },
] as const;

const LABEL = 'cluster.x-k8s.io/cluster-name';
const FINALIZER = 'cluster.cluster.x-k8s.io';
/** The control-plane endpoint the played CAPOCI gives every cluster (TEST-NET-3: never reached). */
export const ENDPOINT_HOST = '203.0.113.10';

type Obj = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
};

const pathOf = (apiVersion: string, plural: string, namespace: string, name?: string) =>
  `${apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`}/namespaces/${namespace}/${plural}${name ? `/${name}` : ''}`;

/**
 * Installs a permissive CRD for each kind a cluster does not serve yet (create only: CRDs another
 * test file installed, the real reference ones, are left as they are).
 */
export async function ensureCapiCrds(kube: KubeClient): Promise<void> {
  const crds = CAPI_KINDS.map(({ kind, apiVersion, plural }) => {
    const [group, version] = apiVersion.split('/') as [string, string];
    return simpleCrd({ group, version, kind, plural }, { 'cluster.x-k8s.io/provider': 'test' });
  });
  await kube.apply(crds, { mode: 'create', fieldManager: 'ocne-test-crds' });
}

/** Chart stand-ins: the CAPI providers (a Deployment each), oci-ccm and the core applications. */
export const TEST_CHARTS = [
  'cert-manager',
  'core-capi',
  'oci-capi',
  'bootstrap-capi',
  'control-plane-capi',
  'oci-ccm',
  'coredns',
  'kube-proxy',
  'flannel',
  'ui',
  'ocne-catalog',
] as const;

const CONTROLLER_CHARTS = new Set(['core-capi', 'oci-capi', 'bootstrap-capi', 'control-plane-capi']);

/** Writes the chart folders of {@link TEST_CHARTS} below `dir`; returns their paths. */
export async function writeTestCharts(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const chart of TEST_CHARTS) {
    const folder = join(dir, chart);
    await mkdir(join(folder, 'templates'), { recursive: true });
    await writeFile(
      join(folder, 'Chart.yaml'),
      `apiVersion: v2\nname: ${chart}\ndescription: a test stand-in for the catalog's ${chart} chart\ntype: application\nversion: 0.1.0\n`,
    );
    const values = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-values
  namespace: {{ .Release.Namespace }}
data:
  values: {{ toJson .Values | quote }}
`;
    const deployment = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-controller-manager
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      containers:
        - name: manager
          image: example.invalid/{{ .Chart.Name }}:test
`;
    await writeFile(
      join(folder, 'templates', 'resources.yaml'),
      CONTROLLER_CHARTS.has(chart) ? values + deployment : values,
    );
    paths.push(folder);
  }
  return paths;
}

/** How the played controllers treat a cluster, by name. */
export type ClusterBehaviour = 'provision' | 'fail' | 'hold';

/** Options of {@link playControllers}. */
export interface PlayOptions {
  /** The clusters to play in (management and workload). */
  clusters: readonly KubeClient[];
  /** The workload kubeconfig the played CAPI writes into the kubeconfig Secret. */
  workloadKubeconfig: string;
  /** Per cluster name; `provision` when absent. */
  behaviour?: Map<string, ClusterBehaviour>;
  /**
   * Emulated durations (for the benchmark): a controller Deployment becomes Available this long
   * after it appears, and a new Cluster's infrastructure and nodes take this long.
   */
  delays?: { controllersMs?: number; infrastructureMs?: number };
  /** The namespaces whose Clusters are played (other test files leave Clusters of their own behind). */
  namespaces: (namespace: string) => boolean;
  /** Told about a round's error (the next round tries again). */
  onError?: (error: unknown) => void;
}

/** A running player. */
export interface Player {
  /** The last error of a round, if any (for a test that wants to know why nothing happened). */
  readonly lastError: unknown;
  /** Rounds finished, and how long the last one took (a stuck or slow player shows here). */
  readonly rounds: number;
  readonly lastRoundMs: number;
  stop(): Promise<void>;
}

/** Plays the controllers (see the module comment) until stopped, a round every 100 ms. */
export function playControllers(options: PlayOptions): Player {
  let running = true;
  let lastError: unknown;
  let rounds = 0;
  let lastRoundMs = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      for (const kube of options.clusters) {
        try {
          await round(kube, options);
        } catch (error) {
          lastError = error; // a conflict or an object half-made: the next round sees it again
        }
      }
      rounds++;
      lastRoundMs = performance.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    get lastError() {
      return lastError;
    },
    get rounds() {
      return rounds;
    },
    get lastRoundMs() {
      return lastRoundMs;
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function patch(kube: KubeClient, path: string, body: unknown, doing: string): Promise<void> {
  await kube.rest().call('PATCH', path, { body, merge: true, doing });
}

/** When the player first saw an object (by UID), for the emulated delays. */
const firstSeen = new Map<string, number>();

/** True once `ms` have passed since the player first saw the object. */
function due(object: Obj, ms: number | undefined): boolean {
  if (!ms) return true;
  const uid = object.metadata?.uid ?? '';
  const seen = firstSeen.get(uid) ?? Date.now();
  firstSeen.set(uid, seen);
  return Date.now() - seen >= ms;
}

async function round(kube: KubeClient, options: PlayOptions): Promise<void> {
  const { items: deployments } = await kube.list<Obj>('apps/v1', 'Deployment');
  for (const d of deployments) {
    const name = d.metadata?.name ?? '';
    const ns = d.metadata?.namespace ?? '';
    if (!name.endsWith('-controller-manager') || !due(d, options.delays?.controllersMs)) continue;
    const conditions = (d.status?.conditions ?? []) as Array<{ type: string; status: string }>;
    if (conditions.some((c) => c.type === 'Available' && c.status === 'True')) continue;
    // One Deployment's trouble (one going away with its release) does not hold up the Clusters.
    await patch(
      kube,
      `/apis/apps/v1/namespaces/${ns}/deployments/${name}/status`,
      { status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] } },
      `marking ${ns}/${name} available`,
    ).catch((error: unknown) => options.onError?.(error));
  }
  const { items: clusters } = await kube.list<Obj>('cluster.x-k8s.io/v1beta1', 'Cluster');
  for (const cluster of clusters) {
    if (!options.namespaces(cluster.metadata?.namespace ?? '')) continue;
    if (cluster.spec?.paused === true) continue; // being moved: clusterctl's pause, the controllers keep off
    const name = cluster.metadata?.name ?? '';
    // One cluster's trouble (a conflict, an object half-made) does not hold up the others.
    try {
      if (cluster.metadata?.deletionTimestamp) await remove(kube, cluster);
      else if (due(cluster, options.delays?.infrastructureMs)) {
        await provision(kube, cluster, options.behaviour?.get(name) ?? 'provision', options);
      }
    } catch (error) {
      options.onError?.(error);
    }
  }
}

/** Every object of the CAPI kinds in the cluster's namespace that the Cluster owns or labels. */
async function owned(kube: KubeClient, cluster: Obj): Promise<Obj[]> {
  const ns = cluster.metadata?.namespace ?? '';
  const name = cluster.metadata?.name ?? '';
  const out: Obj[] = [];
  for (const k of [...CAPI_KINDS, { kind: 'Secret', apiVersion: 'v1', plural: 'secrets' }]) {
    if (k.kind === 'Cluster') continue;
    const { items } = await kube.list<Obj>(k.apiVersion, k.kind, { namespace: ns });
    for (const o of items) {
      const byOwner = o.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata?.uid);
      if (byOwner || o.metadata?.labels?.[LABEL] === name)
        out.push({ ...o, apiVersion: k.apiVersion, kind: k.kind });
    }
  }
  return out;
}

async function remove(kube: KubeClient, cluster: Obj): Promise<void> {
  const ns = cluster.metadata?.namespace ?? '';
  for (const o of await owned(kube, cluster)) {
    await kube.delete(
      { apiVersion: o.apiVersion!, kind: o.kind!, namespace: ns, name: o.metadata?.name ?? '' },
      { wait: false },
    );
  }
  if ((await owned(kube, cluster)).length > 0) return;
  await patch(
    kube,
    pathOf('cluster.x-k8s.io/v1beta1', 'clusters', ns, cluster.metadata?.name),
    { metadata: { finalizers: null } },
    'removing the Cluster finalizer',
  );
}

async function provision(kube: KubeClient, cluster: Obj, behaviour: ClusterBehaviour, options: PlayOptions) {
  if (behaviour === 'hold') return;
  const ns = cluster.metadata?.namespace ?? '';
  const name = cluster.metadata?.name ?? '';
  const clusterPath = pathOf('cluster.x-k8s.io/v1beta1', 'clusters', ns, name);
  // Provisioned once: a ready Cluster (also a moved copy, whose status and owners came along) gets
  // nothing new, so a round that raced with a move's deletions never makes its objects again in the
  // source; and a round costs nothing for the ready Clusters earlier tests of the file left behind
  // (on a loaded machine, a round that lists every kind for each of them outlasts the waits).
  if ((cluster.status as { controlPlaneReady?: boolean } | undefined)?.controlPlaneReady === true) return;
  if (!cluster.metadata?.finalizers?.includes(FINALIZER)) {
    await patch(kube, clusterPath, { metadata: { finalizers: [FINALIZER] } }, 'adding the Cluster finalizer');
  }
  const owner = {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    name,
    uid: cluster.metadata?.uid ?? '',
  };
  // The objects the Cluster's template made get the Cluster as owner (CAPI's reconcilers do this).
  for (const k of CAPI_KINDS) {
    if (k.kind === 'Cluster' || k.kind === 'Machine') continue;
    const { items } = await kube.list<Obj>(k.apiVersion, k.kind, { namespace: ns });
    for (const o of items) {
      if (!(o.metadata?.name ?? '').startsWith(name) || (o.metadata?.ownerReferences?.length ?? 0) > 0)
        continue;
      await patch(
        kube,
        pathOf(k.apiVersion, k.plural, ns, o.metadata?.name),
        { metadata: { ownerReferences: [owner] } },
        `owning ${k.kind} ${o.metadata?.name}`,
      );
    }
  }
  const infra = (cluster.spec?.infrastructureRef ?? {}) as { name?: string };
  const ociPath = pathOf('infrastructure.cluster.x-k8s.io/v1beta2', 'ociclusters', ns, infra.name ?? name);
  const oci = (await kube
    .rest()
    .call<Obj>('GET', ociPath, { doing: 'reading the OCICluster', allowNotFound: true })) as Obj | undefined;
  if (oci === undefined) return;
  if (behaviour === 'fail') {
    await patch(
      kube,
      `${ociPath}/status`,
      {
        status: {
          conditions: [
            {
              type: 'ClusterReady',
              status: 'False',
              severity: 'Error',
              reason: 'VcnReconciliationFailed',
              message: 'the VCN limit of the tenancy is reached',
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
      'reporting a VCN error',
    );
    await ensureMachine(kube, ns, name, owner, 'control-plane-0', {
      phase: 'Failed',
      failureReason: 'CreateError',
      failureMessage: 'Out of host capacity.',
    });
    return;
  }
  const network = (oci.spec?.networkSpec ?? {}) as {
    vcn?: { id?: string; subnets?: Array<Record<string, unknown>> };
  };
  if (!network.vcn?.id) {
    // CAPOCI writes the OCIDs of what it made into the spec, and the endpoint of the control plane.
    const subnets = (network.vcn?.subnets ?? []).map((s) => ({
      ...s,
      id: `ocid1.subnet.oc1..${name}-${s.role}`,
    }));
    await patch(
      kube,
      ociPath,
      {
        spec: {
          controlPlaneEndpoint: { host: ENDPOINT_HOST, port: 6443 },
          networkSpec: { ...network, vcn: { ...network.vcn, id: `ocid1.vcn.oc1..${name}`, subnets } },
        },
      },
      'filling in the OCICluster network',
    );
    await patch(kube, `${ociPath}/status`, { status: { ready: true } }, 'marking the OCICluster ready');
  }
  const secretName = `${name}-kubeconfig`;
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: secretName });
  if (secret === undefined) {
    await kube.apply(
      [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secretName, namespace: ns, labels: { [LABEL]: name }, ownerReferences: [owner] },
          type: 'cluster.x-k8s.io/secret',
          data: { value: Buffer.from(options.workloadKubeconfig).toString('base64') },
        } as KubernetesObject,
      ],
      { mode: 'create', fieldManager: 'capi-test' },
    );
  }
  await ensureMachine(kube, ns, name, owner, 'control-plane-0', { phase: 'Running' });
  await ensureMachine(kube, ns, name, owner, 'md-0-0', { phase: 'Running' });
  const status = cluster.status as { controlPlaneReady?: boolean } | undefined;
  if (status?.controlPlaneReady !== true) {
    await patch(
      kube,
      `${clusterPath}/status`,
      {
        status: {
          phase: 'Provisioned',
          infrastructureReady: true,
          controlPlaneReady: true,
          conditions: [
            { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() },
            { type: 'ControlPlaneInitialized', status: 'True', lastTransitionTime: new Date().toISOString() },
          ],
        },
      },
      'marking the Cluster ready',
    );
  }
}

async function ensureMachine(
  kube: KubeClient,
  ns: string,
  cluster: string,
  owner: Record<string, string>,
  suffix: string,
  status: Record<string, unknown>,
): Promise<void> {
  const name = `${cluster}-${suffix}`;
  const path = pathOf('cluster.x-k8s.io/v1beta1', 'machines', ns, name);
  const existing = (await kube
    .rest()
    .call<Obj>('GET', path, { doing: 'reading a Machine', allowNotFound: true })) as Obj | undefined;
  if (existing === undefined) {
    await kube.apply(
      [
        {
          apiVersion: 'cluster.x-k8s.io/v1beta1',
          kind: 'Machine',
          metadata: { name, namespace: ns, labels: { [LABEL]: cluster }, ownerReferences: [owner as never] },
          // infrastructureRef: the reference CRDs another test file may have installed require it.
          spec: {
            clusterName: cluster,
            bootstrap: { dataSecretName: `${name}-bootstrap` },
            infrastructureRef: {
              apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
              kind: 'OCIMachine',
              name,
              namespace: ns,
            },
          },
        } as KubernetesObject,
      ],
      { mode: 'create', fieldManager: 'capi-test' },
    );
  }
  if (existing?.status?.phase === status.phase) return;
  await patch(
    kube,
    `${path}/status`,
    { status: { ...status, nodeRef: { apiVersion: 'v1', kind: 'Node', name } } },
    'writing Machine status',
  );
}

/** What kubeadm and the kubelet make in a new workload cluster: a control-plane node and kubelet-config. */
export async function prepareWorkload(kube: KubeClient, node: string): Promise<void> {
  await kube.apply([
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node, labels: { 'node-role.kubernetes.io/control-plane': '' } },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubelet-config', namespace: 'kube-system' },
      data: {
        kubelet:
          'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS:\n- 10.96.0.10\n',
      },
    } as KubernetesObject,
  ]);
}

/** Writes an OCI configuration file and its (test) key into `<home>/.oci`, as a user has them. */
export async function writeOciProfile(home: string): Promise<void> {
  await mkdir(join(home, '.oci'), { recursive: true });
  const key = '-----BEGIN PRIVATE KEY-----\nTHIS-IS-A-TEST-KEY-4242\n-----END PRIVATE KEY-----\n';
  await writeFile(join(home, '.oci', 'key.pem'), key, { mode: 0o600 });
  await writeFile(
    join(home, '.oci', 'config'),
    `[DEFAULT]\nuser=ocid1.user.oc1..test\nfingerprint=aa:bb\ntenancy=ocid1.tenancy.oc1..test\nregion=us-ashburn-1\nkey_file=${join(home, '.oci', 'key.pem')}\n`,
  );
}

/** The names of the objects of the CAPI kinds in a namespace, as `Kind/name`, sorted. */
export async function capiObjects(kube: KubeClient, namespace: string): Promise<string[]> {
  const out: string[] = [];
  for (const k of CAPI_KINDS) {
    const { items } = await kube.list(k.apiVersion, k.kind, { namespace });
    for (const o of items) out.push(`${k.kind}/${o.metadata?.name}`);
  }
  return out.sort();
}
