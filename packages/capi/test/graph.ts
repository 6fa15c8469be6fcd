// A realistic Cluster API object graph for one OCI cluster, written into a bare control plane the
// way the CAPI controllers would have left it (spec through create, status through the status
// subresource, owner references to the real UIDs): what `moveCluster` tests and benchmarks move.
//
//   Cluster ─┬─ OCICluster
//            ├─ KubeadmControlPlane ─┬─ Machine (control plane) ─┬─ KubeadmConfig ── Secret (bootstrap data)
//            │                       │                           └─ OCIMachine
//            │                       └─ Secrets <name>-ca, -sa, -proxy, -kubeconfig
//            ├─ OCIMachineTemplate <name>-control-plane, <name>-md-0
//            ├─ KubeadmConfigTemplate <name>-md-0
//            └─ MachineDeployment ── MachineSet ── Machine (worker) ─┬─ KubeadmConfig ── Secret
//                                                                   └─ OCIMachine
//   Secret <name>-etcd (no owner: a user-supplied etcd CA, tied to the Cluster by its name)
//   ConfigMap <name>-addons (no owner, only the cluster-name label)
import {
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { EXTRA_KINDS } from './crds.ts';

/** Options of {@link createClusterGraph}. */
export interface ClusterGraphOptions {
  namespace: string;
  name: string;
  /** Worker Machines (MachineDeployment → MachineSet → Machines). */
  workers: number;
  /** Control-plane Machines (owned by the KubeadmControlPlane). @defaultValue 1 */
  controlPlanes?: number;
  /**
   * Whether the status says the cluster is provisioned: infrastructure ready, control plane
   * initialized and ready, every Machine with a node. @defaultValue true
   */
  ready?: boolean;
  /** Requests at once. @defaultValue 16 */
  concurrency?: number;
}

/** One object of a graph, as created. */
export interface GraphObject {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A kind the graph uses, with its plural (for the status subresource). */
export interface GraphKind {
  apiVersion: string;
  kind: string;
  plural: string;
  status: boolean;
}

const CLUSTER = 'cluster.x-k8s.io/v1beta1';
const INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';
const CONTROL_PLANE = 'controlplane.cluster.x-k8s.io/v1beta1';
const BOOTSTRAP = 'bootstrap.cluster.x-k8s.io/v1beta1';

/** Every kind of the graph. */
export const GRAPH_KINDS: readonly GraphKind[] = [
  { apiVersion: CLUSTER, kind: 'Cluster', plural: 'clusters', status: true },
  { apiVersion: INFRA, kind: 'OCICluster', plural: 'ociclusters', status: true },
  { apiVersion: CONTROL_PLANE, kind: 'KubeadmControlPlane', plural: 'kubeadmcontrolplanes', status: true },
  { apiVersion: INFRA, kind: 'OCIMachineTemplate', plural: 'ocimachinetemplates', status: true },
  { apiVersion: BOOTSTRAP, kind: 'KubeadmConfigTemplate', plural: 'kubeadmconfigtemplates', status: false },
  { apiVersion: CLUSTER, kind: 'MachineDeployment', plural: 'machinedeployments', status: true },
  { apiVersion: CLUSTER, kind: 'Machine', plural: 'machines', status: true },
  ...EXTRA_KINDS.map((k) => ({
    apiVersion: `${k.group}/${k.version}`,
    kind: k.kind,
    plural: k.plural,
    status: true,
  })),
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', status: false },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', status: false },
];

/** The total number of objects {@link createClusterGraph} creates. */
export function graphSize(workers: number, controlPlanes = 1): number {
  // Cluster, OCICluster, KCP, 2 OCIMachineTemplates, KubeadmConfigTemplate, MachineDeployment,
  // MachineSet, 5 cluster Secrets, the ConfigMap; 4 objects per Machine.
  return 14 + 4 * (workers + controlPlanes);
}

const LABEL = 'cluster.x-k8s.io/cluster-name';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

interface Draft {
  object: KubernetesObject & Record<string, unknown>;
  status?: Record<string, unknown>;
  /** Owner drafts, by key; the first one is the controller. */
  owners: string[];
  key: string;
}

/** Clients for a graph's cluster (client-node directly: a test helper of its own). */
export interface GraphClients {
  objects: KubernetesObjectApi;
  custom: CustomObjectsApi;
}

/** Clients from kubeconfig YAML. */
export function graphClients(kubeconfig: string): GraphClients {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return {
    objects: KubernetesObjectApi.makeApiClient(config),
    custom: config.makeApiClient(CustomObjectsApi),
  };
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The status a Cluster has once provisioned (or still provisioning its infrastructure). */
export function clusterStatus(ready: boolean): Record<string, unknown> {
  const t = now();
  const condition = (type: string) => ({ type, status: ready ? 'True' : 'False', lastTransitionTime: t });
  return {
    infrastructureReady: ready,
    controlPlaneReady: ready,
    phase: ready ? 'Provisioned' : 'Provisioning',
    observedGeneration: 1,
    conditions: ['Ready', 'ControlPlaneInitialized', 'ControlPlaneReady', 'InfrastructureReady'].map(
      condition,
    ),
  };
}

function drafts(options: ClusterGraphOptions): Draft[] {
  const { namespace, name, workers } = options;
  const controlPlanes = options.controlPlanes ?? 1;
  const ready = options.ready ?? true;
  const t = now();
  const labels = { [LABEL]: name };
  const meta = (objectName: string, extra: Record<string, unknown> = {}) => ({
    name: objectName,
    namespace,
    labels,
    ...extra,
  });
  const ref = (apiVersion: string, kind: string, objectName: string) => ({
    apiVersion,
    kind,
    name: objectName,
    namespace,
  });
  const ok = (type: string) => ({ type, status: 'True', lastTransitionTime: t });
  const out: Draft[] = [];
  const add = (object: Draft['object'], owners: string[], status?: Record<string, unknown>) => {
    const key = `${object.kind}/${object.metadata?.name}`;
    out.push({ object, owners, key, ...(status ? { status } : {}) });
    return key;
  };
  const cp = `${name}-control-plane`;
  const md = `${name}-md-0`;
  const ms = `${md}-7f9c4`;
  const cluster = add(
    {
      apiVersion: CLUSTER,
      kind: 'Cluster',
      metadata: { name, namespace, finalizers: ['cluster.cluster.x-k8s.io'] },
      spec: {
        clusterNetwork: {
          pods: { cidrBlocks: ['10.244.0.0/16'] },
          services: { cidrBlocks: ['10.96.0.0/12'] },
        },
        controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 },
        controlPlaneRef: ref(CONTROL_PLANE, 'KubeadmControlPlane', cp),
        infrastructureRef: ref(INFRA, 'OCICluster', name),
      },
    },
    [],
    clusterStatus(ready),
  );
  add(
    {
      apiVersion: INFRA,
      kind: 'OCICluster',
      metadata: { ...meta(name), finalizers: ['ocicluster.x-k8s.io'] },
      spec: {
        compartmentId: 'ocid1.compartment.oc1..test',
        controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 },
        networkSpec: { vcn: { name, cidr: '10.0.0.0/16' } },
      },
    },
    [cluster],
    { ready, conditions: [ok('Ready')] },
  );
  const kcp = add(
    {
      apiVersion: CONTROL_PLANE,
      kind: 'KubeadmControlPlane',
      metadata: { ...meta(cp), finalizers: ['kubeadm.controlplane.cluster.x-k8s.io'] },
      spec: {
        replicas: controlPlanes,
        version: 'v1.33.0',
        machineTemplate: { infrastructureRef: ref(INFRA, 'OCIMachineTemplate', cp) },
        kubeadmConfigSpec: { clusterConfiguration: { apiServer: { certSANs: ['localhost', '127.0.0.1'] } } },
      },
    },
    [cluster],
    {
      ready,
      initialized: ready,
      replicas: controlPlanes,
      readyReplicas: controlPlanes,
      updatedReplicas: controlPlanes,
      unavailableReplicas: 0,
      version: 'v1.33.0',
      conditions: [ok('Ready'), ok('Available')],
    },
  );
  for (const template of [cp, md]) {
    add(
      {
        apiVersion: INFRA,
        kind: 'OCIMachineTemplate',
        metadata: meta(template),
        spec: { template: { spec: { shape: 'VM.Standard.E4.Flex', imageId: 'ocid1.image.oc1..test' } } },
      },
      [cluster],
    );
  }
  add(
    {
      apiVersion: BOOTSTRAP,
      kind: 'KubeadmConfigTemplate',
      metadata: meta(md),
      spec: {
        template: {
          spec: {
            joinConfiguration: {
              nodeRegistration: { kubeletExtraArgs: { 'provider-id': 'oci://{{ ds["id"] }}' } },
            },
          },
        },
      },
    },
    [cluster],
  );
  const selector = { matchLabels: { 'cluster.x-k8s.io/deployment-name': md } };
  const machineTemplate = {
    metadata: { labels: selector.matchLabels },
    spec: {
      clusterName: name,
      version: 'v1.33.0',
      bootstrap: { configRef: ref(BOOTSTRAP, 'KubeadmConfigTemplate', md) },
      infrastructureRef: ref(INFRA, 'OCIMachineTemplate', md),
    },
  };
  const deployment = add(
    {
      apiVersion: CLUSTER,
      kind: 'MachineDeployment',
      metadata: meta(md),
      spec: { clusterName: name, replicas: workers, selector, template: machineTemplate },
    },
    [cluster],
    {
      replicas: workers,
      readyReplicas: workers,
      availableReplicas: workers,
      updatedReplicas: workers,
      phase: 'Running',
      observedGeneration: 1,
    },
  );
  const set = add(
    {
      apiVersion: CLUSTER,
      kind: 'MachineSet',
      metadata: meta(ms),
      spec: { clusterName: name, replicas: workers, selector, template: machineTemplate },
    },
    [deployment],
    { replicas: workers, readyReplicas: workers, availableReplicas: workers, observedGeneration: 1 },
  );
  const secret = (secretName: string, owners: string[], data: Record<string, string>) =>
    add(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(secretName),
        type: 'cluster.x-k8s.io/secret',
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
      },
      owners,
    );
  for (const purpose of ['ca', 'sa', 'proxy']) {
    secret(`${name}-${purpose}`, [kcp], { 'tls.crt': `${purpose} certificate`, 'tls.key': `${purpose} key` });
  }
  secret(`${name}-kubeconfig`, [kcp], { value: `apiVersion: v1\nkind: Config\nclusters: []\n# ${name}\n` });
  secret(`${name}-etcd`, [], { 'tls.crt': 'etcd certificate', 'tls.key': 'etcd key' });
  add(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${name}-addons`),
      data: { 'addons.yaml': `# addons of ${name}\n` },
    },
    [],
  );
  const machine = (machineName: string, owner: string, index: number, controlPlane: boolean) => {
    const machineLabels = {
      ...labels,
      ...(controlPlane ? { 'cluster.x-k8s.io/control-plane': '' } : { 'cluster.x-k8s.io/set-name': ms }),
    };
    const address = `10.0.${Math.floor(index / 250) + (controlPlane ? 0 : 10)}.${(index % 250) + 2}`;
    const m = add(
      {
        apiVersion: CLUSTER,
        kind: 'Machine',
        metadata: { ...meta(machineName), labels: machineLabels, finalizers: ['machine.cluster.x-k8s.io'] },
        spec: {
          clusterName: name,
          version: 'v1.33.0',
          bootstrap: { configRef: ref(BOOTSTRAP, 'KubeadmConfig', machineName), dataSecretName: machineName },
          infrastructureRef: ref(INFRA, 'OCIMachine', machineName),
          providerID: `oci://ocid1.instance.oc1..${machineName}`,
        },
      },
      [owner],
      {
        phase: ready ? 'Running' : 'Provisioning',
        bootstrapReady: true,
        infrastructureReady: ready,
        ...(ready ? { nodeRef: { apiVersion: 'v1', kind: 'Node', name: machineName } } : {}),
        addresses: [{ type: 'InternalIP', address }],
        conditions: [ok('Ready')],
      },
    );
    const config = add(
      {
        apiVersion: BOOTSTRAP,
        kind: 'KubeadmConfig',
        metadata: meta(machineName),
        spec: { joinConfiguration: { nodeRegistration: { name: machineName } } },
      },
      [m],
      { ready: true, dataSecretName: machineName },
    );
    add(
      {
        apiVersion: INFRA,
        kind: 'OCIMachine',
        metadata: { ...meta(machineName), finalizers: ['ocimachine.x-k8s.io'] },
        spec: {
          shape: 'VM.Standard.E4.Flex',
          imageId: 'ocid1.image.oc1..test',
          providerID: `oci://ocid1.instance.oc1..${machineName}`,
          instanceId: `ocid1.instance.oc1..${machineName}`,
        },
      },
      [m],
      { ready, addresses: [{ type: 'InternalIP', address }] },
    );
    secret(machineName, [config], {
      value: `{"ignition":{"version":"3.4.0"},"machine":"${machineName}"}`,
      format: 'ignition',
    });
  };
  for (let i = 0; i < controlPlanes; i++) machine(`${cp}-${i}`, kcp, i, true);
  for (let i = 0; i < workers; i++) machine(`${ms}-${i}`, set, i, false);
  return out;
}

