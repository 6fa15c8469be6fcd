// Kubernetes access against a real control plane (`pnpm bench`): how soon a wait returns after
// the condition turns true in the API server (median and worst of 50), and apply throughput for
// 200 objects: sequential, in parallel within the rank, and the peer `kubectl apply --server-side`
// (built at the kube-apiserver's version by scripts/test-tools.sh), then unchanged and create-if-absent.
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@ocne/kubernetes';
import { tableRow } from '@ocne/test-bench';
import { startControlPlane } from '@ocne/test-control-plane';
import { TOOL_VERSIONS, testTool } from '@ocne/test-tools';

const execFileAsync = promisify(execFile);

const plane = await startControlPlane({ name: 'bench' });
try {
  const kube = await connect({ kubeconfig: plane.kubeconfig });
  await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }]);

  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const name = `flag-${i}`;
    let flippedAt = 0;
    const wait = kube.waitFor(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'bench', name },
      (objs) => objs.length === 1,
      {
        timeoutMs: 30_000,
      },
    );
    await new Promise((r) => setTimeout(r, 20));
    flippedAt = performance.now();
    await kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'bench' } }]);
    await wait;
    latencies.push(performance.now() - flippedAt);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `\ncondition true in the API server -> wait returns (50 runs, time counted from the apply request):\n  median ${latencies[25]!.toFixed(1)} ms, worst ${latencies[49]!.toFixed(1)} ms, best ${latencies[0]!.toFixed(1)} ms`,
  );

  // Server-side apply of 200 new ConfigMaps: sequential as before (`concurrency: 1`), in parallel
  // within the rank (the default), and `kubectl apply --server-side` of the same 200, each into a
  // namespace of its own so every side creates its objects. The three take turns, ROUNDS times, and
  // each is its median: a load on the machine meanwhile slows all three alike.
  const ROUNDS = 5;
  const objectsIn = (namespace: string) =>
    Array.from({ length: 200 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `obj-${i}`, namespace },
      data: { index: String(i) },
    }));
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const rate = (ms: number) =>
    `${ms.toFixed(0).padStart(5)} ms, ${((200 / ms) * 1000).toFixed(0).padStart(4)} objects/s`;
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[values.length >> 1] as number;
  const kubectlPath = join(dirname(testTool('kube-apiserver')), `kubectl-${TOOL_VERSIONS['kube-apiserver']}`);
  const hasKubectl = existsSync(kubectlPath);
  const times = { sequential: [] as number[], parallel: [] as number[], kubectl: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['seq', 'par', 'kubectl']) {
      await kube.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${side}-${round}` } },
      ]);
    }
    times.sequential.push(
      await timed(() => kube.apply(objectsIn(`bench-seq-${round}`) as never, { concurrency: 1 })),
    );
    times.parallel.push(await timed(() => kube.apply(objectsIn(`bench-par-${round}`) as never)));
    if (hasKubectl) {
      const file = join(tmpdir(), `ocne-bench-${process.pid}.json`);
      writeFileSync(
        file,
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objectsIn(`bench-kubectl-${round}`) }),
      );
      try {
        times.kubectl.push(
          await timed(() =>
            execFileAsync(kubectlPath, [
              '--kubeconfig',
              plane.kubeconfigPath,
              'apply',
              '--server-side',
              '-f',
              file,
            ]),
          ),
        );
      } finally {
        rmSync(file, { force: true });
      }
    }
  }
  const sequential = median(times.sequential);
  const parallel = median(times.parallel);
  const kubectl = hasKubectl ? median(times.kubectl) : undefined;
  console.log(`\nserver-side apply of 200 new ConfigMaps (median of ${ROUNDS} rounds, the three in turn):`);
  console.log(`  ocne, sequential (before: one object at a time)   ${rate(sequential)}`);
  console.log(
    `  ocne, parallel within the rank (16 at a time)    ${rate(parallel)}  ${(sequential / parallel).toFixed(2)}x faster than sequential`,
  );
  console.log(
    kubectl === undefined
      ? `  kubectl apply --server-side: not built (${kubectlPath}; scripts/test-tools.sh builds it)`
      : `  kubectl apply --server-side (Go)                 ${rate(kubectl)}  ocne/kubectl time ratio ${(parallel / kubectl).toFixed(2)}`,
  );
  tableRow({
    what: 'server-side apply of 200 objects',
    ours: `${((200 / parallel) * 1000).toFixed(0)} objects/s in parallel within the rank; sequential in the same run: ${((200 / sequential) * 1000).toFixed(0)} objects/s (${(sequential / parallel).toFixed(2)}x slower)`,
    peer:
      kubectl === undefined
        ? 'kubectl not built'
        : `kubectl apply --server-side: ${((200 / kubectl) * 1000).toFixed(0)} objects/s`,
    ratio: `parallel/sequential ${(sequential / parallel).toFixed(2)}x${kubectl === undefined ? '' : `; ocne/kubectl time ${(parallel / kubectl).toFixed(2)}x`}`,
    goal: '>= 3x sequential',
  });
  for (const [label, mode] of [
    ['server-side apply (unchanged objects)', 'apply'],
    ['create-if-absent (all exist)', 'create'],
  ] as const) {
    const ms = await timed(() => kube.apply(objectsIn('bench-par-0') as never, { mode }));
    console.log(`  ocne, ${label.padEnd(42)} ${rate(ms)}`);
  }
} finally {
  await plane.stop();
}
