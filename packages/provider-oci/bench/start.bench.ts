// The whole oci `cluster start` on two real control planes of its own (`pnpm bench start`), with
// the slow outside world emulated on a scaled clock (1 s here stands for a minute there): the
// controllers take a while to become Available, CAPOCI takes a while to make the network and the
// nodes, and each boot image takes a while to create, upload and import. The images port does its
// two architectures at once (as the cloud layer's does) or one after the other (upstream's serial
// order). Printed: the total, the time of each step, the emulated delays on the serial path, and
// what the SDK adds on top of them. No time is asserted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@ocne/config';
import type { EventInput } from '@ocne/core';
import { connect, uninstallRelease } from '@ocne/kubernetes';
import { serveChartRepository, startControlPlane } from '@ocne/test-control-plane';
import { testTool } from '@ocne/test-tools';
import { createOciProvider, type ImagesPort } from '../src/index.ts';
import {
  ensureCapiCrds,
  playControllers,
  prepareWorkload,
  writeTestCharts,
} from '../test/integration/world.ts';

/** Emulated durations, in ms of the scaled clock. */
const DELAY = {
  controllers: 2_000,
  infrastructure: 4_000,
  imageCreate: 1_500,
  imageUpload: 1_000,
  imageImport: 3_000,
};
const helmPath = testTool('helm');

/** An images port whose two architectures take `create + upload + import` each, at once or in turn. */
function emulatedImages(parallel: boolean): ImagesPort & { ms: number } {
  const port = {
    ms: 0,
    async ensureImages(request: Parameters<ImagesPort['ensureImages']>[0]) {
      const t0 = performance.now();
      const one = async (arch: string) => {
        await sleep(DELAY.imageCreate, undefined, { signal: request.signal });
        await sleep(DELAY.imageUpload, undefined, { signal: request.signal });
        await sleep(DELAY.imageImport, undefined, { signal: request.signal });
        return [arch, `ocid1.image.oc1.iad.aaaaaaaabench${arch}`] as const;
      };
      const results = parallel
        ? await Promise.all(request.architectures.map(one))
        : await request.architectures.reduce(
            async (acc, arch) => [...(await acc), await one(arch)],
            Promise.resolve([] as Array<readonly [string, string]>),
          );
      port.ms = performance.now() - t0;
      return Object.fromEntries(results);
    },
  };
  return port;
}

const [management, workload] = await Promise.all([
  startControlPlane({ name: 'bench-oci-management' }),
  startControlPlane({ name: 'bench-oci-workload' }),
]);
const work = await mkdtemp(join(tmpdir(), 'ocne-bench-oci-'));
try {
  const mgmt = await connect({ kubeconfig: management.kubeconfig });
  const wl = await connect({ kubeconfig: workload.kubeconfig });
  await Promise.all([ensureCapiCrds(mgmt), ensureCapiCrds(wl)]);
  await prepareWorkload(wl, 'bench-cp-0');
  const repository = await serveChartRepository({
    helmPath,
    charts: await writeTestCharts(join(work, 'charts')),
    workDir: work,
  });
  const player = playControllers({
    clusters: [mgmt, wl],
    workloadKubeconfig: workload.kubeconfig,
    delays: { controllersMs: DELAY.controllers, infrastructureMs: DELAY.infrastructure },
    namespaces: (ns) => ns.startsWith('bench-'),
  });
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  try {
    for (const parallel of [true, false]) {
      const name = parallel ? 'bench-parallel' : 'bench-serial';
      const config = await loadConfig({
        config: `provider: oci\nname: ${name}\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..bench\n    namespace: ${name}\n    controlPlaneShape:\n      shape: VM.Standard.A1.Flex\n    workerShape:\n      shape: VM.Standard.E4.Flex\n`,
        defaults: false,
        home: work,
        env: {},
      });
      const images = emulatedImages(parallel);
      const provider = createOciProvider({
        images,
        catalog: { repoUrl: repository.url },
        helmPath,
        credentials: {
          read: async () => ({ region: 'r', tenancy: 't', user: 'u', fingerprint: 'f', key: 'k' }),
        },
        managementCluster: {
          ensure: async () => ({ kubeconfigPath: management.kubeconfigPath, source: 'config' }),
          release: async () => {},
        },
      });
      const steps = new Map<string, { start: number; end?: number }>();
      const emit = (e: EventInput) => {
        if (e.type !== 'step') return;
        if (e.status === 'started') steps.set(e.step, { start: performance.now() });
        else steps.get(e.step)!.end = performance.now();
      };
      const t0 = performance.now();
      await provider.start!({ config, home: work, env: {}, emit, signal: new AbortController().signal });
      const total = performance.now() - t0;
      // Stages from the step events: the providers (installs and controller waits), the images
      // (the port, at the same time), the infrastructure (the kubeconfig wait), the workload's part.
      const spans = [...steps.entries()];
      const span = (match: (step: string) => boolean) => {
        const hits = spans.filter(([step]) => match(step));
        if (hits.length === 0) return 0;
        return Math.max(...hits.map(([, t]) => t.end ?? t.start)) - Math.min(...hits.map(([, t]) => t.start));
      };
      const providers = span(
        (x) =>
          x.includes('Cluster API Controllers') ||
          /^Installing (cert-manager|core-capi|capoci|bootstrap-capi|control-plane-capi) /.test(x),
      );
      const infrastructure = span((x) => x === 'Waiting for kubeconfig');
      const workloadPart = span(
        (x) =>
          x === 'Waiting for the Kubernetes cluster to be ready' ||
          (x.startsWith('Installing ') && / into (kube-system|kube-flannel|ocne-system)$/.test(x)),
      );
      const serialSum = Math.max(providers, images.ms) + infrastructure + workloadPart;
      console.log(
        `\noci start, images ${parallel ? 'both architectures at once' : 'one after the other (upstream)'}`,
      );
      for (const [step, t] of steps) {
        console.log(`  ${step.padEnd(60)} ${fmt((t.end ?? t.start) - t.start).padStart(8)}`);
      }
      console.log(
        `  stages: providers ${fmt(providers)} | images ${fmt(images.ms)} (alongside the providers) | ` +
          `infrastructure ${fmt(infrastructure)} | workload ${fmt(workloadPart)}`,
      );
      console.log(
        `  total ${fmt(total)}; slowest serial stages max(providers, images) + infrastructure + workload = ${fmt(serialSum)}; ` +
          `in upstream's order (providers, then images, then the rest) ${fmt(providers + images.ms + infrastructure + workloadPart)}`,
      );
      // The next run starts from nothing: the controllers come up again, slowly.
      for (const kubeconfig of [management.kubeconfigPath, workload.kubeconfigPath]) {
        for (const [release, ns] of [
          ['core-capi', 'capi-system'],
          ['capoci', 'cluster-api-provider-oci-system'],
          ['bootstrap-capi', 'capi-kubeadm-bootstrap-system'],
          ['control-plane-capi', 'capi-kubeadm-control-plane-system'],
          ['oci-ccm', 'kube-system'],
        ] as const) {
          await uninstallRelease(release, ns, { helmPath, kubeconfig }).catch(() => undefined);
          await mgmt
            .delete({
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              namespace: ns,
              name: `${release}-controller-manager`,
            })
            .catch(() => undefined);
        }
      }
    }
  } finally {
    await player.stop();
    await repository.close();
  }
} finally {
  await Promise.all([management.stop(), workload.stop()]);
  await rm(work, { recursive: true, force: true });
}
