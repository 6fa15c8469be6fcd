import { type EventSink, importOptional, isOcneError, OcneError } from '@ocne/core';
import type { ChartCatalog } from '@ocne/kubernetes';

/**
 * What upstream puts in the `oci-capi` chart's `authConfig.passphrase` when the OCI config has no
 * passphrase (`pkg/util/oci/config.go`: "HACK - remove this when the oci-capi chart accepts empty
 * passphrases"). It is not a secret: an unencrypted key ignores it.
 */
export const EMPTY_PASSPHRASE_PLACEHOLDER = 'fiddlesticks';

/** Upstream's message when a controller waiter fails. */
export const CONTROLLERS_UNAVAILABLE_MESSAGE = 'Not all Cluster API controllers became available';

/** The API-signing credentials of an OCI profile, as the capoci chart takes them. */
export interface OciCredentials {
  region: string;
  /** Tenancy OCID. */
  tenancy: string;
  /** User OCID. */
  user: string;
  /** Fingerprint of the API signing key. */
  fingerprint: string;
  /** The private key, as PEM text (not a path). */
  key: string;
  /** Passphrase of the key. Empty or absent: {@link EMPTY_PASSPHRASE_PLACEHOLDER} (upstream's hack). */
  passphrase?: string;
  /** @defaultValue false */
  useInstancePrincipal?: boolean;
}

