// libvirt clusters on a private libvirtd with QEMU software emulation and the tiny boot image
// (`pnpm bench`): time from `start` to the first guest printing the Ignition it read from fw_cfg,
// and to `delete` done, for one node (the first run also uploads the base image) and for three;
// and one node whose boot image is pulled (the default source) from the test registry on
// 127.0.0.1 (TLS + Basic auth), extracted and uploaded.
// "3 nodes" is one cluster of a control-plane node and two workers on a node segment (no bridge:
// the QEMU processes meet on a multicast group of the loopback); the workers' join token is made in
// a real kube-apiserver, as the guests run no Kubernetes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { startControlPlane } from '@ocne/test-control-plane';
import { pushTinyOciImage, startLibvirtDaemon, tinyBootImage, waitForGuest } from '@ocne/test-libvirt';
import { startTestRegistry } from '@ocne/test-registry';
import { createLibvirtProvider, joinLibvirtNodes, startLibvirtCluster } from '../src/index.ts';

const image = await tinyBootImage();
const daemon = await startLibvirtDaemon();
const registry = await startTestRegistry({ auth: 'basic' });
const apiServer = await startControlPlane({ name: 'libvirt-bench' });
const work = await mkdtemp(join(tmpdir(), 'ocne-libvirt-bench-'));
try {
  const pulling = createLibvirtProvider({
    registry: { tls: { caFile: registry.pki.caPath } },
    serialLogDir: daemon.logDir,
    kubernetes: false,
  });
  const provider = createLibvirtProvider({
    bootImage: async () => image.path,
    serialLogDir: daemon.logDir,
    kubernetes: false,
  });
  // One home, as one user's: the clusters share ~/.ocne/ips.yaml and so get distinct tunnel ports.
  const home = join(work, 'home');
  // The image the pulling provider starts from: OCK's name is never asked for, only the loopback registry.
  const probe = await loadConfig({ config: 'provider: libvirt\n', defaults: false, home, env: {} });
  const version = probe.cluster.kubernetesVersion;
  const pushed = await pushTinyOciImage(registry, version);
  const pulled = `    bootVolumeName: boot-pulled.qcow2\nbootVolumeContainerImage: ${pushed}\n`;
  const env = { REGISTRY_AUTH_FILE: registry.authFile };
  const context = async (name: string, extra = '') => {
    const text = `provider: libvirt\nname: ${name}\nproviders:\n  libvirt:\n    uri: ${daemon.uri}\n    controlPlaneNode:\n      memory: 524288Ki\n      cpu: 1\n      storage: 2Gi\n${extra}`;
    const config = await loadConfig({ config: text, defaults: false, home, env: {} });
    return { config, home, env, emit: () => {}, signal: new AbortController().signal };
  };

  /**
   * Starts `names` together (or one cluster with `workers` on a node segment); returns ms to the
   * first guest's Ignition, to all of them, and to delete done.
   */
  async function run(
    names: string[],
    how: { extra?: string; provider?: typeof provider; workers?: number } = {},
  ) {
    const contexts = await Promise.all(names.map((n) => context(n, how.extra)));
    const t0 = performance.now();
    const domains = names.map((n) => `${n}-control-plane-1`);
    if (how.workers) {
      // What the provider's start does, without waiting for Kubernetes nodes the guests never run.
      const options = { bootImage: async () => image.path, serialLogDir: daemon.logDir };
      await startLibvirtCluster(contexts[0]!, options);
      const joined = await joinLibvirtNodes(contexts[0]!, options, {
        controlPlaneNodes: 0,
        workerNodes: how.workers,
        kubeconfig: apiServer.kubeconfig,
      });
      domains.push(...joined.domains);
    } else {
      await Promise.all(contexts.map((c) => (how.provider ?? provider).start!(c)));
    }
    const started = performance.now() - t0;
    const read = domains.map((d) =>
      waitForGuest(join(daemon.logDir, `${d}.log`), (r) => r.ignition !== undefined, {
        timeoutMs: 600_000,
      }).then(() => performance.now() - t0),
    );
    const first = await Promise.race(read);
    const all = Math.max(...(await Promise.all(read)));
    const d0 = performance.now();
    await Promise.all(contexts.map((c) => (how.provider ?? provider).delete!(c)));
    const deleted = performance.now() - d0;
    return { started, first, all, deleted, total: performance.now() - t0 };
  }

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log('\nstart -> guest read its Ignition -> delete done (QEMU TCG, tiny boot image)');
  console.log(
    `  ${'case'.padEnd(34)} ${'start()'.padStart(8)} ${'1st read'.padStart(9)} ${'all read'.padStart(9)} ${'delete'.padStart(8)} ${'total'.padStart(8)}`,
  );
  for (const [label, names, how] of [
    ['1 node (uploads the base image)', ['bench-a'], {}],
    ['1 node (base image in the pool)', ['bench-b'], {}],
    [
      '3 nodes (1 + 2 workers, segment)',
      ['bench-c'],
      {
        extra: `    workerNode:\n      memory: 524288Ki\n      cpu: 1\n      storage: 2Gi\n    segment:\n      enabled: true\n`,
        workers: 2,
      },
    ],
    ['1 node (pulls, extracts, uploads)', ['bench-f'], { extra: pulled, provider: pulling }],
  ] as const) {
    const r = await run([...names], how);
    console.log(
      `  ${label.padEnd(34)} ${s(r.started).padStart(8)} ${s(r.first).padStart(9)} ${s(r.all).padStart(9)} ${s(r.deleted).padStart(8)} ${s(r.total).padStart(8)}`,
    );
  }
} finally {
  await apiServer.stop();
  await registry.stop();
  await daemon.stop();
  await rm(work, { recursive: true, force: true });
}
