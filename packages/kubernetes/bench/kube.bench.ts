// Kubernetes access against a real control plane (`pnpm bench`): how soon a wait returns after
// the condition turns true in the API server (median and worst of 50), and apply throughput for
// 200 objects: sequential, in parallel within the rank, and the peer `kubectl apply --server-side`
// (built at the kube-apiserver's version by scripts/test-tools.sh), then unchanged and create-if-absent.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@ocne/kubernetes';
import { tableRow } from '@ocne/test-bench';
import { startControlPlane } from '@ocne/test-control-plane';
import { TOOL_VERSIONS, testTool } from '@ocne/test-tools';

const execFileAsync = promisify(execFile);

/** CPU time (user + system, ms) a process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}

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
  /** Wall time, and the CPU time of the API server + etcd and of this process meanwhile. */
  const cpu = { server: {} as Record<string, number[]>, client: {} as Record<string, number[]> };
  const timed = async (fn: () => Promise<unknown>, side?: string): Promise<number> => {
    const server0 = cpuMs(plane.pids.apiserver) + cpuMs(plane.pids.etcd);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    if (side !== undefined) {
      const client = process.cpuUsage(client0);
      cpu.server[side] = [
        ...(cpu.server[side] ?? []),
        cpuMs(plane.pids.apiserver) + cpuMs(plane.pids.etcd) - server0,
      ];
      cpu.client[side] = [...(cpu.client[side] ?? []), (client.user + client.system) / 1000];
    }
    return ms;
  };
  const rate = (ms: number) =>
    `${ms.toFixed(0).padStart(5)} ms, ${((200 / ms) * 1000).toFixed(0).padStart(4)} objects/s`;
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[values.length >> 1] as number;
  const kubectlPath = join(dirname(testTool('kube-apiserver')), `kubectl-${TOOL_VERSIONS['kube-apiserver']}`);
  const hasKubectl = existsSync(kubectlPath);
  const times = {
    sequential: [] as number[],
    parallel: [] as number[],
    kubectl: [] as number[],
    kubectl4: [] as number[],
  };
  const kubectlApply = async (namespace: string, parts: number) => {
    const objects = objectsIn(namespace);
    const files = Array.from({ length: parts }, (_, part) => {
      const file = join(tmpdir(), `ocne-bench-${process.pid}-${part}.json`);
      const items = objects.filter((_, i) => i % parts === part);
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
      return file;
    });
    try {
      await Promise.all(
        files.map((file) =>
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
      for (const file of files) rmSync(file, { force: true });
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['seq', 'par', 'kubectl', 'kubectl4']) {
      await kube.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${side}-${round}` } },
      ]);
    }
    times.sequential.push(
      await timed(() => kube.apply(objectsIn(`bench-seq-${round}`) as never, { concurrency: 1 }), 'seq'),
    );
    times.parallel.push(await timed(() => kube.apply(objectsIn(`bench-par-${round}`) as never), 'par'));
    if (hasKubectl) {
      times.kubectl.push(await timed(() => kubectlApply(`bench-kubectl-${round}`, 1), 'kubectl'));
      // Four kubectl processes at once, 50 objects each: how far parallel requests take the server.
      times.kubectl4.push(await timed(() => kubectlApply(`bench-kubectl4-${round}`, 4), 'kubectl4'));
    }
  }
  const sequential = median(times.sequential);
  const parallel = median(times.parallel);
  const kubectl = hasKubectl ? median(times.kubectl) : undefined;
  const kubectl4 = hasKubectl ? median(times.kubectl4) : undefined;
  const cpuOf = (side: string) =>
    `API server + etcd CPU ${median(cpu.server[side] ?? [0]).toFixed(0)} ms, this process ${median(cpu.client[side] ?? [0]).toFixed(0)} ms`;
  console.log(`\nserver-side apply of 200 new ConfigMaps (median of ${ROUNDS} rounds, the three in turn):`);
  console.log(`  ocne, sequential (before: one object at a time)   ${rate(sequential)}  (${cpuOf('seq')})`);
  console.log(
    `  ocne, parallel within the rank (16 at a time)    ${rate(parallel)}  ${(sequential / parallel).toFixed(2)}x faster than sequential (${cpuOf('par')})`,
  );
  console.log(
    kubectl === undefined || kubectl4 === undefined
      ? `  kubectl apply --server-side: not built (${kubectlPath}; scripts/test-tools.sh builds it)`
      : `  kubectl apply --server-side (Go)                 ${rate(kubectl)}  ocne/kubectl time ratio ${(parallel / kubectl).toFixed(2)} (${cpuOf('kubectl')})\n` +
          `  4 kubectl processes at once, 50 objects each     ${rate(kubectl4)}  ${(kubectl / kubectl4).toFixed(2)}x faster than one kubectl (${cpuOf('kubectl4')})`,
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
