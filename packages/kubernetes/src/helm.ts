/**
 * Helm releases through the real `helm` CLI, run with execa: list, install (skipping releases that
 * already exist, as upstream does), upgrade, uninstall. Values reach helm through a temporary file
 * of mode 0600, never the command line; helm's cache, config and data homes are a temporary folder
 * per call, so the user's `~/.cache/helm` and repositories are neither read nor written.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type EventSink, isOcneError, type OcneErrorCode, runStep } from '@ocne/core';
import type { Options as ExecaOptions } from 'execa';
import { parse as parseYaml } from 'yaml';
import { KubeError } from './errors.js';

/** How helm is run. */
export interface HelmOptions {
  /** The helm binary. @defaultValue `'helm'`, looked up on `PATH` */
  helmPath?: string;
  /** Path of the kubeconfig file of the cluster (passed as `--kubeconfig`). */
  kubeconfig: string;
  signal?: AbortSignal;
  emit?: EventSink;
  /** Give up (and stop helm) after this long; with `wait`, also helm's `--timeout`. */
  timeoutMs?: number;
  /**
   * Extra environment for helm, over the process's. `HELM_CACHE_HOME`, `HELM_CONFIG_HOME` and
   * `HELM_DATA_HOME` are a temporary folder per call unless given here.
   */
  env?: Record<string, string>;
  /** Where the per-call temporary folder (values file, helm homes) is made. @defaultValue `os.tmpdir()` */
  tempDir?: string;
}

/**
 * A chart source: a Helm repository URL (http/https, or file:// of a folder with index.yaml), or a
 * local chart folder / .tgz.
 */
export interface ChartRef {
  /** The chart's name in the repository, or (without `repoUrl`) a chart folder, `.tgz` or chart URL. */
  chart: string;
  /** Helm repository URL: `http(s)://…`, or `file://` of a folder holding `index.yaml`. */
  repoUrl?: string;
  /**
   * Chart version; an exact version or (for http repositories) a constraint such as `^2.0.0`.
   * @defaultValue the newest version
   */
  version?: string;
}

/** A release to install. */
export interface ReleaseSpec {
  release: string;
  namespace: string;
  chart: ChartRef;
  /** Values, as a values file would hold them; they may hold credentials. */
  values?: Record<string, unknown>;
  /** Create the namespace when absent. @defaultValue true */
  createNamespace?: boolean;
  /** Wait for the release's resources to be ready (helm's `--wait`). @defaultValue false */
  wait?: boolean;
  /** Take over existing resources that carry no helm annotations (helm's `--take-ownership`). @defaultValue false */
  takeOwnership?: boolean;
}

/** What {@link installRelease} did. */
export interface InstallResult {
  release: string;
  namespace: string;
  /** `skipped`: a release of that name already existed in the namespace and was left as it was. */
  action: 'installed' | 'skipped' | 'upgraded';
  /** The release's revision now (for `skipped`, the existing one). */
  revision?: number;
  chartVersion?: string;
}

/** A release as `helm list` shows it. */
export interface HelmRelease {
  name: string;
  namespace: string;
  /** `deployed`, `failed`, `pending-install`, … */
  status: string;
  /** Chart name and version, such as `coredns-2.0.0`. */
  chart: string;
  revision: number;
  appVersion: string;
}

/** Options of {@link listReleases}. */
export interface ListReleasesOptions extends HelmOptions {
  /** Only this namespace. @defaultValue all namespaces */
  namespace?: string;
}

/** Options of {@link installRelease}. */
export interface InstallReleaseOptions extends HelmOptions {
  /**
   * `false`: leave an existing release as it is (upstream's behaviour). `true`: `helm upgrade --install`
   * with `--reset-values`, so the release holds exactly the chart's defaults and `values`.
   * @defaultValue false
   */
  upgrade?: boolean;
}

/** What {@link helmInstallArgs} needs besides the spec. @internal */
export interface HelmInstallArgsOptions {
  kubeconfig: string;
  /** The values file helm reads. */
  valuesFile: string;
  upgrade?: boolean;
  timeoutMs?: number;
}

/** A running helm call's context. */
interface HelmCall {
  run: (args: readonly string[]) => Promise<string>;
  /** The per-call temporary folder (mode 0700). */
  dir: string;
}

const HELM_HOMES = ['HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME'] as const;

/**
 * The arguments of `helm install` / `helm upgrade --install` for a spec. Values are only ever
 * referenced by `valuesFile`. @internal
 */
