// `cluster start` and `delete` of the oci provider on the two real test control planes: `source` is
// the management cluster, `destination` the workload cluster. The test plays the Cluster API
// controllers (world.ts); the provider's own path is real: helm installs the CAPI providers, oci-ccm
// and the core applications from a chart repository served on 127.0.0.1, the resources are applied
// to the real kube-apiserver, the waits watch it, and self-managed clusters move between the two.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ResolvedConfig } from '@ocne/config';
import { type EventInput, isOcneError, type OcneError, type ProviderContext } from '@ocne/core';
import { connect, type KubeClient, listReleases, uninstallRelease } from '@ocne/kubernetes';
import { type ChartRepository, serveChartRepository } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { type OciApiServer, readTarGz, startOciApiServer } from '@ocne/test-oci-api';
import { startTestRegistry, type TestRegistry } from '@ocne/test-registry';
import { testTool } from '@ocne/test-tools';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createOciProvider,
  type EnsureImagesRequest,
  type ImagesPort,
  OCI_ARM_SHAPES,
  type OciProviderOptions,
  startStatePath,
} from '../../src/index.js';
import { pushOckImage } from './ock-registry.ts';
import {
  type ClusterBehaviour,
  capiObjects,
  ENDPOINT_HOST,
  ensureCapiCrds,
  type Player,
  playControllers,
  prepareWorkload,
  writeOciProfile,
  writeTestCharts,
} from './world.ts';

// The libvirt provider's ephemeral API, faked at the module: a VM here cannot run Kubernetes (the
// libvirt tests start the real one). It answers with the management test control plane.
const ephemeral = vi.hoisted(() => ({
  kubeconfigPath: '',
  ensured: [] as Array<Record<string, unknown>>,
  deleted: [] as Array<Record<string, unknown>>,
}));
vi.mock('@ocne/provider-libvirt', () => ({
  ensureEphemeralCluster: async (options: Record<string, unknown>) => {
    ephemeral.ensured.push(options);
    return { kubeconfigPath: ephemeral.kubeconfigPath, created: true, name: 'ocne-ephemeral' };
  },
  deleteEphemeralCluster: async (options: Record<string, unknown>) => {
    ephemeral.deleted.push(options);
    return [];
  },
}));

const { source, destination } = controlPlanesFromInject();
ephemeral.kubeconfigPath = source.kubeconfigPath;
const helmPath = testTool('helm');
const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const COMPARTMENT = 'ocid1.compartment.oc1..test';
const NODE = `oci-start-cp-${process.pid}`;
// Above the start's own waits (120 s each, see providerOptions), so a slow run fails with the
// start's error rather than vitest's.
vi.setConfig({ testTimeout: 400_000 });
const CAPI_RELEASES = [
  ['cert-manager', 'cert-manager'],
  ['core-capi', 'capi-system'],
  ['capoci', 'cluster-api-provider-oci-system'],
  ['bootstrap-capi', 'capi-kubeadm-bootstrap-system'],
  ['control-plane-capi', 'capi-kubeadm-control-plane-system'],
] as const;
const WORKLOAD_RELEASES = [
  ['oci-ccm', 'kube-system'],
  ['core-dns', 'kube-system'],
  ['kube-proxy', 'kube-system'],
  ['flannel', 'kube-flannel'],
  ['ui', 'ocne-system'],
] as const;

let work: string;
let repository: ChartRepository | undefined;
let mgmt: KubeClient;
let workload: KubeClient;
let player: Player;
const behaviour = new Map<string, ClusterBehaviour>();
/** What went wrong in the played controllers' rounds (shown when a test fails). */
const playerErrors: string[] = [];
const NAMESPACE_PREFIX = `ocne-oci-start-${process.pid}-`;
let counter = 0;

