// Node Ignition for init, worker join and control-plane join: checked against the Ignition 3.4
// schema, the real ignition-validate, bash's parser for every script, the kubeadm field names,
// and golden files (decoded, so the data-URL encoding does not matter).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { decoded, ignitionValidate, schemaErrors } from '@ocne/test-ignition';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { serializeIgnition } from '../src/builder.js';
import { translateButane } from '../src/butane.js';
import { decodeDataUrlText } from '../src/data-url.js';
import {
  type ClusterNodeInput,
  clusterNodeInput,
  initNodeIgnition,
  joinNodeIgnition,
  proxyDropin,
} from '../src/node.js';
import type { IgnitionConfig } from '../src/spec.js';

const CA_CERT = '-----BEGIN CERTIFICATE-----\nTEST-CA\n-----END CERTIFICATE-----\n';
const CA_KEY = '-----BEGIN RSA PRIVATE KEY-----\nTEST-KEY\n-----END RSA PRIVATE KEY-----\n';
const CERT_KEY = 'a'.repeat(64);
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'b'.repeat(64)}`;

async function nodeInput(
  yaml: string,
  options: Parameters<typeof clusterNodeInput>[1] = {},
): Promise<ClusterNodeInput> {
  const home = mkdtempSync(join(tmpdir(), 'ocne-node-'));
  try {
    const { cluster } = await loadConfig({ config: yaml, defaults: false, home, env: {} });
    return clusterNodeInput(cluster, options);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const BYO_VIP =
  'provider: byo\nname: c1\nvirtualIp: 192.168.122.230\nproviders:\n  byo:\n    networkInterface: enp1s0\nsshPublicKey: ssh-ed25519 AAAAC3NzaTEST ocne@test\n';
const BYO_LB =
  'provider: byo\nname: c1\nloadBalancer: lb.example.com\nworkerNodes: 2\nproviders:\n  byo:\n    networkInterface: eth0\n';
const PROXY =
  'proxy:\n  httpsProxy: http://proxy.example.com:3128\n  httpProxy: http://proxy.example.com:3128\n  noProxy: .example.com\n';
const DUAL = 'podSubnet: 10.244.0.0/16,fd00:10:244::/56\nserviceSubnet: 10.96.0.0/12,fd00:10:96::/108\n';
const BYO_V6 =
  'provider: byo\nname: c6\nvirtualIp: fd00::10\nproviders:\n  byo:\n    networkInterface: enp1s0\n';

const extraHostname = translateButane(
  'variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node-1\n    - path: /etc/ocne/update.yaml\n      mode: 0400\n      contents:\n        inline: "registry: mirror.example.com/ock-ostree\\ntag: 1.33\\ntransport: ostree-unverified-registry\\n"\n',
  { source: 'extra.bu' },
);

const cases: Array<[string, () => Promise<IgnitionConfig>]> = [
  [
    'init-vip',
    async () =>
      initNodeIgnition({
        ...(await nodeInput(BYO_VIP)),
        caCertPem: CA_CERT,
        caKeyPem: CA_KEY,
        certificateKey: CERT_KEY,
        expectWorkers: false,
      }),
  ],
  [
    'init-lb-workers',
    async () =>
      initNodeIgnition({
        ...(await nodeInput(BYO_LB)),
        caCertPem: CA_CERT,
        caKeyPem: CA_KEY,
        certificateKey: CERT_KEY,
        expectWorkers: true,
      }),
  ],
  [
    'init-vip-proxy-dual-stack',
    async () =>
      initNodeIgnition({
        ...(await nodeInput(BYO_VIP + PROXY + DUAL)),
        caCertPem: CA_CERT,
        caKeyPem: CA_KEY,
        certificateKey: CERT_KEY,
        expectWorkers: false,
      }),
  ],
  [
    'init-vip-ipv6',
    async () =>
      initNodeIgnition({
        ...(await nodeInput(BYO_V6)),
        caCertPem: CA_CERT,
        caKeyPem: CA_KEY,
        certificateKey: CERT_KEY,
        expectWorkers: false,
      }),
  ],
  [
    'join-worker-vip',
    async () =>
      joinNodeIgnition({ ...(await nodeInput(BYO_VIP)), role: 'worker', token: TOKEN, caCertHashes: [HASH] }),
  ],
  [
    'join-control-plane-vip',
    async () =>
      joinNodeIgnition({
        ...(await nodeInput(BYO_VIP)),
        role: 'control-plane',
        token: TOKEN,
        caCertHashes: [HASH],
        certificateKey: CERT_KEY,
      }),
  ],
  [
    'join-control-plane-lb-proxy',
    async () =>
      joinNodeIgnition({
        ...(await nodeInput(BYO_LB + PROXY)),
        role: 'control-plane',
        token: TOKEN,
        caCertHashes: [HASH],
        certificateKey: CERT_KEY,
      }),
  ],
  [
    'join-worker-extra-ignition',
    async () =>
      joinNodeIgnition({
        ...(await nodeInput(BYO_VIP, { extra: [extraHostname] })),
        role: 'worker',
        token: TOKEN,
        caCertHashes: [HASH],
      }),
  ],
];

const fileText = (config: IgnitionConfig, path: string): string | undefined => {
  const file = config.storage?.files?.find((f) => f.path === path);
  return file?.contents?.source
    ? decodeDataUrlText(file.contents.source, file.contents.compression)
    : undefined;
};

describe.each(cases)('%s', (name, make) => {
  it('is valid Ignition 3.4: the JSON Schema and the real ignition-validate accept it', async () => {
    const config = await make();
    expect(schemaErrors(config)).toEqual([]);
    expect(ignitionValidate(serializeIgnition(config))).toEqual({ status: 0, output: '' });
  });

  it('every shell script parses with bash -n', async () => {
    const config = await make();
    const dir = mkdtempSync(join(tmpdir(), 'ocne-sh-'));
    try {
      for (const file of config.storage?.files ?? []) {
        const text = fileText(config, file.path) ?? '';
        if (!text.startsWith('#!/bin/bash')) continue;
        const path = join(dir, 'script.sh');
        writeFileSync(path, text);
        expect(() => execFileSync('bash', ['-n', path], { stdio: 'pipe' }), file.path).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches its golden file (decoded)', async () => {
    await expect(`${JSON.stringify(decoded(await make()), null, 2)}\n`).toMatchFileSnapshot(
      `golden/${name}.json`,
    );
  });
});

// Field names of kubeadm.k8s.io/v1beta3 and kubeproxy v1alpha1 used here, from the Go types (kubeadm
// has no JSON schema: k8s.io/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta3/types.go and
// k8s.io/kube-proxy config/v1alpha1/types.go): an unknown or misspelt field fails.
const KUBEADM_FIELDS: Record<string, readonly string[]> = {
  InitConfiguration: [
    'apiVersion',
    'kind',
    'bootstrapTokens',
    'nodeRegistration',
    'localAPIEndpoint',
    'certificateKey',
    'skipPhases',
    'patches',
  ],
  ClusterConfiguration: [
    'apiVersion',
    'kind',
    'etcd',
    'networking',
    'kubernetesVersion',
    'controlPlaneEndpoint',
    'apiServer',
    'controllerManager',
    'scheduler',
    'dns',
    'certificatesDir',
    'imageRepository',
    'featureGates',
    'clusterName',
  ],
  JoinConfiguration: [
    'apiVersion',
    'kind',
    'nodeRegistration',
    'caCertPath',
    'discovery',
    'controlPlane',
    'skipPhases',
    'patches',
  ],
  KubeProxyConfiguration: ['apiVersion', 'kind', 'mode', 'metricsBindAddress'],
};
const NODE_REGISTRATION = [
  'name',
  'criSocket',
  'taints',
  'kubeletExtraArgs',
  'ignorePreflightErrors',
  'imagePullPolicy',
];

function kubeadmDocs(config: IgnitionConfig): Array<Record<string, unknown>> {
  const text = fileText(config, '/etc/kubernetes/kubeadm.conf')!;
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown>;
  });
}

describe('kubeadm configuration', () => {
  it('init: InitConfiguration + ClusterConfiguration with the version table, VIP ports and no taints without workers', async () => {
    const config = await cases[0]![1]();
    const [init, cluster] = kubeadmDocs(config);
    for (const doc of [init!, cluster!]) {
      expect(doc.apiVersion).toBe('kubeadm.k8s.io/v1beta3');
      expect(Object.keys(doc).filter((k) => !KUBEADM_FIELDS[doc.kind as string]!.includes(k))).toEqual([]);
    }
    expect(Object.keys(init!.nodeRegistration as object).every((k) => NODE_REGISTRATION.includes(k))).toBe(
      true,
    );
    expect(init).toMatchObject({
      localAPIEndpoint: { advertiseAddress: 'NODE_IP', bindPort: 6444 },
      nodeRegistration: {
        taints: [],
        kubeletExtraArgs: { 'node-ip': 'NODE_IP', 'tls-min-version': 'VersionTLS12' },
      },
      certificateKey: CERT_KEY,
      skipPhases: ['addon/kube-proxy', 'addon/coredns', 'preflight'],
      patches: { directory: '/etc/ocne/ock/patches' },
    });
    expect(cluster).toMatchObject({
      kubernetesVersion: '1.33.5',
      controlPlaneEndpoint: '192.168.122.230:6443',
      imageRepository: 'container-registry.oracle.com/olcne',
      etcd: { local: { imageTag: '3.5.23', peerCertSANs: [] } },
      dns: { imageTag: 'current' },
      networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16' },
    });
  });

  it('init behind a load balancer with workers: bind port 6443, default taints', async () => {
    const [init, cluster] = kubeadmDocs(await cases[1]![1]());
    expect(init).toMatchObject({ localAPIEndpoint: { bindPort: 6443 }, nodeRegistration: { taints: null } });
    expect(cluster?.controlPlaneEndpoint).toBe('lb.example.com:6443');
  });

  it('IPv6 endpoints are bracketed', async () => {
    const [, cluster] = kubeadmDocs(await cases[3]![1]());
    expect(cluster?.controlPlaneEndpoint).toBe('[fd00::10]:6443');
  });

  it('worker join: discovery with token and CA pin, no control plane, no kube-proxy document', async () => {
    const docs = kubeadmDocs(await cases[4]![1]());
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      kind: 'JoinConfiguration',
      nodeRegistration: { taints: null },
      discovery: {
        bootstrapToken: { apiServerEndpoint: '192.168.122.230:6443', token: TOKEN, caCertHashes: [HASH] },
      },
      skipPhases: ['preflight'],
    });
    expect(docs[0]).not.toHaveProperty('controlPlane');
    expect((docs[0]!.nodeRegistration as { kubeletExtraArgs: object }).kubeletExtraArgs).not.toHaveProperty(
      'tls-min-version',
    );
  });

  it('control-plane join: local endpoint on the alternate port, certificate key, KubeProxyConfiguration', async () => {
    const docs = kubeadmDocs(await cases[5]![1]());
    expect(docs.map((d) => d.kind)).toEqual(['JoinConfiguration', 'KubeProxyConfiguration']);
    expect(docs[0]).toMatchObject({
      controlPlane: {
        localAPIEndpoint: { advertiseAddress: 'NODE_IP', bindPort: 6444 },
        certificateKey: CERT_KEY,
      },
    });
    expect(docs[1]).toEqual({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      metricsBindAddress: '0.0.0.0:10249',
    });
    for (const doc of docs)
      expect(Object.keys(doc).filter((k) => !KUBEADM_FIELDS[doc.kind as string]!.includes(k))).toEqual([]);
  });
});

describe('node content', () => {
  it('workers get no virtual-IP stack; control-plane nodes with a virtual IP do', async () => {
    const worker = await cases[4]![1]();
    const cp = await cases[5]![1]();
    expect(worker.storage?.files?.some((f) => f.path.startsWith('/etc/keepalived'))).toBe(false);
    expect(cp.storage?.files?.filter((f) => f.path.startsWith('/etc/keepalived')).map((f) => f.path)).toEqual(
      [
        '/etc/keepalived/keepalived.conf',
        '/etc/keepalived/check_apiserver.sh',
        '/etc/keepalived/keepalived_state.sh',
        '/etc/keepalived/log',
      ],
    );
    expect(cp.passwd?.users?.map((u) => u.name)).toEqual(['nginx_script', 'ocne']);
    expect(fileText(cp, '/etc/keepalived/keepalived.conf')).toContain(
      'virtual_ipaddress {\n    192.168.122.230\n  }',
    );
    expect(fileText(cp, '/etc/ocne/nginx/nginx.conf')).toContain('server localhost:6444');
  });

  it('ocne.service carries ACTION and NET_INTERFACE, with the final newline', async () => {
    const init = await cases[0]![1]();
    const join = await cases[4]![1]();
    const dropin = (c: IgnitionConfig) =>
      c.systemd?.units?.find((u) => u.name === 'ocne.service')?.dropins?.[0]?.contents;
    expect(dropin(init)).toBe('[Service]\nEnvironment=ACTION=init\nEnvironment=NET_INTERFACE=enp1s0\n');
    expect(dropin(join)).toBe('[Service]\nEnvironment=ACTION=join\nEnvironment=NET_INTERFACE=enp1s0\n');
  });

  it('proxy drop-ins go on crio, ocne-update and rpm-ostreed with the cluster addresses in no_proxy', async () => {
    const config = await cases[2]![1]();
    const units = Object.fromEntries((config.systemd?.units ?? []).map((u) => [u.name, u]));
    const expected =
      '[Service]\nEnvironment=HTTPS_PROXY=http://proxy.example.com:3128\nEnvironment=https_proxy=http://proxy.example.com:3128\n' +
      'Environment=HTTP_PROXY=http://proxy.example.com:3128\nEnvironment=http_proxy=http://proxy.example.com:3128\n' +
      'Environment=no_proxy=.example.com,192.168.122.230,10.96.0.0/12,fd00:10:96::/108,10.244.0.0/16,fd00:10:244::/56\n';
    for (const name of ['crio.service', 'ocne-update.service', 'rpm-ostreed.service']) {
      expect(units[name]?.dropins?.find((d) => d.name === 'proxy.conf')?.contents, name).toBe(expected);
    }
    expect(units['ocne-nginx.service']?.dropins?.[0]?.contents).toContain('no_proxy=.example.com\n');
    expect(units['kubelet.service']?.dropins).toBeUndefined();
    expect(units['kublet.service']).toBeUndefined();
  });

  it('without a proxy there are no proxy drop-ins (upstream emits no_proxy-only ones)', async () => {
    const config = await cases[0]![1]();
    expect(config.systemd?.units?.some((u) => u.dropins?.some((d) => d.name === 'proxy.conf'))).toBe(false);
    expect(proxyDropin({ noProxy: 'x' }, ['y'])).toBeUndefined();
  });

  it('extra Ignition is merged last and wins', async () => {
    const config = await cases[7]![1]();
    expect(fileText(config, '/etc/hostname')).toBe('node-1');
    expect(fileText(config, '/etc/ocne/update.yaml')).toContain('mirror.example.com');
  });

  it.each([
    ['ostree-unverified-image:docker://registry.example.com/ock-ostree', 'ostree-unverified-image:docker://'],
    [
      'ostree-remote-image:ocne:docker://registry.example.com/ock-ostree',
      'ostree-remote-image:ocne:docker://',
    ],
    ['registry.example.com/ock-ostree', 'ostree-unverified-registry'],
  ])(
    'update.yaml for osRegistry %s has transport %s, as upstream writes it',
    async (osRegistry, transport) => {
      const input = await nodeInput(`${BYO_VIP}osRegistry: ${osRegistry}\nosTag: "1.33"\n`);
      const config = initNodeIgnition({
        ...input,
        caCertPem: CA_CERT,
        caKeyPem: CA_KEY,
        certificateKey: CERT_KEY,
        expectWorkers: false,
      });
      expect(fileText(config, '/etc/ocne/update.yaml')).toBe(
        `registry: registry.example.com/ock-ostree\ntag: 1.33\ntransport: ${transport}\n`,
      );
    },
  );

  it('user ocne: wheel, rescue shell, the key; a tagged osRegistry is refused', async () => {
    const config = await cases[0]![1]();
    expect(config.passwd?.users?.find((u) => u.name === 'ocne')).toEqual({
      name: 'ocne',
      groups: ['wheel'],
      noCreateHome: false,
      primaryGroup: '',
      shell: '/usr/bin/rescue.sh',
      system: false,
      sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaTEST ocne@test'],
    });
    await expect(
      nodeInput(`${BYO_VIP}osRegistry: ostree-unverified-registry:example.com/ock-ostree:1.33\n`),
    ).rejects.toMatchObject({
      code: 'OCNE_CONFIG_INVALID_VALUE',
    });
  });
});
