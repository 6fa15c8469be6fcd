// installCapiProviders against a real kube-apiserver + etcd (the `destination` control plane; no
// controllers run there) with the real helm CLI and tiny stand-in charts (test/fixtures/charts)
// served over http. The test plays the controllers by marking Deployments Available.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type EventInput, isOcneError } from '@ocne/core';
import { uninstallRelease } from '@ocne/kubernetes';
import { type ChartRepository, serveChartRepository } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { testTool } from '@ocne/test-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capiProviderCharts, installCapiProviders, type OciCredentials } from '../../src/index.js';

const { destination } = controlPlanesFromInject();
const charts = fileURLToPath(new URL('../fixtures/charts/', import.meta.url));
const helmPath = testTool('helm');

const KEY = '-----BEGIN PRIVATE KEY-----\nTHIS-IS-A-TEST-KEY-0123456789\n-----END PRIVATE KEY-----\n';
const PASSPHRASE = 'not-a-real-passphrase-42';
const credentials: OciCredentials = {
  region: 'us-ashburn-1',
  tenancy: 'ocid1.tenancy.oc1..test',
  user: 'ocid1.user.oc1..test',
  fingerprint: 'aa:bb:cc',
  key: KEY,
  passphrase: PASSPHRASE,
};
const plans = capiProviderCharts({ credentials });
const controllers = plans.filter((p) => p.deployment !== undefined);
const OCI_DEPLOYMENT = 'cluster-api-provider-oci-system/capoci-controller-manager';

let work: string;
let repository: ChartRepository | undefined;
let apps: AppsV1Api;
let core: CoreV1Api;

/** Plays the CAPI controllers: marks each controller Deployment Available once it exists. */
function playControllers(options: { except?: string } = {}): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const p of controllers) {
        if (`${p.namespace}/${p.deployment}` === options.except) continue;
        try {
          const current = await apps.readNamespacedDeployment({
            name: p.deployment!,
            namespace: p.namespace,
          });
          const available = current.status?.conditions?.some(
            (c) => c.type === 'Available' && c.status === 'True',
          );
          if (available) continue;
          current.status = {
            conditions: [
              { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'test' },
            ],
          };
          await apps.replaceNamespacedDeploymentStatus({
            name: p.deployment!,
            namespace: p.namespace,
            body: current,
          });
        } catch {
          // Not there yet, or a conflict: try again on the next round.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function setUnavailable(namespace: string, name: string): Promise<void> {
  const current = await apps.readNamespacedDeployment({ name, namespace });
  current.status = {
    conditions: [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'test' },
    ],
  };
  await apps.replaceNamespacedDeploymentStatus({ name, namespace, body: current });
}

function collector() {
  const events: EventInput[] = [];
  const steps = () => events.flatMap((e) => (e.type === 'step' ? [`${e.step}:${e.status}`] : []));
  return { events, steps, emit: (e: EventInput) => void events.push(e) };
}

const options = () => ({
  kubeconfigPath: destination.kubeconfigPath,
  catalog: { repoUrl: repository!.url },
  helmPath,
  credentials,
});

const WAITERS = [
  'Waiting for Core Cluster API Controllers',
  'Waiting for Kubadm Boostrap Cluster API Controllers',
  'Waiting for Kubadm Control Plane Cluster API Controllers',
  'Waiting for OCI Cluster API Controllers',
];
const INSTALLS = plans.map((p) => `Installing ${p.release} into ${p.namespace}`);

function expectSteps(steps: string[]): void {
  // Installs one after the other, then the four waiters started in upstream's order, each succeeded.
  expect(steps.slice(0, 10)).toEqual(INSTALLS.flatMap((s) => [`${s}:started`, `${s}:succeeded`]));
  expect(steps.slice(10, 14)).toEqual(WAITERS.map((w) => `${w}:started`));
  expect(steps.slice(14).sort()).toEqual(WAITERS.map((w) => `${w}:succeeded`).sort());
}

