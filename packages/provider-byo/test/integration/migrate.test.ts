// Moving a node between two real control planes, each with a real test node (containerd +
// kubelet): the admin pods run for real. The node script writes into the node's /etc, which the
// test node keeps in an overlay (`hostWrites`), so the test reads what the script wrote there;
// `kubeadm` and `systemctl` on the node are test doubles that record their arguments.
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { migrateNode } from '@ocne/provider-byo';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const { source, destination } = controlPlanesFromInject();
const sourceNode = testNodeFromInject('source');
const destinationNode = testNodeFromInject('destination');

const PID = process.pid;
const APISERVER_POD = `kube-apiserver-mig-${PID}`;
const CP_LABEL = 'node-role.kubernetes.io/control-plane';

let src: KubeClient;
let dst: KubeClient;
let work: string;

/** A file the node script wrote into the source node's /etc: its text and mode. */
async function written(path: string): Promise<{ text: string; mode: string }> {
  const file = join(sourceNode.hostWrites.etc, path.replace(/^\/etc\//, ''));
  const text = await readFile(file, 'utf8');
  return { text, mode: `0${(statSync(file).mode & 0o777).toString(8)}` };
}

const exists = (path: string): boolean => {
  try {
    statSync(join(sourceNode.hostWrites.etc, path.replace(/^\/etc\//, '')));
    return true;
  } catch {
    return false;
  }
};

interface JoinDocument {
  kind: string;
  controlPlane?: { localAPIEndpoint: { bindPort: number }; certificateKey?: string };
  discovery: { bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes?: string[] } };
}

async function joinConfiguration(): Promise<JoinDocument> {
  const { text } = await written('/etc/kubernetes/kubeadm.conf');
  return parseAllDocuments(text)[0]!.toJS() as JoinDocument;
}

async function bootstrapTokenCount(): Promise<number> {
  const { items } = await dst.list('v1', 'Secret', { namespace: 'kube-system' });
  return items.filter((s) => s.metadata?.name?.startsWith('bootstrap-token-')).length;
}

async function adminPodsLeft(kube: KubeClient, node: string): Promise<number> {
  const { items } = await kube.list<V1Pod>('v1', 'Pod', {
    namespace: 'ocne-system',
    labelSelector: 'app.kubernetes.io/managed-by=ocne',
  });
  return items.filter((p) => p.spec?.nodeName === node).length;
}

const label = (kube: KubeClient, node: string, value: string | null) =>
  kube.rest().call('PATCH', `/api/v1/nodes/${node}`, {
    body: { metadata: { labels: { [CP_LABEL]: value } } },
    merge: true,
    doing: `labelling node ${node}`,
  });

/** The doubles' record of what ran: `kubeadm …` and `systemctl …` lines. */
const ran = async (): Promise<string[]> =>
  (await readFile(join(work, 'ran'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

beforeAll(async () => {
  src = await connect({ kubeconfig: source.kubeconfig });
  dst = await connect({ kubeconfig: destination.kubeconfig });
  work = await mkdtemp(join(tmpdir(), 'ocne-migrate-'));
  for (const [node, tool] of [
    [destinationNode, 'kubeadm'],
    [sourceNode, 'systemctl'],
  ] as const) {
    await writeFile(join(node.binDir, tool), `#!/bin/sh\necho "${tool} $*" >> ${work}/ran\n`, {
      mode: 0o755,
    });
  }
  await dst.apply([
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
      data: {
        ClusterConfiguration:
          'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: "[fd00::20]:6443"\n',
      },
    } as never,
    // Read for its --secure-port only: bound to a node that does not exist, so that no kubelet runs it.
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: APISERVER_POD, namespace: 'kube-system', labels: { component: 'kube-apiserver' } },
      spec: {
        nodeName: `mig-dest-cp-${PID}`,
        containers: [
          {
            name: 'kube-apiserver',
            image: 'registry.k8s.io/kube-apiserver:v1.33.0',
            command: ['kube-apiserver', '--advertise-address=fd00::21', '--secure-port=6444'],
          },
        ],
      },
    } as never,
  ]);
});

afterEach(async () => {
  await rm(join(work, 'ran'), { force: true });
  // What the scripts wrote stays in the node's /etc overlay (an overlay's upper folder must not
  // change under it): the tests check files the other one does not write.
  // A move deletes the Node from the source: give the test node its Node back (its kubelet fills
  // in the status again) for the tests that come after.
  if ((await src.get({ apiVersion: 'v1', kind: 'Node', name: sourceNode.name })) === undefined) {
    await src.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name: sourceNode.name } }], {
      mode: 'create',
    });
    await src.waitFor<{ kind?: string; status?: { conditions?: { type: string; status: string }[] } }>(
      { apiVersion: 'v1', kind: 'Node', name: sourceNode.name },
      (nodes) =>
        nodes[0]?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
      { timeoutMs: 30_000 },
    );
  }
});

afterAll(async () => {
  // The destination is shared with other test files: leave it as it was.
  await Promise.all([
    dst?.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubeadm-config' }),
    // No kubelet confirms a graceful deletion of a pod bound to a node: delete it at once.
    dst?.config
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: APISERVER_POD, namespace: 'kube-system', gracePeriodSeconds: 0 }),
    rm(join(destinationNode.binDir, 'kubeadm'), { force: true }),
    rm(join(sourceNode.binDir, 'systemctl'), { force: true }),
  ]);
  await rm(work, { recursive: true, force: true });
});

