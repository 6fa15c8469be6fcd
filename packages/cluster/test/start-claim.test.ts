// Parallel starts and deletes of one name, a start whose Ignition cannot be delivered, and
// cancellation: one claimant makes the cluster, and a failed or cancelled start leaves nothing.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Cluster, ClusterCache } from '@ocne/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const CONFIG =
  'provider: byo\nname: race\nvirtualIp: 10.1.1.1\nproviders:\n  byo:\n    networkInterface: eth0\n';
/** A PID no live process has (the kernel's maximum is lower). */
const DEAD_PID = 2147483646;

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-claim-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const open = () => Cluster.open({ config: CONFIG, home, defaults: false, env: {} });
const kubeconfigPath = () => join(home, '.kube', 'kubeconfig.race');

interface IgnitionFile {
  path: string;
  contents?: { source?: string; compression?: string };
}

/** The CA certificate of an Ignition (byo writes it gzipped, as a base64 data URL), and of the kubeconfig on disk. */
function caOfIgnition(ignition: string): string | undefined {
  const files = (JSON.parse(ignition) as { storage?: { files?: IgnitionFile[] } }).storage?.files;
  const contents = files?.find((f) => f.path === '/etc/kubernetes/pki/ca.crt')?.contents;
  if (contents?.source === undefined) return undefined;
  const bytes = Buffer.from(contents.source.slice(contents.source.indexOf(',') + 1), 'base64');
  return (contents.compression === 'gzip' ? gunzipSync(bytes) : bytes).toString();
}
function caOfKubeconfig(): string {
  const kc = parse(readFileSync(kubeconfigPath(), 'utf8'));
  return Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
}

/** The home holds no lock, no claim, no temp file, and no kubeconfig without its cache entry. */
async function expectConsistent(): Promise<void> {
  const ocne = existsSync(join(home, '.ocne')) ? readdirSync(join(home, '.ocne')) : [];
  expect(ocne.filter((f) => f !== 'clusters.yaml')).toEqual([]);
  const kube = existsSync(join(home, '.kube')) ? readdirSync(join(home, '.kube')) : [];
  const cached = (await new ClusterCache({ home }).list()).map((c) => c.kubeconfig);
  expect(kube.map((f) => join(home, '.kube', f)).sort()).toEqual(cached.sort());
}

describe('Cluster.start of one name, many times at once', () => {
  it('one start makes the cluster; the others make nothing, and the kubeconfig is the winner’s', async () => {
    const clusters = await Promise.all(Array.from({ length: 8 }, open));
    const results = await Promise.allSettled(clusters.map((c) => c.start().promise()));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    // A loser fails with OCNE_CLUSTER_BUSY while the winner holds the name; one that comes after the
    // winner recorded the cluster finds it running and goes on to byo's next step, which needs the
    // catalog this test does not give (on a busy machine the starts spread out enough for that).
    for (const r of results) {
      if (r.status !== 'rejected') continue;
      const { code, message } = r.reason as { code: string; message: string };
      if (code !== 'OCNE_CLUSTER_BUSY') {
        expect(code).toBe('OCNE_CATALOG_MISSING');
        expect(message).toContain('already started');
      }
    }
    const ignition = (won[0] as PromiseFulfilledResult<{ ignition?: string }>).value.ignition!;
    expect(caOfIgnition(ignition)).toBe(caOfKubeconfig());
    expect((await Cluster.list({ home })).map((c) => c.name)).toEqual(['race']);
    await expectConsistent();
  });

  it('a start that finds the name claimed names the claimant and makes nothing', async () => {
    const cache = new ClusterCache({ home });
    const claim = await cache.claim('race');
    try {
      const error = await (await open())
        .start()
        .promise()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'OCNE_CLUSTER_BUSY',
        message: expect.stringMatching(
          new RegExp(`^the cluster race is being started or deleted by process ${process.pid} \\(`),
        ),
      });
      expect(existsSync(kubeconfigPath())).toBe(false);
      expect(
        await (await open())
          .delete()
          .promise()
          .catch((e: unknown) => e),
      ).toMatchObject({
        code: 'OCNE_CLUSTER_BUSY',
      });
    } finally {
      await claim.release();
    }
    expect(readdirSync(join(home, '.ocne'))).toEqual([]);
  });

  it('a claim left by a process that is gone is taken over at once', async () => {
    const cache = new ClusterCache({ home });
    mkdirSync(join(home, '.ocne'), { recursive: true });
    writeFileSync(cache.claimPath('race'), String(DEAD_PID));
    expect(cache.claimPath('race')).toBe(join(home, '.ocne', 'cluster-race.pid'));
    const result = await (await open()).start();
    expect(result.alreadyRunning).toBe(false);
    await expectConsistent();
  });
});

describe('Cluster.start delivers the Ignition before recording the cluster', () => {
  it('hands the Ignition to deliver while nothing is recorded yet', async () => {
    let seen: { ignition: string; listed: string[]; kubeconfig: boolean } | undefined;
    const result = await (await open()).start({
      deliver: async (ignition) => {
        seen = {
          ignition,
          listed: (await Cluster.list({ home })).map((c) => c.name),
          kubeconfig: existsSync(kubeconfigPath()),
        };
      },
    });
    expect(seen).toEqual({ ignition: result.ignition, listed: [], kubeconfig: true });
    expect((await Cluster.list({ home })).map((c) => c.name)).toEqual(['race']);
  });

  it('a delivery that fails records nothing and keeps no kubeconfig; the next start works', async () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const error = await (await open())
      .start({
        deliver: () => {
          throw full;
        },
      })
      .promise()
      .catch((e: unknown) => e);
    expect(error).toBe(full);
    expect(await Cluster.list({ home })).toEqual([]);
    expect(existsSync(kubeconfigPath())).toBe(false);
    await expectConsistent();
    const next = await (await open()).start();
    expect(caOfIgnition(next.ignition!)).toBe(caOfKubeconfig());
  });

  it('a start cancelled while the Ignition is delivered records nothing', async () => {
    const controller = new AbortController();
    const error = await (await open())
      .start({ signal: controller.signal, deliver: () => controller.abort('interrupted') })
      .promise()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_CANCELLED' });
    expect(await Cluster.list({ home })).toEqual([]);
    await expectConsistent();
  });
});

describe('Cluster.delete', () => {
  it('removes the entry and the kubeconfig, and gives the claim up', async () => {
    await (await open()).start();
    await (await open()).delete();
    expect(await Cluster.list({ home })).toEqual([]);
    await expectConsistent();
  });
});