/** A home with an OCI configuration, and a cluster configuration of a name and namespace of its own. */
async function setup(
  extra = '',
  options: { selfManaged?: boolean; images?: boolean; compartment?: string } = {},
) {
  counter += 1;
  const name = `oci${counter}-${process.pid % 10_000}`;
  const namespace = `${NAMESPACE_PREFIX}${counter}`;
  const home = await mkdtemp(join(work, 'home-'));
  await writeOciProfile(home);
  const images =
    options.images === true
      ? '    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaconfiguredamd64\n      arm64: ocid1.image.oc1.iad.aaaaaaaaconfiguredarm64\n'
      : '';
  const text = `provider: oci\nname: ${name}\nproviders:\n  oci:\n    compartment: ${options.compartment ?? COMPARTMENT}\n    namespace: ${namespace}\n    selfManaged: ${options.selfManaged === true}\n    controlPlaneShape:\n      shape: VM.Standard.A1.Flex\n      ocpus: 2\n    workerShape:\n      shape: VM.Standard.E4.Flex\n      ocpus: 1\n${images}${extra}`;
  await writeFile(join(home, 'capi.yaml'), text);
  const env: Record<string, string> = { KUBECONFIG: source.kubeconfigPath };
  const config = await loadConfig({ configPath: join(home, 'capi.yaml'), defaults: false, home, env });
  return { name, namespace, home, env, config };
}

/** A fake images port that records its calls and answers one OCID per architecture. */
function fakeImages(): ImagesPort & { calls: EnsureImagesRequest[] } {
  const calls: EnsureImagesRequest[] = [];
  return {
    calls,
    async ensureImages(request) {
      calls.push(request);
      return Object.fromEntries(request.architectures.map((a) => [a, `ocid1.image.oc1..made-${a}`]));
    },
  };
}

function collector() {
  const events: EventInput[] = [];
  return {
    events,
    emit: (e: EventInput) => void events.push(e),
    started: () => events.flatMap((e) => (e.type === 'step' && e.status === 'started' ? [e.step] : [])),
    logs: () => events.flatMap((e) => (e.type === 'log' && e.level === 'info' ? [e.message] : [])),
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function context(s: Setup, emit: (e: EventInput) => void, signal = new AbortController().signal) {
  const ctx: ProviderContext<ResolvedConfig> = { config: s.config, home: s.home, env: s.env, emit, signal };
  return ctx;
}

const providerOptions = (extra: OciProviderOptions = {}): OciProviderOptions => ({
  catalog: { repoUrl: repository!.url },
  helmPath,
  // Generous: in the full run the played controllers share two cores with every other project.
  timeouts: {
    controllersMs: 120_000,
    kubeconfigMs: 120_000,
    clusterReadyMs: 120_000,
    moveMs: 120_000,
    deleteMs: 120_000,
  },
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<OcneError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isOcneError(error), String(error)).toBe(true);
  return error as OcneError;
}

async function values(kube: KubeClient, release: string, namespace: string): Promise<unknown> {
  const cm = await kube.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace,
    name: `${release}-values`,
  });
  return JSON.parse(cm?.data?.values ?? 'null');
}

async function uninstallAll(kubeconfig: string, releases: ReadonlyArray<readonly [string, string]>) {
  for (const [release, namespace] of releases) {
    await uninstallRelease(release, namespace, { helmPath, kubeconfig }).catch(() => undefined);
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocne-oci-start-'));
  mgmt = await connect({ kubeconfigPath: source.kubeconfigPath });
  workload = await connect({ kubeconfigPath: destination.kubeconfigPath });
  await Promise.all([ensureCapiCrds(mgmt), ensureCapiCrds(workload)]);
  await prepareWorkload(workload, NODE);
  repository = await serveChartRepository({
    helmPath,
    charts: await writeTestCharts(join(work, 'charts')),
    workDir: work,
    prefix: 'catalog',
  });
  player = playControllers({
    clusters: [mgmt, workload],
    workloadKubeconfig: destination.kubeconfig,
    behaviour,
    namespaces: (ns) => ns.startsWith(NAMESPACE_PREFIX),
    onError: (error) => playerErrors.push(String(error)),
  });
}, 120_000);

