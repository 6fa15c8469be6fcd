// `oci start` without a management cluster, on the real default ephemeral port: no kubeconfig and
// no KUBECONFIG, so `libvirtEphemeralCluster` loads the real `@ocne/provider-libvirt` (no module
// fake), whose `ensureEphemeralCluster` makes the ephemeral VM on the project's private libvirtd
// from the tiny test boot image; its guest reads exactly the SDK's Ignition (the sha256 on its
// serial console). A guest here cannot run Kubernetes, so the ephemeral cluster's Kubernetes side
// is a test control plane this test starts (the libvirt provider's `kubernetes.kubeconfigPath`):
// the provider waits for its node (played when the guest has read its Ignition) and installs its
// applications there, and the oci start goes on there as the integration start tests do (played
// Cluster API controllers, test charts, a second control plane as the workload cluster). The
// cluster is not self-managed, so the ephemeral cluster is kept; the test then deletes it through
// the port and checks that nothing of it is left on the daemon.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@ocne/config';
import type { EventInput } from '@ocne/core';
import { decodeDataUrlText, parseIgnition } from '@ocne/ignition';
import { connect, listReleases } from '@ocne/kubernetes';
import { serveChartRepository, startControlPlane } from '@ocne/test-control-plane';
import { waitForGuest } from '@ocne/test-libvirt';
import { libvirtFromInject } from '@ocne/test-libvirt/vitest';
import { testTool } from '@ocne/test-tools';
import { describe, expect, it } from 'vitest';
import { createOciProvider, libvirtEphemeralCluster } from '../../src/index.js';
import {
  capiObjects,
  ensureCapiCrds,
  playControllers,
  prepareWorkload,
  writeOciProfile,
  writeTestCharts,
} from '../integration/world.ts';

const libvirt = libvirtFromInject();
const helmPath = testTool('helm');
const virsh = async (...args: string[]) =>
  (await promisify(execFile)('virsh', ['-q', '-c', libvirt.uri, ...args])).stdout.trimEnd();
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const EPHEMERAL = 'ocieph';
const DOMAIN = `${EPHEMERAL}-control-plane-1`;
const NAME = `ocieph-target-${process.pid % 10_000}`;
const NAMESPACE = `ocne-oci-eph-${process.pid}`;
const WORKLOAD_NODE = `oci-eph-workload-cp-${process.pid}`;
/** Waits on a controller or the VM get at least 120 s (the full run shares two cores with QEMU). */
const WAIT_MS = 180_000;

/** The domains and pool files of the ephemeral cluster. */
async function leftovers(): Promise<string[]> {
  const domains = (await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(EPHEMERAL));
  const files = (await readdir(libvirt.pool.path)).filter((f) => f.startsWith(EPHEMERAL));
  return [...domains, ...files];
}

/** A home with an OCI configuration and a target cluster whose image OCIDs are given (no images port). */
async function target(work: string) {
  const home = await mkdtemp(join(work, 'home-'));
  await writeOciProfile(home);
  // The libvirt section is what the ephemeral cluster inherits: the private daemon.
  const text = `provider: oci\nname: ${NAME}\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..test\n    namespace: ${NAMESPACE}\n    selfManaged: false\n    controlPlaneShape:\n      shape: VM.Standard.A1.Flex\n      ocpus: 2\n    workerShape:\n      shape: VM.Standard.E4.Flex\n      ocpus: 1\n    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaconfiguredamd64\n      arm64: ocid1.image.oc1.iad.aaaaaaaaconfiguredarm64\n  libvirt:\n    uri: ${libvirt.uri}\n`;
  await writeFile(join(home, 'capi.yaml'), text);
  const config = await loadConfig({
    configPath: join(home, 'capi.yaml'),
    // A node the tiny guest boots in under TCG (upstream's default asks for far more).
    defaults: { ephemeralCluster: { name: EPHEMERAL, node: { memory: '524288Ki', cpu: 1, storage: '2Gi' } } },
    home,
    env: {},
  });
  return { home, config };
}

