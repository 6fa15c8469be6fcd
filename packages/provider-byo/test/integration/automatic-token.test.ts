// BYO join with automaticTokenCreation: the token is created in the (real, test) cluster instead
// of being printed as a command; a control-plane join uploads the certificates from an admin pod
// that really runs on the test node, with a test double of kubeadm on the node's PATH.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { decodeDataUrlText } from '@ocne/ignition';
import { connect } from '@ocne/kubernetes';
import { byoJoin } from '@ocne/provider-byo';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const { source } = controlPlanesFromInject();
const testNode = testNodeFromInject();

async function config(automatic: boolean) {
  const home = mkdtempSync(join(tmpdir(), 'ocne-byo-auto-'));
  try {
    const text = `provider: byo\nname: auto\nvirtualIp: 10.9.9.9\nproviders:\n  byo:\n    networkInterface: eth0\n    automaticTokenCreation: ${automatic}\n`;
    return (await loadConfig({ config: text, defaults: false, home, env: {} })).cluster;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('byo join with automaticTokenCreation', () => {
  it('creates the worker token in the cluster, with kubeadm defaults, and prints no command', async () => {
    const steps: string[] = [];
    const result = await byoJoin({
      config: await config(true),
      kubeconfig: source.kubeconfig,
      role: 'worker',
      emit: (e) => e.type === 'step' && steps.push(`${e.step}:${e.status}`),
    });
    expect(result.commands).toEqual([]);
    expect(steps).toEqual(['Creating join token:started', 'Creating join token:succeeded']);
    const [id, secret] = result.token.split('.');
    const kube = await connect({ kubeconfig: source.kubeconfig });
    const stored = await kube.get<{ apiVersion: string; kind: string; data: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'kube-system',
      name: `bootstrap-token-${id}`,
    });
    expect(Buffer.from(stored!.data['token-secret']!, 'base64').toString()).toBe(secret);
    // The join configuration carries the same token and this cluster's CA pin.
    const file = result.ignition.storage?.files?.find((f) => f.path === '/etc/kubernetes/kubeadm.conf');
    const conf = parse(decodeDataUrlText(file!.contents!.source!, file!.contents!.compression)!);
    expect(conf.discovery.bootstrapToken.token).toBe(result.token);
    expect(conf.discovery.bootstrapToken.caCertHashes).toHaveLength(1);
  });

  it('a control-plane join uploads the certificates from an admin pod on the first control-plane node', async () => {
    const kube = await connect({ kubeconfig: source.kubeconfig });
    const node = testNode.name;
    const work = mkdtempSync(join(tmpdir(), 'ocne-byo-upload-'));
    const kubeadm = join(testNode.binDir, 'kubeadm');
    // The real node, with the control-plane role for this test; kubeadm records its arguments.
    writeFileSync(kubeadm, `#!/bin/sh\necho "$@" > ${work}/kubeadm.args\n`, { mode: 0o755 });
    const label = (value: string | null) =>
      kube.rest().call('PATCH', `/api/v1/nodes/${node}`, {
        body: { metadata: { labels: { 'node-role.kubernetes.io/control-plane': value } } },
        merge: true,
        doing: `labelling node ${node}`,
      });
    await label('');
    let result: Awaited<ReturnType<typeof byoJoin>>;
    try {
      // No node name given: it is looked up by the control-plane role label.
      result = await byoJoin({
        config: await config(true),
        kubeconfig: source.kubeconfig,
        role: 'control-plane',
      });
      expect(readFileSync(join(work, 'kubeadm.args'), 'utf8')).toBe(
        `init phase upload-certs --certificate-key ${result.certificateKey} --upload-certs\n`,
      );
    } finally {
      await label(null);
      rmSync(kubeadm, { force: true });
      rmSync(work, { recursive: true, force: true });
    }
    expect(result.commands).toEqual([]);
    const [id] = result.token.split('.');
    expect(
      await kube.get({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'kube-system',
        name: `bootstrap-token-${id}`,
      }),
    ).toBeDefined();
    const { items: left } = await kube.list('v1', 'Pod', {
      namespace: 'ocne-system',
      labelSelector: 'app.kubernetes.io/managed-by=ocne',
    });
    expect(left.filter((p) => (p as { spec?: { nodeName?: string } }).spec?.nodeName === node)).toEqual([]);
  });
});
