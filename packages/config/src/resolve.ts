/**
 * Layering and derivation, exactly as upstream's `GetFullConfig` plus the command-level
 * defaulting of `ocne cluster start`. Pure: layers in, resolved configuration out.
 */
import { isAbsolute, join } from 'node:path';
import { builtinDefaults, DEFAULT_CLUSTER_NAME } from './defaults.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { clusterConfigSchema, defaultsConfigSchema } from './generated/schemas.js';
import { ensureBootImageVersion, makeOstreeReference } from './images.js';
import { DEFAULT_KUBERNETES_VERSION } from './kubernetes-versions.js';
import { type ConfigLayer, LAYER_ORDER, LayerKind, mergeLayers, ProvenanceRecorder } from './layers.js';
import type { ResolvedClusterConfig, ResolvedConfig, ResolvedDefaultsConfig } from './resolved.js';
import { validateResolved } from './validate.js';

const DEFAULTS_LEVEL: ReadonlySet<LayerKind> = new Set([
  LayerKind.Builtin,
  LayerKind.DefaultsFile,
  LayerKind.ConfigOverrides,
]);

/** Options of {@link resolveConfig}. */
export interface ResolveOptions {
  /** The provider when none is set: upstream uses `libvirt` for start, join and delete, `oci` for template. @defaultValue `'libvirt'` */
  defaultProvider?: string;
  /**
   * Folder of the cluster file: `directory` defaults to it, and a relative `directory` resolves
   * against it. Without it (an in-memory config), `directory` stays as given.
   */
  clusterFileDirectory?: string;
  /** Skip validation (the checks `loadConfig` reports as `ConfigError`): layering and derivation only. @defaultValue false */
  skipValidation?: boolean;
  /** Provider names accepted besides upstream's (providers an embedder registered). */
  extraProviders?: readonly string[];
}

/**
 * Merges the layers by upstream's rules, derives the computed defaults, validates, and returns
 * the result with provenance. Layers may come in any order; at most one of each kind; without a
 * `builtin` layer, {@link builtinDefaults} is used. Warnings
 * are returned in `warnings`; errors throw one {@link ConfigError} listing all of them.
 *
 * Rules, in upstream's order (`GetFullConfig`, then `cmd/cluster/start`):
 * 1. built-ins, then the defaults file, defaults-level overrides, the cluster file and cluster-level
 *    overrides (each beats the ones before),
 *    where an empty string or 0 never overrides, tri-state booleans override when set, and lists
 *    concatenate. Fields of only one format come only from its layers.
 * 2. `ephemeralCluster.preserve` is always false afterwards: upstream's merge drops it (a
 *    warning says so when a layer set it to true).
 * 3. `name` defaults to `ocne`, `provider` to `defaultProvider`, `controlPlaneNodes` to 1; the oci
 *    and olvm providers raise `workerNodes` from 0 to 1, as their drivers do.
 * 4. `bootVolumeContainerImage` gets `docker://` when it has no transport, then its Kubernetes tag.
 * 5. `osTag` follows `kubernetesVersion` while it is still `1.33` (even when written explicitly).
 * 6. `osRegistry` gets `ostree-unverified-registry:` when it has no OSTree transport.
 * 7. `directory` defaults to the cluster file's folder; relative `clusterDefinition` and
 *    `extraIgnition` resolve against it.
 * 8. `apiEndpoint` (not a configuration field) is the virtual IP, else the load balancer, with
 *    `internalLB` true for a virtual IP; every provider takes the API address from it.
 */
