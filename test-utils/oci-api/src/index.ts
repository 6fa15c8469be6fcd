/**
 * `@ocne/test-oci-api` (test-only, never published): an OCI API server on 127.0.0.1 for the tests
 * of the OCI cloud layer. It serves the Identity, Compute, Work Requests and Object Storage calls
 * the real `oci-*` clients make, checks their request signatures, keeps a resource model whose
 * imports move on a test clock, stores objects on disk, and injects faults.
 */
export type { TestClock } from './clock.js';
export type { FaultAction, FaultHandle, FaultMatch, FaultRule } from './faults.js';
export { Faults } from './faults.js';
export type { OciConfigProfile, SignedFetchOptions, SigningIdentity, TestKey } from './keys.js';
export { fingerprintOf, generateTestKey, signedFetch, writeOciConfigFile } from './keys.js';
export type { Compartment, Image, ImageCapabilitySchema, ImportWorkRequest } from './model.js';
export { ApiError, DEFAULT_IMAGE_SHAPES, OciModel } from './model.js';
export type { OciApiServer, OciApiServerOptions, RequestLogEntry, WriteConfigOptions } from './server.js';
export { startOciApiServer } from './server.js';
export type { Bucket, MultipartUpload, StoredObject, StoredPart } from './storage.js';
export { ObjectStore } from './storage.js';
export type { TarEntry } from './tarball.js';
export { readTarGz } from './tarball.js';
