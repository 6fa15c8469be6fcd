// moveCluster between two real control planes of its own (`pnpm bench move`): graphs of 10, 100
// and 1000 worker Machines (4 objects per Machine, plus the cluster's own), the time of each move
// and its phases, objects per second, and how the time grows with the size, all measured in one
// run. Then, on the 100-Machine graph, how the time depends on the concurrency.
import type { EventInput } from '@ocne/core';
import { connect } from '@ocne/kubernetes';
import { startControlPlane } from '@ocne/test-control-plane';
import { moveCluster } from '../src/move/index.ts';
import { installCapiCrds } from '../test/crds.ts';
import { createClusterGraph, graphSize } from '../test/graph.ts';

const SIZES = [10, 100, 1000];
const CONCURRENCIES = [1, 4, 16, 32];

const [source, target] = await Promise.all([
  startControlPlane({ name: 'bench-move-source' }),
  startControlPlane({ name: 'bench-move-target' }),
]);
try {
  const from = await connect({ kubeconfig: source.kubeconfig });
  const to = await connect({ kubeconfig: target.kubeconfig });
  await Promise.all([installCapiCrds(from), installCapiCrds(to)]);

  /** Creates a graph in a fresh namespace, moves it, and returns the timings. */
  const run = async (namespace: string, workers: number, concurrency: number) => {
    await from.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    const t0 = performance.now();
    await createClusterGraph(source.kubeconfig, { namespace, name: 'bench', workers, concurrency: 16 });
    const setupMs = performance.now() - t0;
    // Phase boundaries, from the events: creation starts with its first progress event, deletion
    // with its own, and the unpause follows the deletion.
    const marks: Record<string, number> = {};
    const emit = (e: EventInput) => {
      const at = performance.now();
      if (e.type === 'progress') marks[e.step] ??= at;
      if (e.type === 'log' && e.message.startsWith('Resuming')) marks.resume = at;
    };
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = await moveCluster({ from, to, namespace, name: 'bench', concurrency, emit });
    const end = performance.now();
    const used = process.cpuUsage(cpu);
    const create = marks['Creating objects in the target cluster'] ?? start;
    const remove = marks['Deleting objects from the source cluster'] ?? end;
    const resume = marks.resume ?? end;
    return {
      objects: result.objects.length,
      setupMs,
      ms: end - start,
      clientCpuMs: (used.user + used.system) / 1000,
      phases: {
        prepare: create - start,
        create: remove - create,
        delete: resume - remove,
        resume: end - resume,
      },
    };
  };

  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log('\nmoveCluster, concurrency 16 (discover+check+pause | create | delete | unpause)');
  const times: number[] = [];
  for (const workers of SIZES) {
    const r = await run(`bench-${workers}`, workers, 16);
    if (r.objects !== graphSize(workers))
      throw new Error(`moved ${r.objects} objects, expected ${graphSize(workers)}`);
    times.push(r.ms);
    console.log(
      `  ${String(workers).padStart(4)} machines, ${String(r.objects).padStart(5)} objects: ${fmt(r.ms).padStart(8)}, ` +
        `${((r.objects / r.ms) * 1000).toFixed(0).padStart(4)} objects/s ` +
        `(${fmt(r.phases.prepare)} | ${fmt(r.phases.create)} | ${fmt(r.phases.delete)} | ${fmt(r.phases.resume)}); ` +
        `client CPU ${fmt(r.clientCpuMs)}; graph set-up ${fmt(r.setupMs)}`,
    );
  }
  for (let i = 1; i < SIZES.length; i++) {
    const growth = times[i]! / times[i - 1]!;
    const objects = graphSize(SIZES[i]!) / graphSize(SIZES[i - 1]!);
    console.log(
      `  time(${SIZES[i]})/time(${SIZES[i - 1]}) = ${growth.toFixed(2)}x for ${objects.toFixed(2)}x the objects`,
    );
  }

  console.log('\nmoveCluster of 100 machines by concurrency');
  let base = 0;
  for (const concurrency of CONCURRENCIES) {
    const r = await run(`bench-c${concurrency}`, 100, concurrency);
    base ||= r.ms;
    console.log(
      `  concurrency ${String(concurrency).padStart(2)}: ${fmt(r.ms).padStart(8)}, ${((r.objects / r.ms) * 1000).toFixed(0).padStart(4)} objects/s, ${(r.ms / base).toFixed(2)}x`,
    );
  }
} finally {
  await Promise.all([source.stop(), target.stop()]);
}