describe('oci start on the ephemeral cluster of the real libvirt provider', () => {
  it('makes the ephemeral VM from the test image, runs the start on its Kubernetes side, keeps it, and the port deletes it', async () => {
    const started = Date.now();
    const work = await mkdtemp(join(tmpdir(), 'ocne-oci-eph-'));
    // The ephemeral cluster's Kubernetes side and the workload cluster.
    await using management = await startControlPlane({ name: 'oci-eph-management' });
    await using workloadPlane = await startControlPlane({ name: 'oci-eph-workload' });
    const mgmt = await connect({ kubeconfigPath: management.kubeconfigPath });
    const workload = await connect({ kubeconfigPath: workloadPlane.kubeconfigPath });
    await Promise.all([ensureCapiCrds(mgmt), ensureCapiCrds(workload)]);
    await prepareWorkload(workload, WORKLOAD_NODE);
    const charts = await writeTestCharts(join(work, 'charts'));
    // The libvirt provider installs upstream's ha-config too: a stand-in that echoes its values.
    const haMonitor = join(work, 'charts', 'ocne-ha-monitor');
    await mkdir(join(haMonitor, 'templates'), { recursive: true });
    await writeFile(
      join(haMonitor, 'Chart.yaml'),
      'apiVersion: v2\nname: ocne-ha-monitor\ndescription: a test stand-in\ntype: application\nversion: 0.1.0\n',
    );
    await writeFile(
      join(haMonitor, 'templates', 'values.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-values\n  namespace: {{ .Release.Namespace }}\ndata:\n  values: {{ toJson .Values | quote }}\n',
    );
    const repository = await serveChartRepository({
      helmPath,
      charts: [...charts, haMonitor],
      workDir: work,
      prefix: 'catalog',
    });
    const playerErrors: string[] = [];
    const player = playControllers({
      clusters: [mgmt, workload],
      workloadKubeconfig: workloadPlane.kubeconfig,
      namespaces: (ns) => ns === NAMESPACE,
      onError: (error) => playerErrors.push(String(error)),
    });
    const { home, config } = await target(work);
    const events: EventInput[] = [];
    const request = {
      config,
      home,
      env: {},
      emit: (e: EventInput) => void events.push(e),
      signal: new AbortController().signal,
    };
    // The real default port: it loads the real @ocne/provider-libvirt.
    const ephemeral = libvirtEphemeralCluster({
      catalog: { repoUrl: repository.url },
      helmPath,
      provider: {
        bootImage: async () => libvirt.bootImage,
        serialLogDir: libvirt.logDir,
        kubernetes: { kubeconfigPath: management.kubeconfigPath, timeoutMs: WAIT_MS },
      },
    });
    const stopGuestWait = new AbortController();
    try {
      const provider = createOciProvider({
        catalog: { repoUrl: repository.url },
        helmPath,
        ephemeral,
        timeouts: {
          controllersMs: WAIT_MS,
          kubeconfigMs: WAIT_MS,
          clusterReadyMs: WAIT_MS,
          moveMs: WAIT_MS,
          deleteMs: WAIT_MS,
        },
      });
      // The node registers once the guest has booted and read its Ignition, as a real one's kubelet does.
      const guest = waitForGuest(join(libvirt.logDir, `${DOMAIN}.log`), (r) => r.ignition !== undefined, {
        timeoutMs: WAIT_MS,
        signal: stopGuestWait.signal,
      }).then(async (report) => {
        await prepareWorkload(mgmt, DOMAIN);
        return report;
      });
      const [result, report] = await Promise.all([provider.start!(request), guest]);
      expect(result.kubeconfig, playerErrors.join('\n')).toBe(workloadPlane.kubeconfig);

      // The ephemeral VM: the guest read exactly the Ignition the SDK put in the pool for it.
      const volume = await readFile(join(libvirt.pool.path, `${DOMAIN}-init.ign`));
      expect(report.ignition).toEqual({ size: volume.length, sha256: sha256(volume) });
      const ignition = parseIgnition(volume.toString('utf8'), { source: 'pool volume' });
      const hostname = ignition.storage?.files?.find((f) => f.path === '/etc/hostname')?.contents;
      expect(decodeDataUrlText(hostname?.source ?? '', hostname?.compression)).toBe(DOMAIN);
      expect(await virsh('dumpxml', DOMAIN)).toContain("<memory unit='KiB'>524288</memory>");

      // Its Kubernetes side got the libvirt provider's applications, then the Cluster API providers,
      // and holds the cluster's objects (not self-managed: they stay in the management cluster).
      const releases = (await listReleases({ helmPath, kubeconfig: management.kubeconfigPath })).map(
        (r) => r.name,
      );
      expect(releases).toEqual(
        expect.arrayContaining(['core-dns', 'kube-proxy', 'flannel', 'ha-config', 'core-capi', 'capoci']),
      );
      expect(await capiObjects(mgmt, NAMESPACE)).toEqual(expect.arrayContaining([`Cluster/${NAME}`]));
      expect(await capiObjects(workload, NAMESPACE)).toEqual([]);
      const steps = events.flatMap((e) => (e.type === 'step' && e.status === 'started' ? [e.step] : []));
      expect(steps.indexOf('Installing flannel into kube-flannel')).toBeLessThan(
        steps.indexOf('Installing core-capi into capi-system'),
      );

      // Kept: the domain is there and runs, unless the tiny guest already powered itself off (it
      // does after its listener's 60 s), which its serial console then says.
      expect(await leftovers()).toEqual(
        expect.arrayContaining([DOMAIN, `${DOMAIN}.qcow2`, `${DOMAIN}-init.ign`]),
      );
      const state = (await virsh('domstate', DOMAIN)).trim();
      if (state !== 'running') {
        const log = await readFile(join(libvirt.logDir, `${DOMAIN}.log`), 'latin1');
        expect(log, `domain state ${state}`).toContain('OCNE-TEST poweroff');
      }

      // The port deletes it: no domain, disk, Ignition volume or NVRAM of it is left.
      await ephemeral.delete(request);
      expect(await leftovers()).toEqual([]);
      expect(await virsh('vol-list', 'images')).not.toContain(EPHEMERAL);
      const nvram = join(libvirt.dir, 'config', 'libvirt', 'qemu', 'nvram');
      expect((await readdir(nvram).catch(() => [])).filter((f) => f.startsWith(EPHEMERAL))).toEqual([]);
      console.info(`oci start on the ephemeral libvirt cluster and its delete: ${Date.now() - started} ms`);
    } finally {
      stopGuestWait.abort();
      await player.stop();
      await ephemeral.delete(request).catch(() => {});
      await repository.close();
      await rm(work, { recursive: true, force: true });
    }
  }, 600_000);
});
