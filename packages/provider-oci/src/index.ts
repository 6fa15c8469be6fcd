/**
 * @ocne/provider-oci: Oracle Cloud clusters through Cluster API. `provider` is what the `Cluster`
 * facade loads for `provider: oci`; {@link createOciProvider} takes the ports a start uses (the
 * management cluster, the boot images, the OCI lookups and credentials). It renders templates,
 * and starts and deletes clusters (`ociStart`, `ociDelete`).
 *
 * @packageDocumentation
 */

export type { OciProviderOptions } from './provider.js';
export { createOciProvider, provider } from './provider.js';
export * from './start/index.js';