/** The proxy settings handed to every CAPI chart (upstream: `providers.oci.proxy`). */
export interface CapiProxy {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

/** One chart of {@link capiProviderCharts}. */
export interface CapiProviderPlan {
  release: string;
  /** The chart's name in the catalog. */
  chart: string;
  namespace: string;
  /** Values; the capoci entry holds credentials, so never log them. */
  values: Record<string, unknown>;
  /** The controller Deployment awaited after the install (cert-manager has none). */
  deployment?: string;
  /** Upstream's waiter text for that Deployment. */
  waiter?: string;
}

/** Options of {@link capiProviderCharts}. */
export interface CapiProviderChartsOptions {
  proxy?: CapiProxy;
  credentials: OciCredentials;
}

/**
 * The CAPI charts upstream installs into a management cluster, in install order, with their
 * values. Every chart but cert-manager gets `proxy: {httpsProxy, httpProxy, noProxy}` (empty
 * strings when unset, as upstream passes them); capoci also gets `authConfig`, where
 * `useInstancePrincipal` is the string `"true"`/`"false"` and an empty passphrase becomes
 * {@link EMPTY_PASSPHRASE_PLACEHOLDER}. Pure.
 */
export function capiProviderCharts(options: CapiProviderChartsOptions): CapiProviderPlan[] {
  const { credentials } = options;
  const proxy = () => ({
    httpsProxy: options.proxy?.httpsProxy ?? '',
    httpProxy: options.proxy?.httpProxy ?? '',
    noProxy: options.proxy?.noProxy ?? '',
  });
  const passphrase =
    credentials.passphrase === undefined || credentials.passphrase === ''
      ? EMPTY_PASSPHRASE_PLACEHOLDER
      : credentials.passphrase;
  return [
    { release: 'cert-manager', chart: 'cert-manager', namespace: 'cert-manager', values: {} },
    {
      release: 'core-capi',
      chart: 'core-capi',
      namespace: 'capi-system',
      values: { proxy: proxy() },
      deployment: 'core-capi-controller-manager',
      waiter: 'Waiting for Core Cluster API Controllers',
    },
    {
      release: 'capoci',
      chart: 'oci-capi',
      namespace: 'cluster-api-provider-oci-system',
      values: {
        authConfig: {
          fingerprint: credentials.fingerprint,
          key: credentials.key,
          passphrase,
          region: credentials.region,
          tenancy: credentials.tenancy,
          useInstancePrincipal: String(credentials.useInstancePrincipal ?? false),
          user: credentials.user,
        },
        proxy: proxy(),
      },
      deployment: 'capoci-controller-manager',
      waiter: 'Waiting for OCI Cluster API Controllers',
    },
    {
      release: 'bootstrap-capi',
      chart: 'bootstrap-capi',
      namespace: 'capi-kubeadm-bootstrap-system',
      values: { proxy: proxy() },
      deployment: 'bootstrap-capi-controller-manager',
      waiter: 'Waiting for Kubadm Boostrap Cluster API Controllers',
    },
    {
      release: 'control-plane-capi',
      chart: 'control-plane-capi',
      namespace: 'capi-kubeadm-control-plane-system',
      values: { proxy: proxy() },
      deployment: 'control-plane-capi-controller-manager',
      waiter: 'Waiting for Kubadm Control Plane Cluster API Controllers',
    },
  ];
}

/** Upstream's waiter order (core, bootstrap, control plane, OCI), which differs from the install order. */
const WAIT_ORDER = ['core-capi', 'bootstrap-capi', 'control-plane-capi', 'capoci'] as const;

/** Where the charts come from (see `ChartCatalog` of `@ocne/kubernetes`). */
export type CapiCatalog = ChartCatalog;

/** Options of {@link installCapiProviders}. */
export interface InstallCapiProvidersOptions {
  /** Kubeconfig of the management cluster. */
  kubeconfigPath: string;
  catalog: CapiCatalog;
  /** @defaultValue `'helm'` on `PATH` */
  helmPath?: string;
  credentials: OciCredentials;
  proxy?: CapiProxy;
  emit?: EventSink;
  signal?: AbortSignal;
  /**
   * How long the controller waiters wait (they run at the same time, each with this limit).
   * @defaultValue 480000 (upstream: 48 tries 10 s apart)
   */
  timeoutMs?: number;
}

/**
 * Installs the CAPI providers of {@link capiProviderCharts} one after the other
 * (`Installing <release> into <namespace>`; releases that exist are left as they are), then waits
 * for the four controller Deployments to be Available with upstream's waiter texts, all at once.
 * When one does not become Available (or the wait fails otherwise), throws
 * `OCNE_CAPI_CONTROLLERS_UNAVAILABLE` with upstream's message and the Deployments concerned.
 * Credentials only reach helm through a values file of mode 0600; no event carries them.
 */
export async function installCapiProviders(options: InstallCapiProvidersOptions): Promise<void> {
  const { emit, signal } = options;
  const { connect, installFromCatalog, waitForDeployments } = await importOptional(
    '@ocne/kubernetes',
    () => import('@ocne/kubernetes'),
    'Installing the Cluster API providers',
  );
  const plans = capiProviderCharts({
    credentials: options.credentials,
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
  });
  await installFromCatalog(plans, {
    catalog: options.catalog,
    kubeconfig: options.kubeconfigPath,
    ...(options.helmPath !== undefined ? { helmPath: options.helmPath } : {}),
    ...(emit ? { emit } : {}),
    ...(signal ? { signal } : {}),
  });
  const kube = await connect({ kubeconfigPath: options.kubeconfigPath, ...(signal ? { signal } : {}) });
  const waits = WAIT_ORDER.map((release) => plans.find((p) => p.release === release)!).map(async (plan) => {
    const deployment = { namespace: plan.namespace, name: plan.deployment! };
    try {
      await waitForDeployments(kube, [deployment], {
        description: plan.waiter!,
        timeoutMs: options.timeoutMs ?? 480_000,
        ...(emit ? { emit } : {}),
        ...(signal ? { signal } : {}),
      });
      return undefined;
    } catch (error) {
      return { deployment, error };
    }
  });
  const failures = (await Promise.all(waits)).filter((f) => f !== undefined);
  if (failures.length === 0) return;
  signal?.throwIfAborted();
  const cancelled = failures.find((f) => isOcneError(f.error) && f.error.code === 'OCNE_CANCELLED');
  if (cancelled) throw cancelled.error;
  const which = failures.map((f) => `${f.deployment.namespace}/${f.deployment.name}`).join(', ');
  throw new OcneError(
    'OCNE_CAPI_CONTROLLERS_UNAVAILABLE',
    `${CONTROLLERS_UNAVAILABLE_MESSAGE}: deployment ${which} not available`,
    { cause: failures.length === 1 ? failures[0]?.error : new AggregateError(failures.map((f) => f.error)) },
  );
}
