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
export type { NodeControlPlane, TestNode, TestNodeOptions } from './node.ts';
export { NODE_ADMIN_IMAGE, NODE_APISERVER_ARGS, NODE_TOOLBOX_IMAGE, startTestNode } from './node.ts';
export type { ExitStatus, LoggedProcess, SpawnLoggedOptions, StopProcessOptions } from './processes.ts';
export { guardDirectory, releaseDirectory, spawnLogged, stopProcess } from './processes.ts';
