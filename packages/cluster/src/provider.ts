/**
 * The provider registry of the facade. A provider is found, the first time a cluster of it is
 * used, in this order:
 *
 * 1. a provider registered with {@link registerProvider} (an embedder's own providers);
 * 2. the package `@ocne/provider-<name>`, imported by name: its main entry exports `provider`.
 *
 * The facade depends on no provider package: they are optional peer dependencies, and a missing
 * one is an `OCNE_DEPENDENCY_MISSING` error that names the package to install. A provider's code
 * (and its dependencies: OCI SDK, libvirt bindings, Kubernetes client) loads only when used.
 */
import type { ResolvedConfig } from '@ocne/config';
import { assertClusterProvider, type ClusterProvider, isModuleMissing, OcneError } from '@ocne/core';

/** Loads a provider's code on first use. */
export type ProviderLoader = () => Promise<ClusterProvider<ResolvedConfig>>;

const registry = new Map<string, ProviderLoader>();
const loading = new Map<string, Promise<ClusterProvider<ResolvedConfig>>>();

/**
 * Registers (or replaces) the provider of a name, for providers that are not a
 * `@ocne/provider-<name>` package. Configurations may then say `provider: <name>`.
 */
export function registerProvider(name: string, loader: ProviderLoader): void {
  registry.set(name, loader);
  loading.delete(name);
}

/** Names of the providers registered with {@link registerProvider}. */
export function registeredProviders(): string[] {
  return [...registry.keys()].sort();
}

/** The package a provider of this name comes from when nobody registered it. */
function providerPackage(name: string): string {
  return `@ocne/provider-${name}`;
}

async function importProvider(name: string): Promise<ClusterProvider<ResolvedConfig>> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new OcneError('OCNE_PROVIDER_UNKNOWN', `No implementation exists for the ${name} driver`);
  }
  const specifier = providerPackage(name);
  let module: { provider?: unknown };
  try {
    // The specifier is computed: bundlers leave it to the runtime, so a provider that is not
    // installed is an error here, not at bundle time.
    module = (await import(/* @vite-ignore */ specifier)) as { provider?: unknown };
  } catch (error) {
    if (isModuleMissing(error, specifier)) {
      throw new OcneError(
        'OCNE_DEPENDENCY_MISSING',
        `the ${name} provider comes from the package ${specifier}, which is not installed: add it to your dependencies (npm install ${specifier})`,
        { cause: error },
      );
    }
    throw error;
  }
  assertClusterProvider(module.provider, `the provider export of ${specifier}`);
  return module.provider as ClusterProvider<ResolvedConfig>;
}

/**
 * The provider of a name: registered, else imported from `@ocne/provider-<name>`. Loaded once.
 *
 * @throws `OcneError` `OCNE_DEPENDENCY_MISSING` naming the package when it is not installed;
 *   `OCNE_PROVIDER_INVALID` when what it exports is not a provider.
 */
export function loadProvider(name: string): Promise<ClusterProvider<ResolvedConfig>> {
  let provider = loading.get(name);
  if (provider === undefined) {
    const loader = registry.get(name);
    provider = (
      loader
        ? loader().then((p) => {
            assertClusterProvider(p, `the registered provider ${name}`);
            return p as ClusterProvider<ResolvedConfig>;
          })
        : importProvider(name)
    ).catch((error: unknown) => {
      loading.delete(name); // a later call (after an install) tries again
      throw error;
    });
    loading.set(name, provider);
  }
  return provider;
}
