// Kubernetes access against a real control plane (`pnpm bench`): how soon a wait returns after
// the condition turns true in the API server (median and worst of 50), and apply throughput for
// 200 objects (server-side apply, then create-if-absent).
import { connect } from '@ocne/kubernetes';
import { startControlPlane } from '@ocne/test-control-plane';

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

  const objects = Array.from({ length: 200 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `obj-${i}`, namespace: 'bench' },
    data: { index: String(i) },
  }));
  for (const [label, mode] of [
    ['server-side apply (new objects)', 'apply'],
    ['server-side apply (unchanged objects)', 'apply'],
    ['create-if-absent (all exist)', 'create'],
  ] as const) {
    const t0 = performance.now();
    await kube.apply(objects as never, { mode });
    const ms = performance.now() - t0;
    console.log(
      `  apply 200 ConfigMaps, ${label.padEnd(38)} ${ms.toFixed(0).padStart(5)} ms, ${((200 / ms) * 1000).toFixed(0)} objects/s`,
    );
  }
} finally {
  await plane.stop();
}
