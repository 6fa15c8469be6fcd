// vitest globalSetup of the `integration` project: starts two control planes, `source` and
// `destination`, in parallel, and a real node (containerd + kubelet, ./node.ts) registered with
// `source`; provides them to tests as `inject('controlPlanes')` and `inject('testNode')` (see
// ./vitest.ts), and stops them in teardown (the node first, by PID, undoing its changes to the host). vitest only runs it when the project has test files to run, so
// `vitest run --project unit` never starts a control plane.
import type { TestProject } from 'vitest/node';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { NODE_APISERVER_ARGS, startTestNode, type TestNode } from './node.ts';
import type { InjectedControlPlane } from './vitest.ts';

function injected(plane: ControlPlane): InjectedControlPlane {
  const { name, url, kubeconfig, kubeconfigPath, token, ca, pids } = plane;
  return { name, url, kubeconfig, kubeconfigPath, token, ca, pids: { ...pids } };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const results = await Promise.allSettled([
    startControlPlane({ name: 'source', extraArgs: [...NODE_APISERVER_ARGS] }),
    startControlPlane({ name: 'destination' }),
  ]);
  const planes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  let node: TestNode | undefined;
  const stop = async (): Promise<void> => {
    await node?.stop();
    await Promise.all(planes.map((plane) => plane.stop()));
  };
  const [source, destination] = planes;
  if (source === undefined || destination === undefined) {
    await stop();
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    throw errors.length === 1
      ? errors[0]
      : new AggregateError(errors, 'the test control planes did not start');
  }
  try {
    node = await startTestNode({ controlPlane: source });
  } catch (error) {
    await stop();
    throw error;
  }
  project.provide('controlPlanes', { source: injected(source), destination: injected(destination) });
  project.provide('testNode', { name: node.name, binDir: node.binDir, pids: { ...node.pids } });
  return stop;
}
