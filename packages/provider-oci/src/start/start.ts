/**
 * `ocne cluster start` for the oci provider, as upstream's `oci` driver and the generic start do it
 * (`pkg/cluster/driver/oci/driver.go`, `pkg/commands/cluster/start/start.go`), over the ports of
 * `ports.ts`:
 *
 * 1. the management cluster, the Cluster API providers installed there and their controllers awaited;
 * 2. the boot images (only for the template, skipped when the configuration names them);
 * 3. the resources (template or `clusterDefinition`), created where absent (upstream's mode: what
 *    the controllers changed is never overwritten) in the namespace of the `Cluster`;
 * 4. the workload kubeconfig from its Secret, while the controllers' conditions are watched;
 * 5. the workload cluster's API and a control-plane node, then oci-ccm and the core applications;
 * 6. for self-managed clusters, the providers in the workload cluster and the move there.
 *
 * Every step is idempotent, and the signal is checked between steps, so a second start after a
 * failure or an abort continues from what exists. What a second start cannot find again by itself
 * (the workload kubeconfig once a self-managed move has begun, since the Secret moves with the
 * cluster) is kept in a state file of mode 0600 under `<home>/.ocne/oci/` until the start ends.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciCredentials } from '@ocne/capi';
import { CLUSTER_NAME_LABEL, type KubeObject } from '@ocne/capi/templates';
import {
  architectureFromShape,
  CONFIG_FILE_KEYS,
  type ResolvedClusterConfig,
  type ResolvedConfig,
  readConfigFiles,
} from '@ocne/config';
import {
  importOptional,
  isOcneError,
  OcneError,
  type ProviderContext,
  runStep,
  writeFileAtomic,
} from '@ocne/core';
import type { ChartCatalog, KubeClient } from '@ocne/kubernetes';
import { createOciLookup } from '../cloud/lookup.js';
import type { OciCloudOptions } from '../cloud/session.js';
import { type FailureWatch, type InfrastructureRef, watchControllerFailures } from './failures.js';
import type { ManagementCluster, OciPortRequest, OciStartPorts } from './ports.js';
import { allOrNothing } from './together.js';

/** How long each wait of the start and delete may take. */
export interface OciStartTimeouts {
  /** The controller Deployments. @defaultValue 480000 (upstream) */
  controllersMs?: number;
  /** The workload kubeconfig Secret. @defaultValue 1200000 (upstream: 20 minutes) */
  kubeconfigMs?: number;
  /** The workload cluster's API and first control-plane node. @defaultValue 900000 (upstream: 15 minutes) */
  clusterReadyMs?: number;
  /** Until the cluster can be moved (self-managed). @defaultValue 1800000 */
  moveMs?: number;
  /** Until every object the controllers own is gone after a delete. @defaultValue 1200000 (upstream: 20 minutes) */
  deleteMs?: number;
}

/** What the orchestration needs besides the ports. */
export interface OciStartDependencies {
  ports: OciStartPorts;
  /** Where the Cluster API, oci-ccm and core application charts come from. @defaultValue `OCNE_CATALOG` */
  catalog?: ChartCatalog;
  /** @defaultValue `OCNE_HELM`, else `helm` on `PATH` */
  helmPath?: string;
  timeouts?: OciStartTimeouts;
  /**
   * How to reach Oracle Cloud when the ports have no `lookup`: compartment paths are then resolved
   * there (with the cluster's environment and home). Without it, a compartment path needs a lookup.
   */
  cloud?: OciCloudOptions;
}

/** Upstream's texts. */
export const OCI_START_TEXT = {
  applying: 'Applying Cluster API resources',
  clusterReady: 'Waiting for the Kubernetes cluster to be ready',
  workloadApps: 'Installing applications into workload cluster',
  migrating: 'Migrating Cluster API resources into self-managed cluster',
  deleting: 'Deleting Cluster',
  waitingForDeletion: 'Waiting for deletion',
} as const;

type Kube = typeof import('@ocne/kubernetes');
type Capi = typeof import('@ocne/capi');

