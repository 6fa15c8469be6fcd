// `ocne cluster console` on a real node (`pnpm bench`): the time from `Cluster.console` called to
// the command's first output byte (admin pod created, running, exec connected through the API
// server and the kubelet), and to its exit code (the pod deleted too); median of 20 runs against a
// test control plane with the real test node (containerd + kubelet).
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { Cluster } from '@ocne/cluster';
import { NODE_APISERVER_ARGS, startControlPlane, startTestNode } from '@ocne/test-control-plane';

const RUNS = 20;
const plane = await startControlPlane({ name: 'bench-console', extraArgs: [...NODE_APISERVER_ARGS] });
try {
  const node = await startTestNode({ controlPlane: plane });
  try {
    const kubeconfigPath = `${plane.kubeconfigPath}.console`;
    await writeFile(kubeconfigPath, plane.kubeconfig, { mode: 0o600 });
    const firstByte: number[] = [];
    const done: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let first: number | undefined;
      const t0 = performance.now();
      const stdout = new Writable({
        write(_chunk, _encoding, callback) {
          first ??= performance.now() - t0;
          callback();
        },
      });
      const code = await Cluster.console({
        node: node.name,
        kubeconfigPath,
        command: ['echo', 'hello'],
        stdout,
      });
      done.push(performance.now() - t0);
      if (code !== 0 || first === undefined) throw new Error(`run ${i}: exit code ${code}, output ${first}`);
      firstByte.push(first);
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const range = (values: number[]): string =>
      `best ${Math.min(...values).toFixed(0)} ms, worst ${Math.max(...values).toFixed(0)} ms`;
    console.log(`\nCluster.console({ command: ['echo', 'hello'] }) on the test node, ${RUNS} runs:`);
    console.log(
      `  called -> first output byte: median ${median(firstByte).toFixed(0)} ms (${range(firstByte)})`,
    );
    console.log(`  called -> exit code, pod deleted: median ${median(done).toFixed(0)} ms (${range(done)})`);
  } finally {
    await node.stop();
  }
} finally {
  await plane.stop();
}
