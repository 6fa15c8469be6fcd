/**
 * `@ocne/kubernetes` on first use. It is an optional peer dependency: a BYO start and a manual join
 * never need a live cluster, so a BYO-only install goes without the Kubernetes client; the features
 * that do (automatic tokens, the second start, node moves) load it here and, when it is not
 * installed, fail with `OCNE_DEPENDENCY_MISSING` naming the package.
 */
import { importOptional } from '@ocne/core';

/** The Kubernetes package and the provider's in-cluster helpers (which import it statically). */
export interface KubeModules {
  kubernetes: typeof import('@ocne/kubernetes');
  inCluster: typeof import('./in-cluster.js');
}

/**
 * Loads `@ocne/kubernetes` for `feature` (a sentence start: `Automatic token creation`).
 *
 * @throws `OcneError` `OCNE_DEPENDENCY_MISSING` when the package is not installed.
 */
export async function loadKubernetes(feature: string): Promise<KubeModules> {
  const kubernetes = await importOptional('@ocne/kubernetes', () => import('@ocne/kubernetes'), feature);
  return { kubernetes, inCluster: await import('./in-cluster.js') };
}
