/**
 * The providers the CLI ships with (it depends on each: batteries included). The facade would
 * import `@ocne/provider-<name>` by a computed name, which a bundler cannot follow; registering
 * each with a literal `import()` puts every provider in a chunk of its own that loads only when
 * a cluster of it is used. The code that runs is the same package either way.
 */
import type { ProviderLoader, registeredProviders, registerProvider } from '@ocne/cluster';

const BUNDLED: Readonly<Record<string, ProviderLoader>> = {
  byo: async () => (await import('@ocne/provider-byo')).provider,
  oci: async () => (await import('@ocne/provider-oci/provider')).provider,
  libvirt: async () => (await import('@ocne/provider-libvirt')).provider,
};

/**
 * Registers byo, oci and libvirt with the facade's registry, unless a provider of that name is
 * registered already (an embedder of `main` keeps its own).
 */
export function registerBundledProviders(registry: {
  registerProvider: typeof registerProvider;
  registeredProviders: typeof registeredProviders;
}): void {
  const taken = new Set(registry.registeredProviders());
  for (const [name, load] of Object.entries(BUNDLED))
    if (!taken.has(name)) registry.registerProvider(name, load);
}