// A start that times out waiting on the played controllers says why they did nothing.
afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return;
  const clusters = await Promise.all(
    [mgmt, workload].map((kube) =>
      kube
        ?.list<{ metadata?: { namespace?: string; name?: string }; spec?: unknown; status?: unknown }>(
          'cluster.x-k8s.io/v1beta1',
          'Cluster',
        )
        .then(({ items }) =>
          items
            .filter((c) => c.metadata?.namespace?.startsWith(NAMESPACE_PREFIX))
            .map(
              (c) =>
                `${c.metadata?.namespace}/${c.metadata?.name} spec ${JSON.stringify(c.spec)} status ${JSON.stringify(c.status)}`,
            ),
        )
        .catch((error: unknown) => [`listing failed: ${String(error)}`]),
    ),
  );
  console.error(
    [
      `played controllers: ${player?.rounds} rounds, the last ${player?.lastRoundMs.toFixed(0)} ms; last round error ${String(player?.lastError)}`,
      `last cluster errors:\n${playerErrors.slice(-5).join('\n')}`,
      `clusters (management, then workload):\n${clusters.flat().join('\n')}`,
    ].join('\n'),
  );
});

afterAll(async () => {
  await player?.stop();
  await uninstallAll(source.kubeconfigPath, CAPI_RELEASES);
  await uninstallAll(destination.kubeconfigPath, [...CAPI_RELEASES, ...WORKLOAD_RELEASES]);
  for (const name of ['oci-cloud-controller-manager', 'oci-volume-provisioner']) {
    await workload
      ?.delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name })
      .catch(() => {});
  }
  await workload?.delete({ apiVersion: 'v1', kind: 'Node', name: NODE }).catch(() => {});
  await repository?.close();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('oci start', () => {
  it('starts a cluster: providers, images for both architectures, resources, kubeconfig, oci-ccm, core applications', async () => {
    const s = await setup();
    const images = fakeImages();
    const provider = createOciProvider(providerOptions({ images }));
    const { emit, events, started, logs } = collector();

    const result = await provider.start!(context(s, emit));

    expect(result.kubeconfig).toBe(destination.kubeconfig);
    // One call, both architectures (the control plane is arm64, the workers amd64).
    expect(images.calls).toHaveLength(1);
    expect(images.calls[0]).toMatchObject({
      architectures: ['arm64', 'amd64'],
      compartmentId: COMPARTMENT,
      kubernetesVersion: s.config.cluster.kubernetesVersion,
      managementKubeconfigPath: source.kubeconfigPath,
    });
    // Upstream's steps, in order.
    const steps = started();
    const order = [
      'Installing cert-manager into cert-manager',
      'Installing control-plane-capi into capi-kubeadm-control-plane-system',
      'Waiting for Core Cluster API Controllers',
      'Waiting for OCI Cluster API Controllers',
      'Waiting for kubeconfig',
      'Waiting for the Kubernetes cluster to be ready',
      'Installing oci-ccm into kube-system',
      'Installing core-dns into kube-system',
      'Installing flannel into kube-flannel',
      'Installing ui into ocne-system',
    ];
    for (const step of order) expect(steps, step).toContain(step);
    expect(order.map((step) => steps.indexOf(step))).toEqual(
      [...order.map((step) => steps.indexOf(step))].sort((a, b) => a - b),
    );
    expect(logs()).toEqual(
      expect.arrayContaining([
        'Applying Cluster API resources',
        'Installing applications into workload cluster',
      ]),
    );
    // The template went to the Cluster's namespace with the images the port made.
    const templates = await mgmt.list<{
      metadata?: { name?: string };
      spec?: { template?: { spec?: { imageId?: string } } };
    }>('infrastructure.cluster.x-k8s.io/v1beta2', 'OCIMachineTemplate', { namespace: s.namespace });
    expect(
      Object.fromEntries(templates.items.map((t) => [t.metadata?.name, t.spec?.template?.spec?.imageId])),
    ).toEqual({
      [`${s.name}-control-plane`]: 'ocid1.image.oc1..made-arm64',
      [`${s.name}-md-0`]: 'ocid1.image.oc1..made-amd64',
    });
    // At least one worker, as upstream forces it.
    const md = await mgmt.get<{ apiVersion: string; kind: string; spec?: { replicas?: number } }>({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'MachineDeployment',
      namespace: s.namespace,
      name: `${s.name}-md-0`,
    });
    expect(md?.spec?.replicas).toBe(1);
    // oci-ccm's Secret holds the credentials and the network CAPOCI made.
    const secret = await workload.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'kube-system',
      name: 'oci-cloud-controller-manager',
    });
    const ccm = Buffer.from(secret?.data?.['cloud-provider.yaml'] ?? '', 'base64').toString('utf8');
    expect(ccm).toContain('THIS-IS-A-TEST-KEY-4242');
    expect(ccm).toContain(`vcn: ocid1.vcn.oc1..${s.name}`);
    expect(ccm).toContain(`subnet1: ocid1.subnet.oc1..${s.name}-service-lb`);
    // kube-proxy reaches the API server at the endpoint CAPOCI made; flannel gets no interface.
    expect(await values(workload, 'kube-proxy', 'kube-system')).toMatchObject({
      apiServer: { host: ENDPOINT_HOST },
    });
    expect(await values(workload, 'flannel', 'kube-flannel')).toMatchObject({
      flannel: { args: ['--ip-masq', '--kube-subnet-mgr'] },
    });
    // No credentials in the events; no state file left behind.
    expect(JSON.stringify(events)).not.toContain('THIS-IS-A-TEST-KEY');
    await expect(stat(startStatePath(s.home, s.name))).rejects.toThrow();
  });

  it('uses the image OCIDs of the configuration without calling the images port', async () => {
    const s = await setup('', { images: true });
    const images = fakeImages();
    const { emit } = collector();
    await createOciProvider(providerOptions({ images })).start!(context(s, emit));
    expect(images.calls).toEqual([]);
    const cp = await mgmt.get<{
      apiVersion: string;
      kind: string;
      spec?: { template?: { spec?: { imageId?: string } } };
    }>({
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'OCIMachineTemplate',
      namespace: s.namespace,
      name: `${s.name}-control-plane`,
    });
    expect(cp?.spec?.template?.spec?.imageId).toBe('ocid1.image.oc1.iad.aaaaaaaaconfiguredarm64');
  });

  it('without image OCIDs, the default images port needs a usable OCI profile: fails before applying anything', async () => {
    const s = await setup();
    const { emit } = collector();
    const error = await rejection(createOciProvider(providerOptions()).start!(context(s, emit)));
    // The home's key is not a key: the images port cannot sign a request to look the images up.
    expect(error.code).toBe('OCNE_OCI_CONFIG_INVALID');
    expect(await capiObjects(mgmt, s.namespace)).toEqual([]);
  });

  it('surfaces a controller error condition as a warning and a terminal failure as OCNE_OCI_CLUSTER_FAILED', async () => {
    const s = await setup('', { images: true });
    behaviour.set(s.name, 'fail');
    const { emit, events } = collector();
    const error = await rejection(createOciProvider(providerOptions()).start!(context(s, emit)));
    expect(error.code).toBe('OCNE_OCI_CLUSTER_FAILED');
    expect(error.message).toContain(
      `Machine ${s.namespace}/${s.name}-control-plane-0 failed: CreateError: Out of host capacity.`,
    );
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [`${e.code} ${e.message}`] : []));
    expect(warnings).toContainEqual(
      expect.stringContaining('OCNE_OCI_CONTROLLER_ERROR Error with Cluster API provider: OCICluster'),
    );
    expect(warnings.join('\n')).toContain('VcnReconciliationFailed: the VCN limit of the tenancy is reached');
    const kubeconfigStep = events.find(
      (e) => e.type === 'step' && e.step === 'Waiting for kubeconfig' && e.status === 'failed',
    );
    expect(kubeconfigStep).toBeDefined();
  });
});