/** A draft's object with owner references to its owners, as created (the first one is the controller). */
function withOwners(d: Draft, created: ReadonlyMap<string, GraphObject>): Draft['object'] {
  const ownerReferences = d.owners.map((key, i) => {
    const owner = created.get(key)!;
    return {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.name,
      uid: owner.uid,
      ...(i === 0 ? { controller: true, blockOwnerDeletion: true } : {}),
    };
  });
  const body = structuredClone(d.object);
  if (ownerReferences.length > 0) body.metadata = { ...body.metadata, ownerReferences };
  return body;
}

/**
 * The graph of one cluster as the source's API server would list it, without a server: every
 * object with a made-up UID (`uid-<Kind>-<name>`), owner references to those UIDs, and its status.
 * For tests of the pure move plan.
 */
export function listedClusterGraph(options: ClusterGraphOptions): Array<Record<string, unknown>> {
  const created = new Map<string, GraphObject>();
  const kinds = new Map(GRAPH_KINDS.map((k) => [k.kind, k]));
  // drafts() adds every owner before what it owns.
  return drafts(options).map((d) => {
    const body = withOwners(d, created);
    const uid = `uid-${d.key.replace('/', '-')}`;
    created.set(d.key, { apiVersion: body.apiVersion!, kind: body.kind!, name: body.metadata!.name!, uid });
    const status = d.status && kinds.get(body.kind!)?.status ? { status: d.status } : {};
    return {
      ...body,
      metadata: { ...body.metadata, uid, resourceVersion: '1', creationTimestamp: now() },
      ...status,
    };
  });
}

