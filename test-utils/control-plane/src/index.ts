// Test-only control planes (etcd + kube-apiserver on 127.0.0.1). The vitest side is in
// `@ocne/test-control-plane/vitest` so that this entry point never loads vitest.

export type { ChartRepository, ChartRepositoryOptions } from './chart-repo.ts';
export { serveChartRepository } from './chart-repo.ts';
export type { ControlPlane, ControlPlaneOptions } from './control-plane.ts';
export { startControlPlane } from './control-plane.ts';
export type { SimpleKind } from './crds.ts';
export { simpleCrd } from './crds.ts';
export type { RequestOptions, Response } from './http.ts';
export { request } from './http.ts';
export type { AdminPodClient, CompleteAdminPodOptions } from './kubelet.ts';
export { completeAdminPod } from './kubelet.ts';