export function helmInstallArgs(spec: ReleaseSpec, options: HelmInstallArgsOptions): string[] {
  const args = options.upgrade ? ['upgrade', '--install', '--reset-values'] : ['install'];
  args.push('--kubeconfig', options.kubeconfig, '--namespace', spec.namespace);
  if (spec.createNamespace ?? true) args.push('--create-namespace');
  args.push('--values', options.valuesFile, '--output', 'json');
  if (spec.chart.repoUrl !== undefined) args.push('--repo', spec.chart.repoUrl);
  if (spec.chart.version !== undefined && spec.chart.version !== '')
    args.push('--version', spec.chart.version);
  if (spec.wait) {
    args.push('--wait');
    if (options.timeoutMs !== undefined)
      args.push('--timeout', `${Math.max(1, Math.ceil(options.timeoutMs / 1000))}s`);
  }
  if (spec.takeOwnership) args.push('--take-ownership');
  // `--` so that a release or chart starting with `-` is never read as a flag.
  args.push('--', spec.release, spec.chart.chart);
  return args;
}

/** The last line of helm's stderr that says what went wrong (not a warning, not a `--debug` hint). */
function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const errors = lines.filter((l) => l.startsWith('Error:'));
  const line =
    errors.at(-1) ??
    lines.filter((l) => !l.startsWith('WARNING:') && !l.startsWith('Use --debug')).at(-1) ??
    lines.at(-1) ??
    '';
  return line.replace(/^Error:\s*/, '');
}

/** A problem found while driving helm (not helm's own failure); becomes `OCNE_HELM_FAILED`. */
class HelmProblem extends Error {}

/** A {@link KubeError} with a helm code. */
function helmFailure(code: OcneErrorCode, message: string, options: { cause?: unknown } = {}): KubeError {
  return new KubeError(code, message, options);
}

/** Turns whatever a helm call threw into a {@link KubeError} that says what was being done. */
function helmError(
  error: unknown,
  doing: string,
  context: {
    helmPath: string;
    signal: AbortSignal | undefined;
    timeout: AbortSignal | undefined;
    timeoutMs: number | undefined;
  },
): Error {
  if (isOcneError(error)) return error;
  if (error instanceof HelmProblem)
    return helmFailure('OCNE_HELM_FAILED', `${doing}: ${error.message}`, { cause: error.cause ?? error });
  const e = error as {
    code?: unknown;
    exitCode?: unknown;
    stderr?: unknown;
    shortMessage?: unknown;
    message?: unknown;
  };
  if (context.signal?.aborted)
    return new KubeError('OCNE_CANCELLED', `${doing}: cancelled`, { cause: error });
  if (context.timeout?.aborted)
    return new KubeError('OCNE_KUBE_TIMEOUT', `${doing}: timed out after ${context.timeoutMs} ms`, {
      cause: error,
    });
  if (e?.code === 'ENOENT' || e?.code === 'EACCES') {
    const why = e.code === 'ENOENT' ? 'was not found' : 'cannot be run';
    return helmFailure(
      'OCNE_DEPENDENCY_MISSING',
      `${doing}: the helm binary ${context.helmPath} ${why} (install helm, or set helmPath)`,
      { cause: error },
    );
  }
  const stderr = typeof e?.stderr === 'string' ? lastMeaningfulLine(e.stderr) : '';
  const detail =
    stderr !== ''
      ? stderr
      : typeof e?.shortMessage === 'string'
        ? e.shortMessage
        : String(e?.message ?? error);
  return helmFailure('OCNE_HELM_FAILED', `${doing}: ${detail}`, { cause: error });
}

/**
 * Runs `fn` with a helm runner sharing one temporary folder, one signal and one deadline; the
 * folder is removed afterwards, whatever happened.
 */
async function withHelm<T>(
  options: Pick<HelmOptions, 'helmPath' | 'signal' | 'timeoutMs' | 'env' | 'tempDir'>,
  doing: string,
  fn: (helm: HelmCall) => Promise<T>,
): Promise<T> {
  const helmPath = options.helmPath ?? 'helm';
  const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const signal =
    signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  const context = { helmPath, signal: options.signal, timeout, timeoutMs: options.timeoutMs };
  if (signal?.aborted) throw helmError(signal.reason, doing, context);
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'ocne-helm-'));
    const env: Record<string, string> = { ...options.env };
    for (const name of HELM_HOMES)
      env[name] ??= join(dir, name.slice('HELM_'.length, -'_HOME'.length).toLowerCase());
    const { execa } = await import('execa');
    const execaOptions = {
      env,
      stdin: 'ignore',
      forceKillAfterDelay: 5000,
      ...(signal ? { cancelSignal: signal } : {}),
    } satisfies ExecaOptions;
    const run = async (args: readonly string[]): Promise<string> => {
      const result = await execa(helmPath, args, execaOptions);
      return result.stdout;
    };
    return await fn({ run, dir });
  } catch (error) {
    throw helmError(error, doing, context);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text === '' ? 'null' : text) as T;
  } catch (error) {
    throw new HelmProblem(`helm printed ${what} that is not JSON`, { cause: error });
  }
}

