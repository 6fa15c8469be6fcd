// 20 `ocne cluster start` processes of one name on one home at once: exactly one makes the cluster,
// and the kubeconfig it keeps is the one whose CA is in the Ignition it printed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDataUrlText, type IgnitionConfig } from '@ocne/ignition';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { byoConfig, kubeconfigs, leftovers, ocne } from './cli-process.js';

const home = mkdtempSync(join(tmpdir(), 'ocne-race-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const caOfIgnition = (text: string): string | undefined => {
  const file = (JSON.parse(text) as IgnitionConfig).storage?.files?.find(
    (f) => f.path === '/etc/kubernetes/pki/ca.crt',
  );
  return file?.contents?.source
    ? decodeDataUrlText(file.contents.source, file.contents.compression)
    : undefined;
};

describe('parallel starts of one cluster name', () => {
  it('exactly one succeeds; its kubeconfig’s CA is the CA in the Ignition it printed', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => ocne(home, ['cluster', 'start', '-c', byoConfig])),
    );
    const won = runs.filter((r) => r.status === 0);
    expect(won).toHaveLength(1);
    for (const lost of runs.filter((r) => r.status !== 0)) {
      expect(lost.status).toBe(1);
      expect(lost.stdout).toBe('');
      // Claimed by the winner meanwhile, or recorded by it already (then a second start, which
      // needs the application catalog this test does not give).
      expect(lost.stderr).toMatch(
        /is being started or deleted by process \d+|Cluster demo-byo is running already/,
      );
      expect(lost.stderr).not.toMatch(/ {4}at |Unhandled/);
    }
    const kubeconfig = join(home, '.kube', 'kubeconfig.demo-byo');
    expect(kubeconfigs(home)).toEqual([kubeconfig]);
    const kc = parse(readFileSync(kubeconfig, 'utf8'));
    const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    expect(caOfIgnition(won[0]!.stdout)).toBe(ca);
    expect((await ocne(home, ['cluster', 'list'])).stdout).toBe('demo-byo\n');
    expect(leftovers(home)).toEqual([]);
  }, 180_000);
});