describe('migrateNode', () => {
  it('moves a worker: an IPv6 endpoint, a token in the destination, the join configuration on the node, the node gone from the source', async () => {
    const node = sourceNode.name;
    const steps: string[] = [];
    const result = await migrateNode({
      sourceKubeconfig: source.kubeconfig,
      destinationKubeconfig: destination.kubeconfig,
      node,
      role: 'worker',
      emit: (e) => {
        if (e.type === 'step') steps.push(`${e.step}:${e.status}`);
      },
    });
    expect(result.endpoint).toBe('[fd00::20]:6443');
    expect(result.certificateKey).toBeUndefined();
    const join = await joinConfiguration();
    expect(join.kind).toBe('JoinConfiguration');
    expect(join.controlPlane).toBeUndefined();
    expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe('[fd00::20]:6443');
    expect(join.discovery.bootstrapToken.token).toBe(result.token);
    expect(join.discovery.bootstrapToken.caCertHashes).toHaveLength(1);
    expect((await written('/etc/kubernetes/kubeadm.conf')).mode).toBe('0600');
    expect((await written('/etc/systemd/system/ocne.service.d/bootstrap.conf')).text).toContain(
      'Environment=ACTION=join',
    );
    expect(exists('/etc/ocne/reset-kubeadm')).toBe(true);
    expect(exists('/etc/keepalived')).toBe(false);
    // The services are reloaded and the node's bootstrap service restarted, last.
    expect(await ran()).toEqual(['systemctl daemon-reload', 'systemctl restart ocne']);
    const [id, secret] = result.token.split('.');
    const stored = await dst.get<{ apiVersion: string; kind: string; data: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'kube-system',
      name: `bootstrap-token-${id}`,
    });
    expect(Buffer.from(stored!.data['token-secret']!, 'base64').toString()).toBe(secret);
    expect(await src.get({ apiVersion: 'v1', kind: 'Node', name: node })).toBeUndefined();
    expect(await adminPodsLeft(src, node)).toBe(0);
    expect(steps).toContain('Creating join token:succeeded');
    expect(steps).toContain(`Moving node ${node} to the destination cluster:succeeded`);
    // The script (it holds the token) is not in any event.
    expect(steps.join('\n')).not.toContain(secret);
  });

  it('moves a control-plane node: certificates uploaded in the destination, the VIP stack without its configs', async () => {
    const node = sourceNode.name;
    await label(dst, destinationNode.name, '');
    let result: Awaited<ReturnType<typeof migrateNode>>;
    try {
      result = await migrateNode({
        sourceKubeconfig: source.kubeconfig,
        destinationKubeconfig: destination.kubeconfig,
        node,
        role: 'control-plane',
        virtualIp: 'fd00::20',
        netInterface: 'ens3',
      });
    } finally {
      await label(dst, destinationNode.name, null);
    }
    expect(result.certificateKey).toMatch(/^[0-9a-f]{64}$/);
    const commands = await ran();
    // The upload ran on the destination's control-plane node, before the node script.
    expect(commands[0]).toBe(
      `kubeadm init phase upload-certs --certificate-key ${result.certificateKey} --upload-certs`,
    );
    expect(commands).toContain('systemctl enable --now ocne-nginx.service');
    expect(commands).toContain('systemctl enable --now keepalived.service');
    expect(commands.at(-1)).toBe('systemctl restart ocne');
    expect(exists('/etc/keepalived/keepalived.conf')).toBe(false);
    expect(exists('/etc/ocne/nginx/nginx.conf')).toBe(false);
    const check = await written('/etc/keepalived/check_apiserver.sh');
    expect(check.mode).toBe('0755');
    expect(check.text).toContain('VIP=fd00::20');
    expect(exists('/etc/ocne/nginx/start_ocne_nginx')).toBe(true);
    expect((await written('/etc/systemd/system/ocne-nginx.service')).text).toContain(
      'ExecStart=/etc/ocne/nginx/start_ocne_nginx',
    );
    expect(exists('/etc/systemd/system/keepalived-refresh.path')).toBe(true);
    const join = await joinConfiguration();
    expect(join.controlPlane!.localAPIEndpoint.bindPort).toBe(6444);
    expect(join.controlPlane!.certificateKey).toBe(result.certificateKey);
    expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe('[fd00::20]:6443');
    expect(await src.get({ apiVersion: 'v1', kind: 'Node', name: node })).toBeUndefined();
    expect(await adminPodsLeft(src, node)).toBe(0);
    expect(await adminPodsLeft(dst, destinationNode.name)).toBe(0);
  });

  it('a node missing from the source is an error, and nothing is created in the destination', async () => {
    const before = await bootstrapTokenCount();
    const error = await migrateNode({
      sourceKubeconfig: source.kubeconfig,
      destinationKubeconfig: destination.kubeconfig,
      node: `mig-missing-${PID}`,
      role: 'worker',
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_MIGRATE_NODE_NOT_FOUND' });
    expect(error.message).toContain(`mig-missing-${PID}`);
    expect(await bootstrapTokenCount()).toBe(before);
  });

  it('a virtual IP without a network interface is refused before anything changes', async () => {
    const error = await migrateNode({
      sourceKubeconfig: source.kubeconfig,
      destinationKubeconfig: destination.kubeconfig,
      node: `mig-novip-${PID}`,
      role: 'control-plane',
      virtualIp: '10.0.0.9',
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_CONFIG_MISSING' });
  });
});