/** The modules a live cluster needs, loaded on first use. */
export async function loadModules(feature: string): Promise<{ kube: Kube; capi: Capi }> {
  const kube = await importOptional('@ocne/kubernetes', () => import('@ocne/kubernetes'), feature);
  return { kube, capi: await import('@ocne/capi') };
}

/** What start and delete share: settings, credentials and the management cluster. */
export interface Prepared {
  cluster: ResolvedClusterConfig;
  request: OciPortRequest;
  catalog: ChartCatalog;
  helmPath: string | undefined;
  credentials: OciCredentials;
  management: ManagementCluster;
  kube: Kube;
  capi: Capi;
}

/** Where a resumable start keeps what it cannot find again. */
export const startStatePath = (home: string, name: string): string =>
  join(home, '.ocne', 'oci', `start-${name}.json`);

/** What {@link startStatePath} holds. */
interface StartState {
  namespace: string;
  clusterName: string;
  label: string;
  infrastructure?: InfrastructureRef;
  kubeconfig: string;
}

const readState = async (path: string): Promise<StartState | undefined> =>
  readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as StartState,
    () => undefined,
  );

/** Upstream's forced minimums: Cluster API cannot run a cluster without a control plane or a worker. */
export function withNodeMinimums(cluster: ResolvedClusterConfig): ResolvedClusterConfig {
  return {
    ...cluster,
    workerNodes: cluster.workerNodes || 1,
    controlPlaneNodes: cluster.controlPlaneNodes || 1,
  };
}

/** Settings, credentials and the management cluster. */
export async function prepare(
  context: ProviderContext<ResolvedConfig>,
  deps: OciStartDependencies,
  feature: string,
): Promise<Prepared> {
  const { config, env, emit, signal, home } = context;
  const cluster = withNodeMinimums(config.cluster);
  if (cluster.providers.oci.compartment === '') {
    throw new OcneError(
      'OCNE_CAPI_COMPARTMENT_REQUIRED',
      'the oci provider requires a compartment in the provider with configuration',
    );
  }
  const catalog = deps.catalog ?? (env.OCNE_CATALOG ? { repoUrl: env.OCNE_CATALOG } : undefined);
  if (catalog === undefined) {
    throw new OcneError(
      'OCNE_CATALOG_MISSING',
      'an oci cluster installs the Cluster API providers, oci-ccm and the core applications from the OCNE application catalog: give it with createOciProvider({ catalog: { repoUrl } }) or the environment variable OCNE_CATALOG',
    );
  }
  const { kube, capi } = await loadModules(feature);
  const request: OciPortRequest = { config: { ...config, cluster }, home, env, emit, signal };
  const credentials = await deps.ports.credentials.read({
    ...request,
    profile: cluster.providers.oci.profile,
  });
  signal.throwIfAborted();
  const management = await deps.ports.managementCluster.ensure(request);
  signal.throwIfAborted();
  const helmPath = deps.helmPath ?? (env.OCNE_HELM || undefined);
  return { cluster, request, catalog, helmPath, credentials, management, kube, capi };
}

/** The Cluster API providers installed into a cluster (the management one by default) and awaited. */
export async function installProviders(
  p: Prepared,
  deps: OciStartDependencies,
  kubeconfigPath: string = p.management.kubeconfigPath,
): Promise<void> {
  const { emit, signal } = p.request;
  await p.capi.installCapiProviders({
    kubeconfigPath,
    catalog: p.catalog,
    credentials: p.credentials,
    proxy: p.cluster.providers.oci.proxy,
    emit,
    signal,
    ...(p.helmPath !== undefined ? { helmPath: p.helmPath } : {}),
    ...(deps.timeouts?.controllersMs !== undefined ? { timeoutMs: deps.timeouts.controllersMs } : {}),
  });
  signal.throwIfAborted();
}

/**
 * Runs two steps at once. When one fails, the other is stopped (through the signal each gets) and
 * awaited, so nothing runs on after the failure is thrown.
 */
