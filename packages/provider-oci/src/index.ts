/**
 * @ocne/provider-oci: Oracle Cloud clusters through Cluster API. `provider` is what the `Cluster`
 * facade loads for `provider: oci`; {@link createOciProvider} takes the Oracle Cloud lookups.
 * Today it renders templates; starting clusters arrives with the cloud layer.
 *
 * @packageDocumentation
 */

export type { OciProviderOptions } from './provider.js';
export { createOciProvider, provider } from './provider.js';
