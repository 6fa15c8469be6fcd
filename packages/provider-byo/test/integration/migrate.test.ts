// Moving a node between two real control planes (kube-apiserver + etcd, no kubelet): the test
// plays the kubelet of the admin pods, and decodes the node script they would run.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { migrateNode } from '@ocne/provider-byo';
import { completeAdminPod } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const { source, destination } = controlPlanesFromInject();

const PID = process.pid;
const DEST_CP = `mig-dest-cp-${PID}`;
const APISERVER_POD = `kube-apiserver-mig-${PID}`;

let src: KubeClient;
let dst: KubeClient;

/** The files the node script writes: path → [mode, text]. */
function scriptFiles(script: string): Map<string, { mode: string; text: string }> {
  const files = new Map<string, { mode: string; text: string }>();
  for (const match of script.matchAll(/^put '?([^' ]+)'? (\d+) '([A-Za-z0-9+/=]*)'$/gm)) {
    files.set(match[1]!, { mode: match[2]!, text: Buffer.from(match[3]!, 'base64').toString('utf8') });
  }
  return files;
}

interface JoinDocument {
  kind: string;
  controlPlane?: { localAPIEndpoint: { bindPort: number }; certificateKey?: string };
  discovery: { bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes?: string[] } };
}

function joinConfiguration(script: string): JoinDocument {
  const text = scriptFiles(script).get('/etc/kubernetes/kubeadm.conf')!.text;
  return parseAllDocuments(text)[0]!.toJS() as JoinDocument;
}

async function sourceNode(name: string): Promise<void> {
  await src.apply([{ apiVersion: 'v1', kind: 'Node', metadata: { name } }]);
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

beforeAll(async () => {
  src = await connect({ kubeconfig: source.kubeconfig });
  dst = await connect({ kubeconfig: destination.kubeconfig });
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
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: DEST_CP, labels: { 'node-role.kubernetes.io/control-plane': '' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: APISERVER_POD, namespace: 'kube-system', labels: { component: 'kube-apiserver' } },
      spec: {
        nodeName: DEST_CP,
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

afterAll(async () => {
  // The destination is shared with other test files: leave it as it was.
  await Promise.all([
    dst?.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubeadm-config' }),
    // No kubelet confirms a graceful deletion of a pod bound to a node: delete it at once.
    dst?.config
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: APISERVER_POD, namespace: 'kube-system', gracePeriodSeconds: 0 }),
    dst?.delete({ apiVersion: 'v1', kind: 'Node', name: DEST_CP }),
  ]);
});

describe('migrateNode', () => {
  it('moves a worker: an IPv6 endpoint, a token in the destination, the node gone from the source', async () => {
    const node = `mig-w-${PID}`;
    await sourceNode(node);
    const steps: string[] = [];
    const moving = migrateNode({
      sourceKubeconfig: source.kubeconfig,
      destinationKubeconfig: destination.kubeconfig,
      node,
      role: 'worker',
      emit: (e) => {
        if (e.type === 'step') steps.push(`${e.step}:${e.status}`);
      },
    });
    const [command, result] = await Promise.all([completeAdminPod(src, node), moving]);
    expect(result.endpoint).toBe('[fd00::20]:6443');
    expect(result.certificateKey).toBeUndefined();
    expect(command.slice(0, 2)).toEqual(['sh', '-c']);
    const script = command[2]!;
    expect(script).not.toContain(result.token);
    const join = joinConfiguration(script);
    expect(join.kind).toBe('JoinConfiguration');
    expect(join.controlPlane).toBeUndefined();
    expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe('[fd00::20]:6443');
    expect(join.discovery.bootstrapToken.token).toBe(result.token);
    expect(join.discovery.bootstrapToken.caCertHashes).toHaveLength(1);
    expect(scriptFiles(script).get('/etc/kubernetes/kubeadm.conf')!.mode).toBe('0600');
    expect(script).toContain('kubeadm.conf.bak');
    expect(script).toContain('Environment=ACTION=join');
    expect(script).toContain('touch /etc/ocne/reset-kubeadm');
    expect(script.trimEnd().endsWith('chroot /hostroot systemctl restart ocne')).toBe(true);
    expect(script).not.toContain('keepalived');
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
    const node = `mig-cp-${PID}`;
    await sourceNode(node);
    const moving = migrateNode({
      sourceKubeconfig: source.kubeconfig,
      destinationKubeconfig: destination.kubeconfig,
      node,
      role: 'control-plane',
      virtualIp: 'fd00::20',
      netInterface: 'ens3',
    });
    const kubelet = (async () => {
      const upload = await completeAdminPod(dst, DEST_CP);
      const script = await completeAdminPod(src, node);
      return { upload, script };
    })();
    const [pods, result] = await Promise.all([kubelet, moving]);
    expect(result.certificateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(pods.upload).toEqual([
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
    const script = pods.script[2]!;
    const files = scriptFiles(script);
    expect(files.has('/etc/keepalived/keepalived.conf')).toBe(false);
    expect(files.has('/etc/ocne/nginx/nginx.conf')).toBe(false);
    expect(files.get('/etc/keepalived/check_apiserver.sh')).toMatchObject({ mode: '0755' });
    expect(files.get('/etc/keepalived/check_apiserver.sh')!.text).toContain('VIP=fd00::20');
    expect(files.has('/etc/ocne/nginx/start_ocne_nginx')).toBe(true);
    expect(files.get('/etc/systemd/system/ocne-nginx.service')!.text).toContain(
      'ExecStart=/etc/ocne/nginx/start_ocne_nginx',
    );
    expect(files.has('/etc/systemd/system/keepalived-refresh.path')).toBe(true);
    expect(script).toContain("systemctl enable --now 'ocne-nginx.service'");
    expect(script).toContain("systemctl enable --now 'keepalived.service'");
    const join = joinConfiguration(script);
    expect(join.controlPlane!.localAPIEndpoint.bindPort).toBe(6444);
    expect(join.controlPlane!.certificateKey).toBe(result.certificateKey);
    expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe('[fd00::20]:6443');
    expect(await src.get({ apiVersion: 'v1', kind: 'Node', name: node })).toBeUndefined();
    expect(await adminPodsLeft(src, node)).toBe(0);
    expect(await adminPodsLeft(dst, DEST_CP)).toBe(0);
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