async function together<A, B>(
  p: Prepared,
  a: (p: Prepared) => Promise<A>,
  b: (p: Prepared) => Promise<B>,
): Promise<[A, B]> {
  const [first, second] = await allOrNothing<(p: Prepared) => Promise<A | B>, A | B>(
    [a, b],
    p.request.signal,
    (run, signal) => run({ ...p, request: { ...p.request, signal } }),
  );
  return [first as A, second as B];
}

/** The compartment OCID: as configured, or a path resolved through the lookup. */
async function compartmentOcid(cluster: ResolvedClusterConfig, ports: OciStartPorts, signal: AbortSignal) {
  const { compartment, profile } = cluster.providers.oci;
  if (compartment.startsWith('ocid1.compartment')) return compartment;
  if (ports.lookup === undefined) {
    throw new OcneError(
      'OCNE_CAPI_LOOKUP_REQUIRED',
      `providers.oci.compartment "${compartment}" is a path; resolving it needs Oracle Cloud access: give createOciProvider({ lookup }), or the compartment OCID`,
    );
  }
  return ports.lookup.compartmentId(compartment, profile, signal);
}

/**
 * The configuration the template renders from: the compartment OCID, and the image OCIDs of the
 * architectures the shapes use, from the configuration or else from the images port.
 */
async function withImages(p: Prepared, ports: OciStartPorts): Promise<ResolvedClusterConfig> {
  const { cluster, request } = p;
  const oci = cluster.providers.oci;
  const compartmentId = await compartmentOcid(cluster, ports, request.signal);
  const architectures = [
    ...new Set([
      architectureFromShape(oci.controlPlaneShape.shape),
      architectureFromShape(oci.workerShape.shape),
    ]),
  ];
  const images = { ...oci.images };
  const missing = architectures.filter((arch) => !images[arch]);
  if (missing.length > 0) {
    if (ports.images !== undefined) {
      const found = await ports.images.ensureImages({
        architectures,
        compartmentId,
        kubernetesVersion: cluster.kubernetesVersion,
        profile: oci.profile,
        bucket: oci.imageBucket,
        managementKubeconfigPath: p.management.kubeconfigPath,
        bootVolumeContainerImage: cluster.bootVolumeContainerImage,
        home: request.home,
        env: request.env,
        emit: request.emit,
        signal: request.signal,
      });
      for (const arch of architectures) if (found[arch]) images[arch] = found[arch];
    } else if (ports.lookup === undefined) {
      throw new OcneError(
        'OCNE_OCI_IMAGES_REQUIRED',
        `no OCK image OCID for ${missing.join(' and ')} in providers.oci.images, and no way to find or make one: name the image OCIDs, or give createOciProvider({ images })`,
      );
    }
  }
  return {
    ...cluster,
    providers: { ...cluster.providers, oci: { ...oci, compartment: compartmentId, images } },
  };
}

/** The Cluster object of the resources and what start needs of it. */
function clusterFacts(objects: readonly KubeObject[], namespace: string, clusterName: string) {
  const object = objects.find(
    (o) =>
      o.kind === 'Cluster' &&
      o.metadata.name === clusterName &&
      (o.metadata.namespace ?? namespace) === namespace,
  );
  const spec = (object as { spec?: { infrastructureRef?: Partial<InfrastructureRef> } } | undefined)?.spec;
  const ref = spec?.infrastructureRef;
  const infrastructure =
    ref?.apiVersion && ref.kind && ref.name
      ? { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name }
      : undefined;
  return { label: object?.metadata.labels?.[CLUSTER_NAME_LABEL] ?? clusterName, infrastructure };
}

/** Where a cluster's `Cluster` is and what it points at. */
export interface ClusterIdentity {
  namespace: string;
  name: string;
  /** Its `cluster.x-k8s.io/cluster-name` label (the name of the cluster for the controllers). */
  label: string;
  infrastructure: InfrastructureRef | undefined;
}