describe('oci start with the default images port', () => {
  // The OCI API server and the registry are real; the OCK image is generated for both architectures.
  let server: OciApiServer;
  let registry: TestRegistry;
  let compartmentId: string;
  beforeAll(async () => {
    server = await startOciApiServer({ importDurationMs: 300 });
    compartmentId = server.model.addCompartmentPath('ocne/clusters');
    registry = await startTestRegistry({ auth: 'none' });
    await pushOckImage(registry, work, 'olcne/ock', '1.33');
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
    await server?.close();
  });

  /** A home whose OCI profile is the server's test user and which trusts the registry's CA. */
  async function cloudSetup(compartment = 'ocne/clusters') {
    const s = await setup(
      `kubernetesVersion: "1.33"\nbootVolumeContainerImage: ${registry.host}/olcne/ock\n`,
      { compartment },
    );
    await rm(join(s.home, '.oci'), { recursive: true });
    await server.writeConfig(join(s.home, '.oci'));
    const certs = join(s.home, '.config', 'containers', 'certs.d', registry.host);
    await mkdir(certs, { recursive: true });
    await writeFile(join(certs, 'ca.crt'), await readFile(registry.pki.caPath));
    return { ...s, env: { ...s.env, OCNE_OCI_ENDPOINT: server.url } };
  }

  const templateImages = async (namespace: string) => {
    const templates = await mgmt.list<{
      metadata?: { name?: string };
      spec?: { template?: { spec?: { imageId?: string } } };
    }>('infrastructure.cluster.x-k8s.io/v1beta2', 'OCIMachineTemplate', { namespace });
    return templates.items.map((t) => t.spec?.template?.spec?.imageId ?? '');
  };

  it('makes, uploads and imports the missing image of each architecture (retrying OCI 5xx answers on the way), then a second start finds them', async () => {
    const s = await cloudSetup();
    const { emit, logs } = collector();
    // Oracle Cloud having a bad moment during the import: a 500 for one CreateImage and a 503 for
    // two reads of a work request. The start retries them and finishes.
    const importFault = server.faults.add({ operation: 'CreateImage', times: 1, status: 500 });
    const pollFault = server.faults.add({ operation: 'GetWorkRequest', times: 2, status: 503 });
    const result = await createOciProvider(providerOptions()).start!(context(s, emit));
    expect(result.kubeconfig).toBe(destination.kubeconfig);
    expect([importFault.hits, pollFault.hits]).toEqual([1, 2]);
    importFault.remove();
    pollFault.remove();

    // One image per architecture, imported from the object the upload made, with upstream's tags.
    const images = [...server.model.images.values()].filter((i) => i.compartmentId === compartmentId);
    expect(images.map((i) => [i.freeformTags['ocne/architecture'], i.lifecycleState]).sort()).toEqual([
      ['amd64', 'AVAILABLE'],
      ['arm64', 'AVAILABLE'],
    ]);
    const byArch = Object.fromEntries(images.map((i) => [i.freeformTags['ocne/architecture'], i]));
    expect(byArch.amd64).toMatchObject({ displayName: 'ock', freeformTags: { 'ocne/kubernetes': '1.33' } });
    for (const arch of ['amd64', 'arm64']) {
      expect(logs()).toContain(`Image OCID is ${byArch[arch]!.id}`);
      const object = server.storage.object(
        server.namespace,
        'ocne-images',
        `ocne_boot.qcow2-1.33-${arch}.oci`,
      );
      expect((await readTarGz(object.file)).map((e) => e.name)).toEqual([
        'output.QCOW2',
        'image_metadata.json',
      ]);
    }
    // The capability schema for both; the arm64 image keeps only the Ampere shapes.
    expect([...server.model.capabilitySchemas.values()].map((schema) => schema.imageId).sort()).toEqual(
      [byArch.amd64!.id, byArch.arm64!.id].sort(),
    );
    expect([...server.model.shapes(byArch.arm64!.id)].sort()).toEqual(
      [...OCI_ARM_SHAPES, 'VM.Standard.Generic'].sort(),
    );
    // The template got them: the control plane is arm64, the workers amd64.
    expect((await templateImages(s.namespace)).sort()).toEqual([byArch.amd64!.id, byArch.arm64!.id].sort());
    // The OCK image came from the loopback registry, both architectures.
    const pulled = (await registry.requests()).filter(
      (r) => r.method === 'GET' && r.uri.includes('/manifests/'),
    );
    expect(pulled.length).toBeGreaterThanOrEqual(2);

    // A second cluster in the compartment finds the images: nothing made, uploaded or pulled again.
    const imports = server.requests('CreateImage').length;
    const registryRequests = (await registry.requests()).length;
    const again = await cloudSetup();
    await createOciProvider(providerOptions()).start!(context(again, collector().emit));
    expect(server.requests('CreateImage')).toHaveLength(imports);
    expect((await registry.requests()).length).toBe(registryRequests);
    expect((await templateImages(again.namespace)).sort()).toEqual(
      [byArch.amd64!.id, byArch.arm64!.id].sort(),
    );
  });

  it('resumes after an abort during the import: waits for the image still importing, makes none twice, fixes up both', async () => {
    const resumeCompartment = server.model.addCompartmentPath('ocne/resume');
    const s = await cloudSetup('ocne/resume');
    const imports = server.requests('CreateImage').length;
    // The imports stand still until the test moves the server's clock.
    server.clock.freeze();
    try {
      const controller = new AbortController();
      const first = collector();
      const emit = (e: EventInput) => {
        first.emit(e);
        if (e.type === 'step' && e.step === 'Importing compute image' && e.status === 'started') {
          controller.abort('test');
        }
      };
      const provider = createOciProvider(providerOptions());
      expect((await rejection(provider.start!(context(s, emit, controller.signal)))).code).toBe(
        'OCNE_CANCELLED',
      );
      const inCompartment = () =>
        [...server.model.images.values()].filter((i) => i.compartmentId === resumeCompartment);
      expect(inCompartment().map((i) => i.lifecycleState)).toContain('IMPORTING');

      // The second start finds the image that is still importing and waits for it; an architecture
      // the abort stopped before its CreateImage is made now. The clock moves when either waits.
      const waited: string[] = [];
      const second = (e: EventInput) => {
        if (e.type !== 'step' || e.status !== 'started') return;
        if (e.step.startsWith('Waiting for the import of image')) waited.push(e.step);
        if (e.step.startsWith('Waiting for the import of image') || e.step === 'Importing compute image') {
          server.clock.advance(60_000);
        }
      };
      const result = await provider.start!(context(s, second));
      expect(result.kubeconfig).toBe(destination.kubeconfig);
      expect(waited.length).toBeGreaterThanOrEqual(1);
      expect(server.requests('CreateImage').length - imports).toBe(2);
      const images = inCompartment();
      expect(images.map((i) => [i.freeformTags['ocne/architecture'], i.lifecycleState]).sort()).toEqual([
        ['amd64', 'AVAILABLE'],
        ['arm64', 'AVAILABLE'],
      ]);
      const schemaImages = [...server.model.capabilitySchemas.values()].map((schema) => schema.imageId);
      for (const image of images) expect(schemaImages).toContain(image.id);
      const arm = images.find((i) => i.freeformTags['ocne/architecture'] === 'arm64')!;
      expect([...server.model.shapes(arm.id)].sort()).toEqual(
        [...OCI_ARM_SHAPES, 'VM.Standard.Generic'].sort(),
      );
      expect((await templateImages(s.namespace)).sort()).toEqual(images.map((i) => i.id).sort());
    } finally {
      server.clock.resume();
    }
  }, 200_000);
});

