// Test-only: the real CNCF distribution registry (`docker-registry`) on 127.0.0.1 with TLS from a
// test CA and Basic or Bearer-token authentication, and a counting proxy in front of it.
export type { TestPki } from './pki.ts';
export { makeTestPki } from './pki.ts';
export type { ProxiedRequest, RegistryProxy } from './proxy.ts';
export { startRegistryProxy } from './proxy.ts';
export type { RegistryAuthMode, RegistryRequest, TestRegistry, TestRegistryOptions } from './registry.ts';
export { startTestRegistry } from './registry.ts';
export type { TokenRequest, TokenServer } from './token-server.ts';
