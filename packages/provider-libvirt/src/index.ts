/**
 * @ocne/provider-libvirt: local VM clusters on libvirt.
 *
 * `provider` is what the `Cluster` facade loads for `provider: libvirt`. It declares no operations
 * yet: its VM lifecycle arrives with the issue that implements it, and nothing here pretends to
 * work before then.
 *
 * @packageDocumentation
 */

export { provider } from './provider.js';