describe('oci self-managed clusters', () => {
  it('moves the cluster into itself, then delete moves it back and removes everything', async () => {
    const s = await setup('', { selfManaged: true, images: true });
    const provider = createOciProvider(providerOptions());
    const { emit, logs, started } = collector();
    const result = await provider.start!(context(s, emit));
    expect(result.kubeconfig).toBe(destination.kubeconfig);
    expect(logs()).toContain('Migrating Cluster API resources into self-managed cluster');
    expect(started()).toContain('Migrating Cluster API resources');
    // The providers run in the workload cluster, and the objects are there, not in the management cluster.
    const releases = await listReleases({ helmPath, kubeconfig: destination.kubeconfigPath });
    expect(releases.map((r) => r.name)).toEqual(expect.arrayContaining(['core-capi', 'capoci']));
    expect(await capiObjects(mgmt, s.namespace)).toEqual([]);
    expect(await capiObjects(workload, s.namespace)).toEqual(
      expect.arrayContaining([`Cluster/${s.name}`, `OCICluster/${s.name}`, `Machine/${s.name}-md-0-0`]),
    );

    // The facade keeps the kubeconfig where delete finds it.
    await mkdir(join(s.home, '.kube'), { recursive: true });
    await writeFile(join(s.home, '.kube', `kubeconfig.${s.name}`), result.kubeconfig!, { mode: 0o600 });
    const deleting = collector();
    await provider.delete!(context(s, deleting.emit));
    expect(deleting.logs()).toContain(`Deleting Cluster ${s.namespace}/${s.name}`);
    expect(deleting.started()).toEqual(
      expect.arrayContaining(['Migrating Cluster API resources', 'Waiting for deletion']),
    );
    expect(await capiObjects(mgmt, s.namespace)).toEqual([]);
    expect(await capiObjects(workload, s.namespace)).toEqual([]);
  });
});

