// The OCI template: the seven objects in upstream's order, checked against the CRD schemas of CAPI
// 1.10.8 and 1.9.9 (with Oracle's Ignition fields) and CAPOCI 0.21.0, the node Ignition against the
// Ignition 3.4 schema and the real ignition-validate, and golden files (node Ignition decoded).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ResolvedClusterConfig, readConfigFiles } from '@ocne/config';
import { type EventInput, isOcneError } from '@ocne/core';
import { decoded, ignitionValidate, schemaErrors } from '@ocne/test-ignition';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ADDITIONAL_CONFIG_MAX_LENGTH,
  type OciLookup,
  objectsToYaml,
  ociTemplate,
} from '../src/templates.js';
import { CAPI_RELEASES, crdErrors } from './crd-schema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = join(here, '../../../examples/oci/capi.yaml');
const home = mkdtempSync(join(tmpdir(), 'ocne-template-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const COMPARTMENT = 'ocid1.compartment.oc1..aaaaaaaatestcompartment';
const AMD = 'ocid1.image.oc1.iad.aaaaaaaatestamd64';
const ARM = 'ocid1.image.oc1.iad.aaaaaaaatestarm64';
const KEY = 'ssh-ed25519 AAAAC3NzaTEST ocne@test';
/** A cluster file: the settings every case shares, `oci` lines added below `providers.oci`, and `rest`. */
const file = (rest = '', oci = '') =>
  `provider: oci\nname: c1\nsshPublicKey: ${KEY}\nproviders:\n  oci:\n    compartment: ${COMPARTMENT}\n    images:\n      amd64: ${AMD}\n      arm64: ${ARM}\n${oci}${rest}`;
const BASE = file();

async function config(
  yaml: string,
  change?: (c: ResolvedClusterConfig) => void,
): Promise<ResolvedClusterConfig> {
  const { cluster } = await loadConfig({
    config: yaml,
    defaults: false,
    home,
    env: {},
    defaultProvider: 'oci',
  });
  // Changes the validation would refuse, to check the template's own checks.
  change?.(cluster);
  return cluster;
}

/** The parts of a decoded node Ignition the tests read. */
interface DecodedIgnition {
  storage: { files: Array<{ path: string; mode: number; contents: { decoded: string } }> };
  systemd: {
    units: Array<{ name: string; enabled?: boolean; dropins: Array<{ name: string; contents: string }> }>;
  };
}

/** The template as YAML with the node Ignition decoded, for golden files. */
function goldenYaml(objects: readonly object[]): string {
  const copy = structuredClone(objects) as Array<Record<string, unknown>>;
  const decode = (ignition: { containerLinuxConfig: { additionalConfig: unknown } }) => {
    ignition.containerLinuxConfig.additionalConfig = decoded(
      JSON.parse(ignition.containerLinuxConfig.additionalConfig as string),
    );
  };
  type Ign = Parameters<typeof decode>[0];
  type Spec = { kubeadmConfigSpec: { ignition: Ign }; template: { spec: { ignition: Ign } } };
  for (const o of copy) {
    const spec = o.spec as Spec;
    if (o.kind === 'KubeadmControlPlane') decode(spec.kubeadmConfigSpec.ignition);
    if (o.kind === 'KubeadmConfigTemplate') decode(spec.template.spec.ignition);
  }
  return objectsToYaml(copy);
}

const cases: Array<[string, () => Promise<ResolvedClusterConfig>]> = [
  // Default shapes: control plane VM.Standard.A1.Flex (arm64), workers VM.Standard.E4.Flex (amd64).
  [
    'example',
    async () => (await loadConfig({ configPath: EXAMPLE, defaults: false, home, env: {} })).cluster,
  ],
  [
    'amd64-proxy-1.31',
    () =>
      config(
        file(
          'kubernetesVersion: "1.31"\ncipherSuites: TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384\nproxy:\n  httpsProxy: http://proxy.example.com:3128\n  httpProxy: http://proxy.example.com:3128\n  noProxy: .example.com\n',
          '    controlPlaneShape:\n      shape: VM.Standard.E5.Flex\n      ocpus: 4\n      bootVolumeSizeInGBs: "100"\n',
        ),
      ),
  ],
  [
    'arm64-extra-ignition-1.30',
    () =>
      config(
        `${file('', '    workerShape:\n      shape: VM.Standard.A1.Flex\n      ocpus: 8\n')}kubernetesVersion: "1.30"\nworkerNodes: 5\nextraIgnitionInline: |\n  variant: fcos\n  version: 1.5.0\n  storage:\n    files:\n      - path: /etc/motd\n        contents:\n          inline: welcome to c1\n  systemd:\n    units:\n      - name: ocne.service\n        enabled: true\n`,
      ),
  ],
  [
    'five-control-plane-1.33',
    () =>
      config(
        file(
          'controlPlaneNodes: 5\nworkerNodes: 2\npodSubnet: 10.200.0.0/16\nserviceSubnet: 10.100.0.0/16\n',
          '    namespace: team-a\n',
        ),
      ),
  ],
];

describe.each(cases)('template %s', (name, make) => {
  it('has the seven objects in upstream order, valid against the CRDs', async () => {
    const cluster = await make();
    const t = await ociTemplate(cluster);
    expect(t.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `Cluster/${cluster.name}`,
      `OCICluster/${cluster.name}`,
      `KubeadmControlPlane/${cluster.name}-control-plane`,
      `OCIMachineTemplate/${cluster.name}-control-plane`,
      `OCIMachineTemplate/${cluster.name}-md-0`,
      `KubeadmConfigTemplate/${cluster.name}-md-0`,
      `MachineDeployment/${cluster.name}-md-0`,
    ]);
    for (const o of t.objects) expect(o.metadata.namespace).toBe(cluster.providers.oci.namespace);
    for (const release of CAPI_RELEASES) {
      for (const o of t.objects) expect(crdErrors(o, release), `${o.kind} on ${release}`).toEqual([]);
    }
    // Printed and read back, the YAML is the same objects.
    const docs = objectsToYaml(t.objects)
      .split(/^---\n/m)
      .map((d) => parse(d));
    expect(docs).toEqual(JSON.parse(JSON.stringify(t.objects)));
  });

  it('gives nodes Ignition that the real ignition-validate accepts', async () => {
    const t = await ociTemplate(await make());
    const kcp = t.objects[2].spec!.kubeadmConfigSpec!.ignition!.containerLinuxConfig!.additionalConfig!;
    const kct = t.objects[5].spec!.template.spec!.ignition!.containerLinuxConfig!.additionalConfig!;
    expect(kct).toBe(kcp);
    expect(kcp.endsWith('\n')).toBe(true);
    expect(kcp.length).toBeLessThanOrEqual(ADDITIONAL_CONFIG_MAX_LENGTH);
    const ignition = JSON.parse(kcp);
    expect(schemaErrors(ignition)).toEqual([]);
    expect(ignitionValidate(kcp)).toMatchObject({ status: 0 });
  });

  it('matches its golden file (node Ignition decoded)', async () => {
    const t = await ociTemplate(await make());
    await expect(goldenYaml(t.objects)).toMatchFileSnapshot(`golden/template-${name}.yaml`);
  });
});

describe('template content', () => {
  it('picks the image of each shape architecture and quotes ocpus and boot volume size', async () => {
    const t = await ociTemplate(await config(BASE));
    const [cp, md] = [t.objects[3].spec!.template.spec!, t.objects[4].spec!.template.spec!];
    expect([cp.shape, cp.imageId]).toEqual(['VM.Standard.A1.Flex', ARM]);
    expect([md.shape, md.imageId]).toEqual(['VM.Standard.E4.Flex', AMD]);
    expect(cp.shapeConfig?.ocpus).toBe('2');
    expect(md.bootVolumeSizeInGBs).toBe('50');
    expect(cp.metadata).toEqual({ ssh_authorized_keys: KEY });
    expect(t.images).toEqual({ amd64: AMD, arm64: ARM });
  });

  it('carries the kubeadm settings of the Kubernetes version', async () => {
    for (const [minor, full, etcd] of [
      ['1.30', '1.30.3', '3.5.12'],
      ['1.33', '1.33.5', '3.5.23'],
    ]) {
      const t = await ociTemplate(await config(`${BASE}kubernetesVersion: "${minor}"\n`));
      const kcp = t.objects[2].spec!;
      expect(kcp.version).toBe(full);
      expect(kcp.kubeadmConfigSpec.clusterConfiguration?.kubernetesVersion).toBe(full);
      expect(kcp.kubeadmConfigSpec.clusterConfiguration?.etcd?.local?.imageTag).toBe(etcd);
      expect(t.objects[6].spec!.template.spec!.version).toBe(full);
    }
  });

  it('passes cipher suites to every component when set, and no empty flag when not', async () => {
    const suites = 'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384';
    const withSuites = (await ociTemplate(await config(`${BASE}cipherSuites: ${suites}\n`))).objects[2].spec!;
    const cc = withSuites.kubeadmConfigSpec.clusterConfiguration!;
    expect(cc.apiServer?.extraArgs?.['tls-cipher-suites']).toBe(suites);
    expect(cc.etcd?.local?.extraArgs).toEqual({ 'cipher-suites': suites });
    expect(cc.scheduler?.extraArgs?.['tls-cipher-suites']).toBe(suites);
    expect(
      withSuites.kubeadmConfigSpec.joinConfiguration?.nodeRegistration?.kubeletExtraArgs?.[
        'tls-cipher-suites'
      ],
    ).toBe(suites);
    const without = (await ociTemplate(await config(BASE))).objects[2].spec!.kubeadmConfigSpec;
    expect(without.clusterConfiguration?.apiServer?.extraArgs).toEqual({});
    expect(Object.keys(without.initConfiguration?.nodeRegistration?.kubeletExtraArgs ?? {})).toEqual([
      'cloud-provider',
      'provider-id',
      'volume-plugin-dir',
    ]);
  });

  it('skips kube-proxy and CoreDNS in CAPI and in kubeadm init, and fills the instance OCID in at boot', async () => {
    const t = await ociTemplate(await config(BASE));
    const kcp = t.objects[2];
    expect(kcp.metadata.annotations).toEqual({
      'controlplane.cluster.x-k8s.io/skip-kube-proxy': 'true',
      'controlplane.cluster.x-k8s.io/skip-coredns': 'true',
    });
    expect(kcp.spec!.kubeadmConfigSpec.initConfiguration?.skipPhases).toEqual([
      'preflight',
      'addon/kube-proxy',
      'addon/coredns',
    ]);
    expect(
      kcp.spec!.kubeadmConfigSpec.initConfiguration?.nodeRegistration?.kubeletExtraArgs?.['provider-id'],
    ).toBe('oci://{{ ds["id"] }}');
    const ignition = decoded(JSON.parse(t.additionalConfig)) as DecodedIgnition;
    const crio = ignition.systemd.units.find((u) => u.name === 'crio.service')!;
    const populate = crio.dropins.find((d) => d.name === 'ocid-populate.conf')!.contents;
    expect(populate).toContain('http://169.254.169.254/opc/v2/instance/id');
    expect(populate).toContain('/etc/kubeadm.yml');
    expect(ignition.systemd.units.find((u) => u.name === 'ocne.service')?.enabled).toBe(false);
  });

  it('enables OS updates and keeps what the image has in the kubeadm patches folder', async () => {
    const ignition = JSON.parse((await ociTemplate(await config(BASE))).additionalConfig) as {
      systemd: { units: Array<{ name: string; enabled?: boolean }> };
      storage: { directories: Array<{ path: string; overwrite?: boolean }> };
    };
    expect(ignition.systemd.units.find((u) => u.name === 'ocne-update.service')?.enabled).toBe(true);
    expect(ignition.storage.directories).toEqual([{ path: '/etc/ocne/ock/patches' }]);
  });

  it('prints names that YAML 1.1 readers (kubectl, Go) would take for booleans as strings', async () => {
    const t = await ociTemplate(await config(file().replace('name: c1', 'name: "no"')));
    const docs = objectsToYaml(t.objects)
      .split(/^---\n/m)
      .map((d) => parse(d, { version: '1.1' }) as { metadata: { name: string } });
    expect(docs[0]!.metadata.name).toBe('no');
    expect(docs[1]!.metadata.name).toBe('no');
  });

  it('writes a proxy helper script bash can parse, and no_proxy with the subnets and metadata address', async () => {
    const t = await ociTemplate(
      await config(`${BASE}proxy:\n  httpsProxy: http://proxy.example.com:3128\n  noProxy: .example.com\n`),
    );
    const ignition = decoded(JSON.parse(t.additionalConfig)) as DecodedIgnition;
    const script = ignition.storage.files.find((f) => f.path === '/etc/ocne/proxy-config.sh')!;
    expect(script.mode).toBe(0o555);
    const dir = mkdtempSync(join(tmpdir(), 'ocne-sh-'));
    try {
      writeFileSync(join(dir, 'p.sh'), script.contents.decoded);
      expect(() => execFileSync('bash', ['-n', join(dir, 'p.sh')], { stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const crio = ignition.systemd.units.find((u) => u.name === 'crio.service')!;
    expect(crio.dropins.find((d) => d.name === 'proxy.conf')?.contents).toContain(
      'Environment=no_proxy=.example.com,10.96.0.0/12,10.244.0.0/16,169.254.169.254\n',
    );
  });
});

describe('node Ignition scripts, run', () => {
  const work = () => mkdtempSync(join(tmpdir(), 'ocne-run-'));
  const fake = (dir: string, name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  };

  it('the ocid-populate drop-in, unquoted as systemd does, writes the instance OCID into the kubeadm config', async () => {
    const t = await ociTemplate(await config(BASE));
    const ignition = decoded(JSON.parse(t.additionalConfig)) as DecodedIgnition;
    const crio = ignition.systemd.units.find((u) => u.name === 'crio.service')!;
    const dropin = crio.dropins.find((d) => d.name === 'ocid-populate.conf')!.contents;
    const line = dropin.split('\n').find((l) => l.startsWith('ExecStartPre='))!;
    // systemd: `/bin/sh -c '<script>'`, with `$$` for `$` and `\\` for `\` in the script.
    const script = /^ExecStartPre=\/bin\/sh -c '(.*)'$/
      .exec(line)![1]!
      .replaceAll('$$', '$')
      .replaceAll('\\\\', '\\');
    const dir = work();
    try {
      fake(dir, 'curl', 'echo ocid1.instance.oc1.iad.aaaaaaaatestinstance');
      const kubeadm = join(dir, 'kubeadm.yml');
      writeFileSync(
        kubeadm,
        `nodeRegistration:\n  kubeletExtraArgs:\n    provider-id: oci://${'{{ ds["id"] }}'}\n`,
      );
      execFileSync('/bin/sh', ['-c', script.replaceAll('/etc/kubeadm.yml', kubeadm)], {
        env: { PATH: `${dir}:/usr/bin:/bin` },
      });
      expect(readFileSync(kubeadm, 'utf8')).toContain(
        'provider-id: oci://ocid1.instance.oc1.iad.aaaaaaaatestinstance\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['IPv4', 'https://10.0.0.5:6443', '10.0.0.5'],
    ['IPv6', 'https://[fd00::5]:6443', 'fd00::5'],
  ])(
    'the proxy helper adds the %s API server address to no_proxy once, and skips absent drop-ins',
    async (_n, server, address) => {
      const t = await ociTemplate(
        await config(`${BASE}proxy:\n  httpsProxy: http://proxy.example.com:3128\n`),
      );
      const ignition = decoded(JSON.parse(t.additionalConfig)) as DecodedIgnition;
      const text = ignition.storage.files.find((f) => f.path === '/etc/ocne/proxy-config.sh')!.contents
        .decoded;
      const dir = work();
      try {
        fake(dir, 'kubectl', `echo '${server}'`);
        fake(dir, 'systemctl', `echo "$@" >> '${dir}/systemctl.log'`);
        const present = join(dir, 'crio-proxy.conf');
        writeFileSync(present, 'Environment=no_proxy=.example.com\n');
        const script = text
          .replace('/etc/systemd/system/crio.service.d/proxy.conf', present)
          .replace('/etc/systemd/system/ocne-update.service.d/proxy.conf', join(dir, 'absent.conf'));
        writeFileSync(join(dir, 'p.sh'), script, { mode: 0o755 });
        const run = () =>
          execFileSync('bash', [join(dir, 'p.sh')], { env: { PATH: `${dir}:/usr/bin:/bin` } });
        run();
        run();
        expect(readFileSync(present, 'utf8')).toBe(`Environment=no_proxy=${address},.example.com\n`);
        expect(readFileSync(join(dir, 'systemctl.log'), 'utf8')).toBe('daemon-reload\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('template lookups', () => {
  function recordingLookup(
    images: Partial<Record<string, string>>,
    fail?: string,
  ): OciLookup & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      async compartmentId(path, profile) {
        calls.push(`compartment ${path} ${profile}`);
        return COMPARTMENT;
      },
      async latestImage(query) {
        calls.push(
          `image ${query.name} ${query.kubernetesVersion} ${query.architecture} ${query.compartmentId}`,
        );
        if (query.architecture === fail) throw new Error('ListImages: 500 InternalServerError');
        return images[query.architecture];
      },
    };
  }

  it('resolves a compartment path and lets found images win over configured ones, as upstream', async () => {
    const lookup = recordingLookup({
      amd64: 'ocid1.image.oc1.iad.found64',
      arm64: 'ocid1.image.oc1.iad.foundarm',
    });
    const t = await ociTemplate(
      await config(`${BASE.replace(COMPARTMENT, 'ocne/dev')}kubernetesVersion: "1.32"\n`),
      { lookup },
    );
    expect(lookup.calls).toEqual([
      'compartment ocne/dev DEFAULT',
      `image ock 1.32 amd64 ${COMPARTMENT}`,
      `image ock 1.32 arm64 ${COMPARTMENT}`,
    ]);
    expect(t.compartmentId).toBe(COMPARTMENT);
    expect(t.objects[1].spec!.compartmentId).toBe(COMPARTMENT);
    expect(t.objects[3].spec!.template.spec!.imageId).toBe('ocid1.image.oc1.iad.foundarm');
    expect(t.objects[4].spec!.template.spec!.imageId).toBe('ocid1.image.oc1.iad.found64');
  });

  it('keeps the configured image and warns when a lookup fails', async () => {
    const events: EventInput[] = [];
    const lookup = recordingLookup({}, 'arm64');
    const t = await ociTemplate(await config(BASE), { lookup, events: (e) => events.push(e) });
    expect(t.images).toEqual({ amd64: AMD, arm64: ARM });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'log',
        level: 'warn',
        message: expect.stringContaining('500 InternalServerError'),
      }),
    ]);
  });

  it('needs no lookup with OCIDs configured, and asks for one for a compartment path', async () => {
    await expect(ociTemplate(await config(BASE))).resolves.toBeDefined();
    const error = await ociTemplate(await config(BASE.replace(COMPARTMENT, 'ocne/dev'))).catch((e) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_CAPI_LOOKUP_REQUIRED');
    expect(error.message).toContain('ocne/dev');
  });
});

describe('template errors', () => {
  async function failure(yaml: string, change?: (c: ResolvedClusterConfig) => void) {
    const error = await ociTemplate(await config(yaml, change)).catch((e) => e);
    expect(isOcneError(error), String(error)).toBe(true);
    return error as { code: string; message: string };
  }

  it('refuses an even number of control-plane nodes', async () => {
    const e = await failure(BASE, (c) => {
      c.controlPlaneNodes = 2;
    });
    expect(e).toMatchObject({
      code: 'OCNE_CAPI_EVEN_CONTROL_PLANE',
      message: 'the number of control plane nodes must be odd',
    });
  });

  it('refuses a missing image, naming the architecture and the setting', async () => {
    const e = await failure(BASE.replace(`      arm64: ${ARM}\n`, ''));
    expect(e.code).toBe('OCNE_CAPI_IMAGE_INVALID');
    expect(e.message).toContain('providers.oci.images.arm64');
  });

  it('refuses an image that is not an image OCID', async () => {
    const e = await failure(BASE, (c) => {
      c.providers.oci.images.amd64 = 'ocid1.instance.oc1.iad.aaaaaaaanotanimage';
    });
    expect(e.code).toBe('OCNE_CAPI_IMAGE_INVALID');
    expect(e.message).toContain('ocid1.instance.oc1.iad.aaaaaaaanotanimage');
  });

  it('refuses a missing compartment', async () => {
    const e = await failure(BASE, (c) => {
      c.providers.oci.compartment = '';
    });
    expect(e.code).toBe('OCNE_CAPI_COMPARTMENT_REQUIRED');
  });

  it('refuses node Ignition longer than CAPI accepts, saying how long it is', async () => {
    // Random text does not compress: the data URL stays about as long as the file.
    const big = randomBytes(24_000).toString('base64');
    const e = await failure(
      `${BASE}extraIgnitionInline: |\n  variant: fcos\n  version: 1.5.0\n  storage:\n    files:\n      - path: /etc/big\n        contents:\n          inline: ${big}\n`,
    );
    expect(e.code).toBe('OCNE_CAPI_ADDITIONAL_CONFIG_TOO_LONG');
    expect(e.message).toMatch(/is \d+ characters; Cluster API accepts at most 32768/);
  });

  it('puts the key of sshPublicKeyPath in the instance metadata and on user ocne', async () => {
    const path = join(home, 'key.pub');
    writeFileSync(path, `${KEY}\n`);
    const cluster = await config(`${BASE.replace(`sshPublicKey: ${KEY}\n`, '')}sshPublicKeyPath: ${path}\n`);
    const t = await ociTemplate(cluster, { files: await readConfigFiles(cluster) });
    expect(t.objects[4].spec!.template.spec!.metadata).toEqual({ ssh_authorized_keys: KEY });
    const user = (
      JSON.parse(t.additionalConfig) as { passwd: { users: Array<{ sshAuthorizedKeys: string[] }> } }
    ).passwd.users[0]!;
    expect(user.sshAuthorizedKeys[0]!.trim()).toBe(KEY);
  });

  it('names the sshPublicKeyPath it cannot read', async () => {
    const cluster = await config(
      `${BASE.replace(`sshPublicKey: ${KEY}\n`, '')}sshPublicKeyPath: /nonexistent/key.pub\n`,
    );
    // The file is read before rendering, by @ocne/config, with its shared codes.
    const e = await readConfigFiles(cluster).catch((x) => x);
    expect(e.code).toBe('OCNE_CONFIG_FILE_MISSING');
    expect(e.message).toContain('/nonexistent/key.pub');
    // Rendering reads nothing: without the contents it refuses, naming the key.
    const notRead = await ociTemplate(cluster).catch((x) => x);
    expect(notRead.code).toBe('OCNE_CONFIG_FILE_NOT_READ');
    expect(notRead.message).toContain('sshPublicKeyPath /nonexistent/key.pub');
  });
});