/** The namespace, name and infrastructure object of the cluster's `Cluster`, without rendering images. */
export async function clusterIdentity(
  context: ProviderContext<ResolvedConfig>,
  capi: typeof import('@ocne/capi'),
): Promise<ClusterIdentity> {
  const cluster = context.config.cluster;
  if (cluster.clusterDefinition === '' && cluster.clusterDefinitionInline === '') {
    // The template's Cluster and OCICluster are named after the cluster, in providers.oci.namespace.
    return {
      namespace: cluster.providers.oci.namespace,
      name: cluster.name,
      label: cluster.name,
      infrastructure: {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
        kind: 'OCICluster',
        name: cluster.name,
      },
    };
  }
  const files = await readConfigFiles(cluster, {
    keys: CONFIG_FILE_KEYS.filter((k) => k === 'clusterDefinition'),
    provenance: context.config.provenance,
    signal: context.signal,
  });
  const resources = await capi.ociClusterResources(cluster, { files, signal: context.signal });
  return {
    namespace: resources.namespace,
    name: resources.clusterName,
    ...clusterFacts(resources.objects, resources.namespace, resources.clusterName),
  };
}

/**
 * Runs `work` with the controllers' failures watched (when there is a watch). On a failure, `end`
 * stops the work, which settles (its step reported failed) before the failure is thrown.
 */
async function guarded<T>(
  watch: FailureWatch | undefined,
  work: Promise<T>,
  end: AbortController,
): Promise<T> {
  if (watch === undefined) return work;
  try {
    return await watch.guard(work);
  } catch (error) {
    end.abort();
    await work.catch(() => undefined);
    throw error;
  }
}

/**
 * Runs a start or delete so that a cancellation always ends as `OCNE_CANCELLED` (a step checks the
 * signal with `throwIfAborted`, which throws the caller's reason as it is).
 */
export async function cancellable<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!signal.aborted || isOcneError(error)) throw error;
    throw new OcneError('OCNE_CANCELLED', `the operation was cancelled: ${String(signal.reason)}`, {
      cause: error,
    });
  }
}

/** Whether `kube` has the Cluster, and whether it is paused (a move in progress). */
async function clusterIn(kube: KubeClient, namespace: string, name: string) {
  const found = await kube.get<KubeObject & { spec?: { paused?: boolean } }>({
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    namespace,
    name,
  });
  return found === undefined ? undefined : { paused: found.spec?.paused === true };
}

/**
 * Moves the Cluster from one management cluster to another when there is something to move: the
 * source has it, or an earlier move left it paused in the target. Nothing when it is already there.
 */
