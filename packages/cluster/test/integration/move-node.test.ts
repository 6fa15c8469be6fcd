// Cluster.moveNode through the facade and the byo provider, against the real test control planes: a destination that
// was not made by kubeadm is refused before anything changes in either cluster.

import { Cluster } from '@ocne/cluster';
import { connect } from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { describe, expect, it } from 'vitest';

const { source, destination } = controlPlanesFromInject();

describe('Cluster.moveNode', () => {
  it('refuses a destination without kubeadm-config, with a failed step event, changing nothing', async () => {
    const src = await connect({ kubeconfig: source.kubeconfig });
    const dst = await connect({ kubeconfig: destination.kubeconfig });
    const node = `move-facade-${process.pid}`;
    await src.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }]);
    const tokens = async () =>
      (await dst.list('v1', 'Secret', { namespace: 'kube-system' })).items.filter((s) =>
        s.metadata?.name?.startsWith('bootstrap-token-'),
      ).length;
    const before = await tokens();
    // No configuration, as `ocne cluster join -k -d -N` without -c: the byo provider by name.
    const op = Cluster.moveNode({
      provider: 'byo',
      sourceKubeconfigPath: source.kubeconfigPath,
      destinationKubeconfigPath: destination.kubeconfigPath,
      node,
    });
    const error = await op.promise().catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_KUBE_API' });
    expect(error.message).toContain('kubeadm-config');
    expect(op.events.find((e) => e.type === 'step' && e.status === 'failed')).toMatchObject({
      step: 'Reading the source and destination clusters',
    });
    expect(op.events.at(-1)).toMatchObject({ type: 'done', ok: false });
    expect(await tokens()).toBe(before);
    expect(await src.get({ apiVersion: 'v1', kind: 'Node', name: node })).toBeDefined();
    await src.delete({ apiVersion: 'v1', kind: 'Node', name: node });
  });

  it('a kubeconfig that cannot be read is a clear error', async () => {
    // With a configuration: the cluster's own provider.
    const cluster = await Cluster.open({
      config:
        'provider: byo\nname: mover\nvirtualIp: 192.0.2.10\nproviders:\n  byo:\n    networkInterface: eth0\n',
      defaults: false,
      env: {},
    });
    await expect(
      cluster.moveNode({
        sourceKubeconfigPath: '/nonexistent/kubeconfig',
        destinationKubeconfigPath: destination.kubeconfigPath,
        node: 'x',
      }),
    ).rejects.toMatchObject({
      code: 'OCNE_KUBECONFIG_MISSING',
      message: 'cannot read the source kubeconfig /nonexistent/kubeconfig',
    });
  });
});