interface HelmListEntry {
  name?: string;
  namespace?: string;
  revision?: string | number;
  status?: string;
  chart?: string;
  app_version?: string;
}

const toRelease = (r: HelmListEntry): HelmRelease => ({
  name: r.name ?? '',
  namespace: r.namespace ?? '',
  status: r.status ?? '',
  chart: r.chart ?? '',
  revision: Number(r.revision ?? 0),
  appVersion: r.app_version ?? '',
});

async function list(helm: HelmCall, kubeconfig: string, namespace: string | undefined, filter?: string) {
  const args = ['list', '--kubeconfig', kubeconfig, '--all', '--max', '0', '--output', 'json'];
  args.push(...(namespace !== undefined ? ['--namespace', namespace] : ['--all-namespaces']));
  if (filter !== undefined) args.push('--filter', filter);
  return (parseJson<HelmListEntry[] | null>(await helm.run(args), 'a release list') ?? []).map(toRelease);
}

/** Lists the releases of a namespace, or of all namespaces, in any state (`helm list --all`). */
export async function listReleases(options: ListReleasesOptions): Promise<HelmRelease[]> {
  const where = options.namespace !== undefined ? `in ${options.namespace}` : 'in all namespaces';
  return withHelm(options, `listing helm releases ${where}`, (helm) =>
    list(helm, options.kubeconfig, options.namespace),
  );
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The version at the end of `helm list`'s `chart` column (`coredns-2.0.0` → `2.0.0`). */
const chartVersionOf = (chart: string) => /-(v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/.exec(chart)?.[1];

/** Orders `1.2.3` versions, newest first; pre-releases after releases of the same core. */
function compareVersionsDesc(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.replace(/^v/, '').split(/[-+]/, 2);
    return { parts: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (y.parts[i] ?? 0) - (x.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === undefined || y.pre === undefined)
    return (x.pre === undefined ? 0 : 1) - (y.pre === undefined ? 0 : 1);
  return y.pre.localeCompare(x.pre);
}

/**
 * helm has no getter for `file://` repositories: read the folder's index.yaml and hand helm the
 * chart archive it names. Versions are exact here (no constraints); none means the newest release.
 */
async function resolveFileRepository(chart: ChartRef): Promise<ChartRef> {
  const repoUrl = chart.repoUrl ?? '';
  const folder = fileURLToPath(repoUrl.endsWith('/') ? repoUrl : `${repoUrl}/`);
  const index = parseYaml(await readFile(join(folder, 'index.yaml'), 'utf8')) as {
    entries?: Record<string, Array<{ version?: string; urls?: string[] }>>;
  } | null;
  const entries = (index?.entries?.[chart.chart] ?? []).filter((e) => typeof e.version === 'string');
  const wanted = chart.version?.replace(/^v/, '');
  const candidates = wanted
    ? entries.filter((e) => e.version?.replace(/^v/, '') === wanted)
    : entries
        .filter((e) => !e.version?.includes('-'))
        .sort((a, b) => compareVersionsDesc(a.version!, b.version!));
  const url = candidates[0]?.urls?.[0];
  if (url === undefined) {
    throw new HelmProblem(
      `chart ${chart.chart}${wanted ? ` version ${wanted}` : ''} is not in the repository ${repoUrl}`,
    );
  }
  const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : resolve(folder, url);
  return { chart: target.startsWith('file://') ? fileURLToPath(target) : target };
}

/**
 * Installs a release unless one of that name is deployed in that namespace (upstream skips existing
 * releases; one an interrupted install left pending or failed is removed and installed again), or
 * with `upgrade: true` upgrades it. Emits the step
 * `Installing <release> into <namespace>` (upstream's waiter text).
 */
export async function installRelease(
  spec: ReleaseSpec,
  options: InstallReleaseOptions,
): Promise<InstallResult> {
  const { release, namespace } = spec;
  return runStep(options.emit, `Installing ${release} into ${namespace}`, () =>
    withHelm(options, `installing ${release} into ${namespace}`, async (helm) => {
      const existing = (await list(helm, options.kubeconfig, namespace, `^${escapeRegExp(release)}$`)).find(
        (r) => r.name === release,
      );
      if (existing !== undefined && !options.upgrade) {
        if (existing.status === 'deployed') {
          options.emit?.({
            type: 'log',
            level: 'info',
            message: `Release ${release} in ${namespace} already exists (${existing.status}): skipped`,
          });
          const chartVersion = chartVersionOf(existing.chart);
          return {
            release,
            namespace,
            action: 'skipped',
            revision: existing.revision,
            ...(chartVersion !== undefined ? { chartVersion } : {}),
          };
        }
        // A release an interrupted install left behind (pending-install, failed…) is not skipped:
        // it is removed and installed again, so a start that resumes after an abort finishes it.
        options.emit?.({
          type: 'log',
          level: 'info',
          message: `Release ${release} in ${namespace} is ${existing.status || 'unfinished'}: installing it again`,
        });
        await helm.run(helmUninstallArgs(release, namespace, options.kubeconfig));
      }
      const chart = spec.chart.repoUrl?.startsWith('file:')
        ? await resolveFileRepository(spec.chart)
        : spec.chart;
      const valuesFile = join(helm.dir, 'values.json');
      await writeFile(valuesFile, JSON.stringify(spec.values ?? {}), { mode: 0o600, flag: 'wx' });
      const args = helmInstallArgs(
        { ...spec, chart },
        {
          kubeconfig: options.kubeconfig,
          valuesFile,
          ...(options.upgrade ? { upgrade: true } : {}),
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        },
      );
      const out = parseJson<{ version?: number; chart?: { metadata?: { version?: string } } } | null>(
        await helm.run(args),
        'a release',
      );
      const chartVersion = out?.chart?.metadata?.version;
      return {
        release,
        namespace,
        action: existing !== undefined && options.upgrade ? 'upgraded' : 'installed',
        ...(typeof out?.version === 'number' ? { revision: out.version } : {}),
        ...(chartVersion !== undefined ? { chartVersion } : {}),
      };
    }),
  );
}

/** The arguments of `helm uninstall` of a release; one that does not exist is not an error. */
function helmUninstallArgs(release: string, namespace: string, kubeconfig: string): string[] {
  return [
    'uninstall',
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    namespace,
    '--ignore-not-found',
    '--',
    release,
  ];
}

/**
 * Uninstalls a release (`helm uninstall`); a release that does not exist is not an error. Emits
 * the step `Uninstalling <release> from <namespace>`.
 */
export async function uninstallRelease(
  release: string,
  namespace: string,
  options: HelmOptions,
): Promise<void> {
  await runStep(options.emit, `Uninstalling ${release} from ${namespace}`, () =>
    withHelm(options, `uninstalling ${release} from ${namespace}`, async (helm) => {
      await helm.run(helmUninstallArgs(release, namespace, options.kubeconfig));
    }),
  );
}

/** The helm client's version, such as `v3.19.2`. */
export async function helmVersion(options: Pick<HelmOptions, 'helmPath' | 'signal'> = {}): Promise<string> {
  return withHelm(options, 'reading the helm version', async (helm) =>
    (await helm.run(['version', '--template', '{{.Version}}'])).trim(),
  );
}

/**
 * Where the charts of an application catalog come from: a Helm repository URL (`http(s)://…` or
 * `file://…`), a local folder holding `index.yaml`, or a local folder holding one chart folder per
 * chart name.
 */
export interface ChartCatalog {
  repoUrl: string;
}

/** The chart reference helm takes for `chart` of a catalog. */
export async function catalogChart(catalog: ChartCatalog, chart: string): Promise<ChartRef> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(catalog.repoUrl)) return { chart, repoUrl: catalog.repoUrl };
  const folder = resolve(catalog.repoUrl);
  const indexed = await access(join(folder, 'index.yaml')).then(
    () => true,
    () => false,
  );
  return indexed ? { chart, repoUrl: pathToFileURL(folder).href } : { chart: join(folder, chart) };
}

/** One release of a catalog chart. */
export interface CatalogRelease {
  release: string;
  chart: string;
  namespace: string;
  values: Record<string, unknown>;
}

/**
 * Installs releases from a catalog one after the other, as upstream installs its applications:
 * each with {@link installRelease}, so an existing release is skipped.
 */
export async function installFromCatalog(
  releases: readonly CatalogRelease[],
  options: HelmOptions & { catalog: ChartCatalog },
): Promise<InstallResult[]> {
  const { catalog, ...helm } = options;
  const results: InstallResult[] = [];
  for (const r of releases) {
    options.signal?.throwIfAborted();
    const chart = await catalogChart(catalog, r.chart);
    results.push(
      await installRelease({ release: r.release, namespace: r.namespace, chart, values: r.values }, helm),
    );
  }
  return results;
}