export async function moveIfNeeded(
  p: Pick<Prepared, 'capi' | 'kube' | 'request'>,
  options: { from: string; to: string; namespace: string; name: string; timeoutMs?: number },
): Promise<boolean> {
  const { signal, emit } = p.request;
  const [from, to] = await Promise.all([
    p.kube.connect({ kubeconfigPath: options.from, signal }),
    p.kube.connect({ kubeconfigPath: options.to, signal }),
  ]);
  const inSource = await clusterIn(from, options.namespace, options.name);
  const inTarget = inSource ? undefined : await clusterIn(to, options.namespace, options.name);
  if (!inSource && !inTarget?.paused) return false;
  await p.capi.moveCluster({
    from,
    to,
    namespace: options.namespace,
    name: options.name,
    emit,
    signal,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return true;
}

/** The start of a new oci cluster; returns the workload cluster's admin kubeconfig. */
export async function ociStart(
  context: ProviderContext<ResolvedConfig>,
  deps: OciStartDependencies,
  existing?: { kubeconfigPath: string },
): Promise<{ kubeconfig: string }> {
  // Compartment paths resolve in Oracle Cloud when no lookup is given (closed when the start ends).
  const cloudLookup =
    deps.ports.lookup === undefined && deps.cloud !== undefined
      ? createOciLookup({ env: context.env, home: context.home, ...deps.cloud })
      : undefined;
  if (cloudLookup === undefined) return startWith(context, deps, existing);
  try {
    return await startWith(context, { ...deps, ports: { ...deps.ports, lookup: cloudLookup } }, existing);
  } finally {
    cloudLookup.close();
  }
}

async function startWith(
  context: ProviderContext<ResolvedConfig>,
  deps: OciStartDependencies,
  existing: { kubeconfigPath: string } | undefined,
): Promise<{ kubeconfig: string }> {
  const { home, emit, signal } = context;
  const p = await prepare(context, deps, 'Starting an oci cluster');
  const { cluster, kube, capi, management } = p;
  const timeouts = deps.timeouts ?? {};
  const statePath = startStatePath(home, cluster.name);
  const workloadKubeconfigPath = `${statePath}.kubeconfig`;
  const mgmt = await kube.connect({ kubeconfigPath: management.kubeconfigPath, signal });
  const selfManaged = cluster.providers.oci.selfManaged;

  // A self-managed start that got as far as the move continues from the workload cluster.
  let state = await readState(statePath);
  if (state === undefined && existing !== undefined && selfManaged) {
    // A started self-managed cluster holds its own objects: its kubeconfig is all a start needs.
    const id = await clusterIdentity(context, capi);
    state = {
      namespace: id.namespace,
      clusterName: id.name,
      label: id.label,
      kubeconfig: await readFile(existing.kubeconfigPath, { encoding: 'utf8', signal }),
      ...(id.infrastructure ? { infrastructure: id.infrastructure } : {}),
    };
  }
  let moved = false;
  if (selfManaged && state !== undefined) {
    await writeFileAtomic(workloadKubeconfigPath, state.kubeconfig, { mode: 0o600, signal });
    const workload = await kube.connect({ kubeconfigPath: workloadKubeconfigPath, signal });
    moved =
      (await clusterIn(workload, state.namespace, state.clusterName).catch(() => undefined)) !== undefined;
  }

  let watch: FailureWatch | undefined;
  // Ends the waits a reported failure leaves behind (the race is won, the watch would run on).
  const ended = new AbortController();
  const waitSignal = AbortSignal.any([signal, ended.signal]);
  try {
    if (!moved) {
      // The images need the management cluster but not the controllers: both at once.
      const [, rendered] = await together(
        p,
        (scoped) => installProviders(scoped, deps),
        (scoped) => withImages(scoped, deps.ports),
      );
      signal.throwIfAborted();
      const files = await readConfigFiles(rendered, {
        keys: CONFIG_FILE_KEYS,
        provenance: context.config.provenance,
        signal,
      });
      const resources = await capi.ociClusterResources(rendered, {
        files,
        events: emit,
        signal,
        // Image OCIDs are settled above; the lookup only finds images the configuration lacks.
        ...(deps.ports.lookup && deps.ports.images === undefined ? { lookup: deps.ports.lookup } : {}),
      });
      const { namespace, clusterName } = resources;
      const facts = clusterFacts(resources.objects, namespace, clusterName);
      signal.throwIfAborted();
      await mgmt.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], {
        mode: 'create',
        signal,
      });
      emit({ type: 'log', level: 'info', message: OCI_START_TEXT.applying });
      await mgmt.apply(resources.objects, { mode: 'create', defaultNamespace: namespace, signal });
      watch = watchControllerFailures(mgmt, {
        namespace,
        clusterName,
        emit,
        ...(facts.infrastructure ? { infrastructure: facts.infrastructure } : {}),
      });
      const kubeconfig = await guarded(
        watch,
        capi.waitForWorkloadKubeconfig({
          client: mgmt,
          namespace,
          clusterName: facts.label,
          emit,
          signal: waitSignal,
          ...(timeouts.kubeconfigMs !== undefined ? { timeoutMs: timeouts.kubeconfigMs } : {}),
        }),
        ended,
      );
      state = {
        namespace,
        clusterName,
        label: facts.label,
        kubeconfig,
        ...(facts.infrastructure ? { infrastructure: facts.infrastructure } : {}),
      };
      await mkdir(join(home, '.ocne', 'oci'), { recursive: true, mode: 0o700 });
      await writeFileAtomic(statePath, JSON.stringify(state), { mode: 0o600, signal });
      await writeFileAtomic(workloadKubeconfigPath, kubeconfig, { mode: 0o600, signal });
    }
    const { namespace, clusterName } = state!;
    signal.throwIfAborted();
    const workload = await kube.connect({ kubeconfigPath: workloadKubeconfigPath, signal });
    await guarded(
      watch,
      runStep(emit, OCI_START_TEXT.clusterReady, () =>
        workload.waitFor(
          { apiVersion: 'v1', kind: 'Node', labelSelector: 'node-role.kubernetes.io/control-plane' },
          (nodes) => nodes.length > 0,
          {
            signal: waitSignal,
            timeoutMs: timeouts.clusterReadyMs ?? 900_000,
            description: OCI_START_TEXT.clusterReady,
          },
        ),
      ),
      ended,
    );
    watch?.stop();
    signal.throwIfAborted();

    // The objects are where the controllers are: the workload cluster once a self-managed move began.
    const holder = moved ? workload : mgmt;
    await installWorkloadApplications(p, deps, { holder, workload, workloadKubeconfigPath, state: state! });

    if (selfManaged) {
      await installProviders(p, deps, workloadKubeconfigPath);
      emit({ type: 'log', level: 'info', message: OCI_START_TEXT.migrating });
      await moveIfNeeded(p, {
        from: management.kubeconfigPath,
        to: workloadKubeconfigPath,
        namespace,
        name: clusterName,
        ...(timeouts.moveMs !== undefined ? { timeoutMs: timeouts.moveMs } : {}),
      });
      await deps.ports.managementCluster.release(p.request, management);
    }
    const kubeconfig = state!.kubeconfig;
    await rm(statePath, { force: true });
    await rm(workloadKubeconfigPath, { force: true });
    return { kubeconfig };
  } finally {
    watch?.stop();
    ended.abort();
  }
}