function expectNoSecrets(events: EventInput[]): void {
  const text = JSON.stringify(events);
  expect(text).not.toContain('THIS-IS-A-TEST-KEY');
  expect(text).not.toContain('BEGIN PRIVATE KEY');
  expect(text).not.toContain(PASSPHRASE);
}

beforeAll(async () => {
  const config = new KubeConfig();
  config.loadFromString(destination.kubeconfig);
  apps = config.makeApiClient(AppsV1Api);
  core = config.makeApiClient(CoreV1Api);
  work = await mkdtemp(join(tmpdir(), 'ocne-capi-test-'));
  repository = await serveChartRepository({
    helmPath,
    charts: plans.map((p) => join(charts, p.chart)),
    workDir: work,
  });
});

afterAll(async () => {
  for (const p of [...plans].reverse()) {
    await uninstallRelease(p.release, p.namespace, {
      helmPath,
      kubeconfig: destination.kubeconfigPath,
    }).catch(() => undefined);
    // No garbage collector runs on a bare control plane: remove the Deployments (helm did) for sure. The
    // namespaces stay: without a namespace controller a deleted namespace would hang in Terminating.
    await apps.deleteCollectionNamespacedDeployment({ namespace: p.namespace }).catch(() => undefined);
  }
  await repository?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('installCapiProviders', () => {
  it('installs the five charts, then waits for the four controllers with upstream texts', async () => {
    const { events, steps, emit } = collector();
    const player = playControllers();
    try {
      await installCapiProviders({ ...options(), emit, timeoutMs: 30_000 });
    } finally {
      await player.stop();
    }
    expectSteps(steps());
    expectNoSecrets(events);

    const cm = await core.readNamespacedConfigMap({
      name: 'capoci-values',
      namespace: 'cluster-api-provider-oci-system',
    });
    expect(JSON.parse(cm.data?.['values.json'] ?? '{}')).toEqual({
      authConfig: {
        fingerprint: 'aa:bb:cc',
        key: KEY,
        passphrase: PASSPHRASE,
        region: 'us-ashburn-1',
        tenancy: 'ocid1.tenancy.oc1..test',
        useInstancePrincipal: 'false',
        user: 'ocid1.user.oc1..test',
      },
      proxy: { httpsProxy: '', httpProxy: '', noProxy: '' },
    });
    const coreValues = await core.readNamespacedConfigMap({
      name: 'core-capi-values',
      namespace: 'capi-system',
    });
    expect(JSON.parse(coreValues.data?.['values.json'] ?? '{}')).toEqual({
      proxy: { httpsProxy: '', httpProxy: '', noProxy: '' },
    });
  });

  it('skips every existing release on a second run', async () => {
    const { events, steps, emit } = collector();
    await installCapiProviders({ ...options(), emit, timeoutMs: 10_000 });
    expectSteps(steps());
    const skipped = events.flatMap((e) =>
      e.type === 'log' && e.message.includes('already exists') ? [e.message] : [],
    );
    expect(skipped).toHaveLength(5);
    expectNoSecrets(events);
  });

  it('fails with OCNE_CAPI_CONTROLLERS_UNAVAILABLE naming the deployment that never became available', async () => {
    await setUnavailable('cluster-api-provider-oci-system', 'capoci-controller-manager');
    const { events, steps, emit } = collector();
    const error = await installCapiProviders({ ...options(), emit, timeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOcneError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('OCNE_CAPI_CONTROLLERS_UNAVAILABLE');
    expect((error as Error).message).toBe(
      `Not all Cluster API controllers became available: deployment ${OCI_DEPLOYMENT} not available`,
    );
    expect(steps()).toContain('Waiting for OCI Cluster API Controllers:failed');
    for (const w of WAITERS.slice(0, 3)) expect(steps()).toContain(`${w}:succeeded`);
    expectNoSecrets(events);
  });
});
