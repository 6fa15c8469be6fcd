// vitest globalSetup of the `integration` project: starts two control planes, `source` and
// `destination`, in parallel, and a real node (containerd + kubelet, ./node.ts) registered with
// each; provides them to tests as `inject('controlPlanes')` and `inject('testNodes')` (see
// ./vitest.ts), and stops them in teardown (the nodes first, in the reverse order of their start,
// by PID, each undoing its changes to the host). vitest only runs it when the project has test files to run, so
// `vitest run --project unit` never starts a control plane.
import type { TestProject } from 'vitest/node';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { NODE_APISERVER_ARGS, startTestNode, type TestNode } from './node.ts';
import type { InjectedControlPlane, InjectedTestNode } from './vitest.ts';

function injected(plane: ControlPlane): InjectedControlPlane {
  const { name, url, kubeconfig, kubeconfigPath, token, ca, pids } = plane;
  return { name, url, kubeconfig, kubeconfigPath, token, ca, pids: { ...pids } };
}

function injectedNode(node: TestNode): InjectedTestNode {
  const { name, binDir, pids, hostWrites } = node;
  return { name, binDir, pids: { ...pids }, hostWrites: { ...hostWrites } };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const results = await Promise.allSettled([
    startControlPlane({ name: 'source', extraArgs: [...NODE_APISERVER_ARGS] }),
    startControlPlane({ name: 'destination', extraArgs: [...NODE_APISERVER_ARGS] }),
  ]);
  const planes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const nodes: TestNode[] = [];
  const stop = async (): Promise<void> => {
    for (const node of [...nodes].reverse()) await node.stop();
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
    // Each with a cgroup root of its own; the host's state is counted machine-wide (./node.ts).
    nodes.push(await startTestNode({ controlPlane: source }));
    nodes.push(await startTestNode({ controlPlane: destination }));
  } catch (error) {
    await stop();
    throw error;
  }
  const [sourceNode, destinationNode] = nodes as [TestNode, TestNode];
  project.provide('controlPlanes', { source: injected(source), destination: injected(destination) });
  project.provide('testNodes', {
    source: injectedNode(sourceNode),
    destination: injectedNode(destinationNode),
  });
  return stop;
}