/** oci-ccm with its two Secrets, then the core applications, into the workload cluster. */
async function installWorkloadApplications(
  p: Prepared,
  deps: OciStartDependencies,
  where: { holder: KubeClient; workload: KubeClient; workloadKubeconfigPath: string; state: StartState },
): Promise<void> {
  const { cluster, capi, kube, request, catalog, helmPath } = p;
  const { emit, signal } = request;
  const { namespace, infrastructure } = where.state;
  const ociClusterName = infrastructure?.name ?? where.state.clusterName;
  const settings = await capi.readOciCcmSettings(where.holder, {
    namespace,
    name: ociClusterName,
    configured: cluster.providers.oci,
    signal,
  });
  const compartmentId = await compartmentOcid(cluster, deps.ports, signal);
  emit({ type: 'log', level: 'info', message: OCI_START_TEXT.workloadApps });
  // Created only when absent, as upstream does: a Secret the user changed is left alone.
  await where.workload.apply(capi.ociCcmSecrets({ credentials: p.credentials, compartmentId, settings }), {
    mode: 'create',
    signal,
  });
  const helm = { ...(helmPath !== undefined ? { helmPath } : {}), emit, signal };
  await kube.installFromCatalog(
    [{ release: 'oci-ccm', chart: 'oci-ccm', namespace: 'kube-system', values: {} }],
    {
      catalog,
      kubeconfig: where.workloadKubeconfigPath,
      ...helm,
    },
  );
  signal.throwIfAborted();
  const ociCluster = await where.holder.get<
    KubeObject & { spec?: { controlPlaneEndpoint?: { host?: string } } }
  >({
    apiVersion: infrastructure?.apiVersion ?? 'infrastructure.cluster.x-k8s.io/v1beta2',
    kind: infrastructure?.kind ?? 'OCICluster',
    namespace,
    name: ociClusterName,
  });
  await kube.installCoreApplications({
    config: cluster,
    kubeconfigPath: where.workloadKubeconfigPath,
    catalog,
    // Upstream's GetKubeAPIServerAddress: the endpoint CAPOCI gave the control plane; no CNI interface.
    apiAddress: ociCluster?.spec?.controlPlaneEndpoint?.host ?? '',
    cniInterfaces: [],
    haMonitor: false,
    ...helm,
    ...(deps.timeouts?.clusterReadyMs !== undefined ? { waitTimeoutMs: deps.timeouts.clusterReadyMs } : {}),
  });
}