export function resolveConfig(layers: readonly ConfigLayer[], options: ResolveOptions = {}): ResolvedConfig {
  const all = layers.some((l) => l.kind === LayerKind.Builtin)
    ? layers
    : [
        {
          kind: LayerKind.Builtin,
          source: '<built-in defaults>',
          data: builtinDefaults() as Record<string, unknown>,
        },
        ...layers,
      ];
  const sorted = [...all].sort((a, b) => LAYER_ORDER.indexOf(a.kind) - LAYER_ORDER.indexOf(b.kind));
  const warnings: ConfigIssue[] = [];

  const defaultsProvenance = new ProvenanceRecorder();
  const defaults = mergeLayers(
    defaultsConfigSchema,
    sorted.filter((l) => DEFAULTS_LEVEL.has(l.kind)),
    defaultsProvenance,
  ) as ResolvedDefaultsConfig;
  const provenance = new ProvenanceRecorder();
  const cluster = mergeLayers(clusterConfigSchema, sorted, provenance) as ResolvedClusterConfig;

  // `fromPath`: the value the rule starts from, when it is not the derived value's own earlier one.
  const derive = (
    recorder: ProvenanceRecorder,
    path: string,
    note: string,
    apply: () => void,
    fromPath = path,
  ): void => {
    const from = recorder.sourceOf(fromPath);
    apply();
    recorder.delete(path);
    recorder.set(
      path,
      { derived: true, source: from?.source ?? '<built-in defaults>', note, ...(from ? { from } : {}) },
      path,
    );
  };

  // 2. preserve is dropped by every upstream merge.
  if (defaults.ephemeralCluster.preserve) {
    const setBy = sorted.find(
      (l) =>
        l.kind !== LayerKind.Builtin &&
        (l.data.ephemeralCluster as { preserve?: unknown } | undefined)?.preserve === true,
    );
    if (setBy) {
      const at = setBy.positions?.get('ephemeralCluster.preserve');
      warnings.push({
        code: 'OCNE_CONFIG_INVALID_VALUE',
        severity: 'warning',
        message:
          'ephemeralCluster.preserve has no effect: upstream drops it when merging, so the ephemeral cluster is deleted',
        file: setBy.source,
        path: 'ephemeralCluster.preserve',
        ...(at ? { line: at.line, column: at.column } : {}),
      });
    }
    derive(
      defaultsProvenance,
      'ephemeralCluster.preserve',
      'upstream merges drop preserve: always false',
      () => {
        defaults.ephemeralCluster.preserve = false;
      },
    );
  }

  // 3. Command-level defaults.
  if (cluster.name === '') {
    derive(provenance, 'name', 'default cluster name', () => {
      cluster.name = DEFAULT_CLUSTER_NAME;
    });
  }
  if (cluster.provider === '') {
    derive(provenance, 'provider', 'default provider of the operation', () => {
      cluster.provider = options.defaultProvider ?? 'libvirt';
    });
  }
  if (cluster.controlPlaneNodes === 0) {
    derive(provenance, 'controlPlaneNodes', 'at least one control-plane node', () => {
      cluster.controlPlaneNodes = 1;
    });
  }
  if ((cluster.provider === 'oci' || cluster.provider === 'olvm') && cluster.workerNodes === 0) {
    derive(provenance, 'workerNodes', `the ${cluster.provider} provider needs at least one worker`, () => {
      cluster.workerNodes = 1;
    });
  }

  // 4. Boot image transport and tag.
  const image = ensureBootImageVersion(cluster.kubernetesVersion, cluster.bootVolumeContainerImage);
  if (image !== cluster.bootVolumeContainerImage) {
    derive(
      provenance,
      'bootVolumeContainerImage',
      'docker:// transport and the Kubernetes version as tag',
      () => {
        cluster.bootVolumeContainerImage = image;
      },
    );
  }

  // 5. osTag follows kubernetesVersion while it has the default value.
  if (
    cluster.osTag === DEFAULT_KUBERNETES_VERSION &&
    cluster.kubernetesVersion !== DEFAULT_KUBERNETES_VERSION
  ) {
    derive(provenance, 'osTag', 'follows kubernetesVersion while osTag is the default', () => {
      cluster.osTag = cluster.kubernetesVersion;
    });
  }

  // 6. OSTree transport on osRegistry.
  const registry = makeOstreeReference(cluster.osRegistry);
  if (registry !== cluster.osRegistry) {
    derive(provenance, 'osRegistry', 'ostree-unverified-registry: transport', () => {
      cluster.osRegistry = registry;
    });
  }

  // 7. directory and the paths relative to it.
  const fileDir = options.clusterFileDirectory;
  if (fileDir !== undefined) {
    if (cluster.directory === '') {
      derive(provenance, 'directory', "the cluster file's folder", () => {
        cluster.directory = fileDir;
      });
    } else if (!isAbsolute(cluster.directory)) {
      derive(provenance, 'directory', "relative to the cluster file's folder", () => {
        cluster.directory = join(fileDir, cluster.directory);
      });
    }
  }
  if (cluster.directory !== '') {
    for (const key of ['clusterDefinition', 'extraIgnition'] as const) {
      // The layer that wrote the value stays its source; only the value becomes absolute.
      const value = cluster[key];
      if (value !== '' && !isAbsolute(value)) cluster[key] = join(cluster.directory, value);
    }
  }

  // 8. The API endpoint, decided once here for every provider and for validation.
  const endpointFrom = cluster.virtualIp !== '' ? 'virtualIp' : 'loadBalancer';
  derive(
    provenance,
    'apiEndpoint',
    'the virtual IP, else the load balancer',
    () => {
      cluster.apiEndpoint = { address: cluster[endpointFrom], internalLB: cluster.virtualIp !== '' };
    },
    endpointFrom,
  );

  const clusterLayer = sorted.find((l) => l.kind === LayerKind.ClusterFile);
  if (!options.skipValidation) {
    const issues = validateResolved({
      cluster,
      defaults,
      provenance,
      defaultsProvenance,
      clusterSource: clusterLayer?.source ?? '<cluster config>',
      ...(options.extraProviders ? { extraProviders: options.extraProviders } : {}),
    });
    warnings.push(...issues.filter((i) => i.severity === 'warning'));
    const errors = issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) throw new ConfigError(errors);
  }

  return { cluster, defaults, provenance, defaultsProvenance, warnings, layers: sorted };
}