describe('oci start without a management cluster', () => {
  it('runs on the ephemeral cluster of @ocne/provider-libvirt and deletes it after a self-managed move', async () => {
    const s = await setup('', { selfManaged: true, images: true });
    const bare = { ...s, env: { OCNE_TEST: 'ephemeral' } }; // no KUBECONFIG
    ephemeral.ensured.length = 0;
    ephemeral.deleted.length = 0;
    const { emit } = collector();
    const result = await createOciProvider(providerOptions()).start!(context(bare, emit));
    expect(result.kubeconfig).toBe(destination.kubeconfig);
    expect(ephemeral.ensured).toHaveLength(1);
    expect(ephemeral.ensured[0]).toMatchObject({
      home: s.home,
      env: bare.env,
      provider: { catalog: { repoUrl: repository!.url }, helmPath },
    });
    // The target's configuration: the libvirt provider derives the ephemeral one from it.
    expect((ephemeral.ensured[0]!.config as ResolvedConfig).cluster.name).toBe(s.name);
    // Its kubeconfig was the management cluster: the providers went there, and the cluster moved out.
    const releases = await listReleases({ helmPath, kubeconfig: source.kubeconfigPath });
    expect(releases.map((r) => r.name)).toEqual(expect.arrayContaining(['core-capi', 'capoci']));
    expect(await capiObjects(workload, s.namespace)).toEqual(expect.arrayContaining([`Cluster/${s.name}`]));
    expect(ephemeral.deleted).toHaveLength(1);
    expect(ephemeral.deleted[0]).toMatchObject({ home: s.home });
  });

  it('keeps the ephemeral cluster of a cluster that is not self-managed (its controllers run there)', async () => {
    const s = await setup('', { images: true });
    ephemeral.ensured.length = 0;
    ephemeral.deleted.length = 0;
    await createOciProvider(providerOptions()).start!(context({ ...s, env: {} }, collector().emit));
    expect(ephemeral.ensured).toHaveLength(1);
    expect(ephemeral.deleted).toEqual([]);
    expect(await capiObjects(mgmt, s.namespace)).toEqual(expect.arrayContaining([`Cluster/${s.name}`]));
  });
});