/**
 * Creates the graph of one cluster in `options.namespace` (which must exist), owners before what
 * they own, each object's status written through the status subresource. Returns every object.
 */
export async function createClusterGraph(
  kubeconfig: string,
  options: ClusterGraphOptions,
): Promise<GraphObject[]> {
  const { objects, custom } = graphClients(kubeconfig);
  const all = drafts(options);
  const uids = new Map<string, GraphObject>();
  const kinds = new Map(GRAPH_KINDS.map((k) => [k.kind, k]));
  let remaining = all;
  while (remaining.length > 0) {
    const level = remaining.filter((d) => d.owners.every((o) => uids.has(o)));
    remaining = remaining.filter((d) => !level.includes(d));
    await pool(level, options.concurrency ?? 16, async (d) => {
      const body = withOwners(d, uids);
      const created = await objects.create(body);
      const uid = created.metadata?.uid ?? '';
      uids.set(d.key, { apiVersion: body.apiVersion!, kind: body.kind!, name: body.metadata!.name!, uid });
      const kind = kinds.get(body.kind!)!;
      if (d.status && kind.status) {
        const [group, version] = kind.apiVersion.split('/') as [string, string];
        await custom.replaceNamespacedCustomObjectStatus({
          group,
          version,
          namespace: options.namespace,
          plural: kind.plural,
          name: body.metadata!.name!,
          body: { ...created, status: d.status },
        });
      }
    });
  }
  return all.map((d) => uids.get(d.key)!);
}

