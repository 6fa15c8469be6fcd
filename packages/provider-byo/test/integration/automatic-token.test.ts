// BYO join with automaticTokenCreation: the token is created in the (real, test) cluster instead
// of being printed as a command.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { decodeDataUrlText } from '@ocne/ignition';
import { connect } from '@ocne/kubernetes';
import { byoJoin } from '@ocne/provider-byo';
import { completeAdminPod } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const { source } = controlPlanesFromInject();

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
    const node = `byo-cp-${process.pid}`;
    await kube.apply([
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node, labels: { 'node-role.kubernetes.io/control-plane': '' } },
      },
    ]);
    // No node name given: it is looked up by the control-plane role label.
    const join = byoJoin({
      config: await config(true),
      kubeconfig: source.kubeconfig,
      role: 'control-plane',
    });
    // Play the kubelet: the admin pod appears on the node; report its container as exited 0.
    const command = await completeAdminPod(kube, node);
    const result = await join;
    expect(command).toEqual([
      'chroot',
      '/hostroot',
      'kubeadm',
      'init',
      'phase',
      'upload-certs',
      '--certificate-key',
      result.certificateKey,
      '--upload-certs',
    ]);
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
    await kube.delete({ apiVersion: 'v1', kind: 'Node', name: node });
  });
});