describe('oci start after an abort', () => {
  const steps = [
    'Installing core-capi into capi-system',
    'Waiting for OCI Cluster API Controllers',
    'Waiting for kubeconfig',
    'Waiting for the Kubernetes cluster to be ready',
    'Installing oci-ccm into kube-system',
    'Installing kube-proxy into kube-system',
    'Migrating Cluster API resources',
  ];
  for (const step of steps) {
    it(`aborted when "${step}" starts, a second start finishes`, async () => {
      const s = await setup('', { selfManaged: step === 'Migrating Cluster API resources', images: true });
      const provider = createOciProvider(providerOptions());
      const controller = new AbortController();
      const first = collector();
      const emit = (e: EventInput) => {
        first.emit(e);
        if (e.type === 'step' && e.step === step && e.status === 'started') controller.abort('test');
      };
      const error = await rejection(provider.start!(context(s, emit, controller.signal)));
      expect(error.code).toBe('OCNE_CANCELLED');
      expect(first.started()).toContain(step);

      const second = collector();
      const result = await provider.start!(context(s, second.emit));
      expect(result.kubeconfig).toBe(destination.kubeconfig);
      const holder = step === 'Migrating Cluster API resources' ? workload : mgmt;
      expect(await capiObjects(holder, s.namespace)).toEqual(expect.arrayContaining([`Cluster/${s.name}`]));
      if (holder === workload) expect(await capiObjects(mgmt, s.namespace)).toEqual([]);
    });
  }
});