/** Merges `status` into an object's status (the test playing a controller). */
export async function patchStatus(
  kubeconfig: string,
  kind: string,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
): Promise<void> {
  const { objects, custom } = graphClients(kubeconfig);
  const k = GRAPH_KINDS.find((x) => x.kind === kind)!;
  const current = (await objects.read({
    apiVersion: k.apiVersion,
    kind,
    metadata: { name, namespace },
  })) as KubernetesObject & { status?: Record<string, unknown> };
  const [group, version] = k.apiVersion.split('/') as [string, string];
  await custom.replaceNamespacedCustomObjectStatus({
    group,
    version,
    namespace,
    plural: k.plural,
    name,
    body: { ...current, status: { ...current.status, ...status } },
  });
}

/**
 * Deletes every object of the graph's kinds in a namespace, finalizers removed first (no
 * controller runs to remove them). The namespace stays: without a namespace controller a deleted
 * namespace would stay Terminating.
 */
export async function deleteGraphObjects(kubeconfig: string, namespace: string): Promise<void> {
  const { objects } = graphClients(kubeconfig);
  for (const kind of GRAPH_KINDS) {
    const list = await objects.list(kind.apiVersion, kind.kind, namespace).catch(() => ({ items: [] }));
    await pool(list.items, 16, async (item) => {
      const object = { ...item, apiVersion: kind.apiVersion, kind: kind.kind };
      if ((object.metadata?.finalizers?.length ?? 0) > 0) {
        await objects
          .replace({ ...object, metadata: { ...object.metadata, finalizers: [] } })
          .catch(() => undefined);
      }
      await objects.delete(object).catch(() => undefined);
    });
  }
}