/** Runs the CLI from source as a user does, in a child process with its own home and environment. */
function ocne(s: Setup, args: readonly string[]) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', join(root, 'scripts/source-hooks.mjs'), join(root, 'packages/cli/src/bin.ts'), ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: s.home,
          KUBECONFIG: source.kubeconfigPath,
          OCNE_CATALOG: repository!.url,
          OCNE_HELM: helmPath,
        },
        encoding: 'utf8',
        cwd: root,
      },
      (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('ocne cluster start and delete (CLI)', () => {
  it('prints upstream step lines and saves the kubeconfig; delete removes the cluster, its entry and its kubeconfig', async () => {
    const s = await setup('', { images: true });
    const run = await ocne(s, ['cluster', 'start', '-c', join(s.home, 'capi.yaml')]);
    expect(run.stderr).toContain('Waiting for Core Cluster API Controllers: ok');
    expect(run.stderr).toContain('Applying Cluster API resources');
    expect(run.stderr).toContain('Waiting for kubeconfig: ok');
    expect(run.stderr).toContain('Waiting for the Kubernetes cluster to be ready: ok');
    expect(run.stderr).toContain('Installing applications into workload cluster');
    expect(run.stderr).toContain('Installing oci-ccm into kube-system: ok');
    expect(run.status).toBe(0);
    const saved = join(s.home, '.kube', `kubeconfig.${s.name}`);
    expect(await readFile(saved, 'utf8')).toBe(destination.kubeconfig);
    expect((await stat(saved)).mode & 0o777).toBe(0o600);

    const deleted = await ocne(s, ['--log-format', 'json', 'cluster', 'delete', '-C', s.name]);
    expect(deleted.status).toBe(0);
    const events = deleted.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as EventInput);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', message: `Deleting Cluster ${s.namespace}/${s.name}` }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step', step: 'Waiting for deletion', status: 'succeeded' }),
    );
    expect(await capiObjects(mgmt, s.namespace)).toEqual([]);
    await expect(stat(saved)).rejects.toThrow();
    expect((await ocne(s, ['cluster', 'list'])).stdout).not.toContain(s.name);
  });
});
