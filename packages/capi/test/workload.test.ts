import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcneError } from '@ocne/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  EMPTY_PASSPHRASE_PLACEHOLDER,
  type OciClusterNetworkFields,
  type OciCredentials,
  ociCcmSecrets,
  ociCcmSettings,
  workloadKubeconfigPath,
  writeWorkloadKubeconfig,
} from '../src/index.js';

const VCN = 'ocid1.vcn.oc1..vcn';
const LB1 = 'ocid1.subnet.oc1..lb1';
const LB2 = 'ocid1.subnet.oc1..lb2';

function ociCluster(
  vcn: NonNullable<NonNullable<OciClusterNetworkFields['spec']>['networkSpec']>['vcn'],
): OciClusterNetworkFields {
  return { metadata: { namespace: 'ocne', name: 'demo' }, spec: { networkSpec: { vcn: vcn ?? {} } } };
}

const subnets = [
  { name: 'control-plane-endpoint', role: 'control-plane-endpoint', id: 'ocid1.subnet.oc1..cpe' },
  { name: 'control-plane', role: 'control-plane', id: 'ocid1.subnet.oc1..cp' },
  { name: 'service-lb', role: 'service-lb', id: LB1 },
  { name: 'worker', role: 'worker', id: 'ocid1.subnet.oc1..w' },
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(isOcneError(error)).toBe(true);
    return (error as { code: string }).code;
  }
  return undefined;
}

describe('ociCcmSettings', () => {
  it('takes the VCN id and the one service-lb subnet; subnet2 stays empty as upstream', () => {
    expect(ociCcmSettings(ociCluster({ id: VCN, subnets }))).toEqual({
      vcn: VCN,
      loadBalancer: { subnet1: LB1, subnet2: '' },
    });
  });

  it('with two or more service-lb subnets takes the first and the last', () => {
    const many = [
      ...subnets,
      { name: 'service-lb-2', role: 'service-lb', id: 'ocid1.subnet.oc1..middle' },
      { name: 'service-lb-3', role: 'service-lb', id: LB2 },
    ];
    expect(ociCcmSettings(ociCluster({ id: VCN, subnets: many })).loadBalancer).toEqual({
      subnet1: LB1,
      subnet2: LB2,
    });
    const two = [...subnets, { name: 'service-lb-2', role: 'service-lb', id: LB2 }];
    expect(ociCcmSettings(ociCluster({ id: VCN, subnets: two })).loadBalancer).toEqual({
      subnet1: LB1,
      subnet2: LB2,
    });
  });

  it('uses the configured values when the VCN and both subnets are configured, without reading the OCICluster', () => {
    const configured = {
      vcn: 'ocid1.vcn.oc1..mine',
      loadBalancer: { subnet1: 'ocid1.a', subnet2: 'ocid1.b' },
    };
    expect(ociCcmSettings({}, configured)).toEqual(configured);
    expect(ociCcmSettings(ociCluster({ id: VCN, subnets }), configured)).toEqual(configured);
  });

  it('when not all three are configured, the OCICluster wins for the VCN and subnet1; a configured subnet2 stays with one service-lb subnet', () => {
    const partial = { vcn: 'ocid1.vcn.oc1..mine', loadBalancer: { subnet1: 'ocid1.a', subnet2: 'ocid1.b' } };
    expect(ociCcmSettings(ociCluster({ id: VCN, subnets }), { ...partial, vcn: '' })).toEqual({
      vcn: VCN,
      loadBalancer: { subnet1: LB1, subnet2: 'ocid1.b' },
    });
    expect(
      ociCcmSettings(ociCluster({ id: VCN, subnets }), { vcn: 'ocid1.vcn.oc1..mine', loadBalancer: {} }),
    ).toEqual({ vcn: VCN, loadBalancer: { subnet1: LB1, subnet2: '' } });
    // A resolved config (every string present, '' when unset) fits too.
    expect(
      ociCcmSettings(ociCluster({ id: VCN, subnets }), {
        vcn: '',
        loadBalancer: { subnet1: '', subnet2: '' },
      }),
    ).toEqual({ vcn: VCN, loadBalancer: { subnet1: LB1, subnet2: '' } });
  });

  it('fails with OCNE_CAPI_OCI_VCN_MISSING while the OCICluster has no VCN id yet', () => {
    expect(codeOf(() => ociCcmSettings(ociCluster({ subnets })))).toBe('OCNE_CAPI_OCI_VCN_MISSING');
    expect(codeOf(() => ociCcmSettings(ociCluster({ id: '', subnets })))).toBe('OCNE_CAPI_OCI_VCN_MISSING');
    expect(codeOf(() => ociCcmSettings({ metadata: { name: 'x' } }))).toBe('OCNE_CAPI_OCI_VCN_MISSING');
    expect(() => ociCcmSettings(ociCluster({}))).toThrow('OCICluster ocne/demo has an empty vcn id');
  });

  it('fails with OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING without a service-lb subnet that has an id', () => {
    const noIds = subnets.map(({ name, role }) => ({ name, role }));
    expect(codeOf(() => ociCcmSettings(ociCluster({ id: VCN, subnets: noIds })))).toBe(
      'OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING',
    );
    expect(codeOf(() => ociCcmSettings(ociCluster({ id: VCN })))).toBe(
      'OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING',
    );
    const withoutLb = subnets.filter((s) => s.role !== 'service-lb');
    expect(() => ociCcmSettings(ociCluster({ id: VCN, subnets: withoutLb }))).toThrow(
      'OCICluster ocne/demo does not have a service-lb subnet',
    );
    // An empty id counts as none (a subnet CAPOCI has not made yet).
    const emptyId = [{ name: 'service-lb', role: 'service-lb', id: '' }];
    expect(codeOf(() => ociCcmSettings(ociCluster({ id: VCN, subnets: emptyId })))).toBe(
      'OCNE_CAPI_OCI_SERVICE_LB_SUBNET_MISSING',
    );
  });
});

describe('ociCcmSecrets', () => {
  const KEY = '-----BEGIN PRIVATE KEY-----\nTHIS-IS-A-TEST-KEY\n-----END PRIVATE KEY-----\n';
  const credentials: OciCredentials = {
    region: 'us-ashburn-1',
    tenancy: 'ocid1.tenancy.oc1..t',
    user: 'ocid1.user.oc1..u',
    fingerprint: 'aa:bb:cc:dd',
    key: KEY,
    passphrase: 'p#ss: word',
  };
  const settings = { vcn: VCN, loadBalancer: { subnet1: LB1, subnet2: LB2 } };
  const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

  it('makes the two kube-system Secrets with the same YAML under upstream keys', () => {
    const secrets = ociCcmSecrets({ credentials, compartmentId: 'ocid1.compartment.oc1..c', settings });
    expect(secrets.map((s) => [s.metadata.namespace, s.metadata.name, Object.keys(s.data)])).toEqual([
      ['kube-system', 'oci-cloud-controller-manager', ['cloud-provider.yaml']],
      ['kube-system', 'oci-volume-provisioner', ['config.yaml']],
    ]);
    for (const s of secrets) {
      expect(s).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque' });
      expect(Object.keys(s).slice(0, 3)).toEqual(['apiVersion', 'kind', 'metadata']);
    }
    const text = decode(secrets[0]?.data['cloud-provider.yaml']);
    expect(decode(secrets[1]?.data['config.yaml'])).toBe(text);
    expect(parse(text)).toEqual({
      auth: {
        region: 'us-ashburn-1',
        tenancy: 'ocid1.tenancy.oc1..t',
        user: 'ocid1.user.oc1..u',
        key: KEY,
        passphrase: 'p#ss: word',
        fingerprint: 'aa:bb:cc:dd',
        useInstancePrincipals: false,
      },
      compartment: 'ocid1.compartment.oc1..c',
      vcn: VCN,
      loadBalancer: { subnet1: LB1, subnet2: LB2, securityListManagementMode: 'None' },
    });
    // Keys sorted as Go's yaml.v3 marshals a map, four-space indentation, the key as a literal block.
    expect(text.split('\n').filter((l) => !l.startsWith('        '))).toEqual([
      'auth:',
      '    fingerprint: aa:bb:cc:dd',
      '    key: |',
      '    passphrase: "p#ss: word"',
      '    region: us-ashburn-1',
      '    tenancy: ocid1.tenancy.oc1..t',
      '    useInstancePrincipals: false',
      '    user: ocid1.user.oc1..u',
      'compartment: ocid1.compartment.oc1..c',
      'loadBalancer:',
      '    securityListManagementMode: None',
      `    subnet1: ${LB1}`,
      `    subnet2: ${LB2}`,
      `vcn: ${VCN}`,
      '',
    ]);
  });

  it('puts the placeholder for an empty passphrase, an empty subnet2 as "", and instance principals as a boolean', () => {
    const [secret] = ociCcmSecrets({
      credentials: { ...credentials, passphrase: '', useInstancePrincipal: true },
      compartmentId: 'ocid1.compartment.oc1..c',
      settings: { vcn: VCN, loadBalancer: { subnet1: LB1, subnet2: '' } },
    });
    const config = parse(decode(secret?.data['cloud-provider.yaml'])) as {
      auth: Record<string, unknown>;
      loadBalancer: Record<string, unknown>;
    };
    expect(config.auth.passphrase).toBe(EMPTY_PASSPHRASE_PLACEHOLDER);
    expect(config.auth.useInstancePrincipals).toBe(true);
    expect(config.loadBalancer.subnet2).toBe('');
    const { passphrase: _, ...noPassphrase } = credentials;
    const [other] = ociCcmSecrets({ credentials: noPassphrase, compartmentId: 'c', settings });
    expect(parse(decode(other?.data['cloud-provider.yaml'])).auth.passphrase).toBe(
      EMPTY_PASSPHRASE_PLACEHOLDER,
    );
  });
});

describe('workloadKubeconfigPath', () => {
  it('is ~/.kube/kubeconfig.<name>', () => {
    expect(workloadKubeconfigPath('demo', '/home/me')).toBe(join('/home/me', '.kube', 'kubeconfig.demo'));
    expect(workloadKubeconfigPath('demo')).toMatch(/[/\\]\.kube[/\\]kubeconfig\.demo$/);
  });
});

describe('writeWorkloadKubeconfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocne-capi-workload-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it('writes the file with mode 0600, making missing folders with 0700', async () => {
    const path = join(dir, 'home', '.kube', 'kubeconfig.demo');
    await writeWorkloadKubeconfig(path, 'apiVersion: v1\nkind: Config\n');
    expect(await readFile(path, 'utf8')).toBe('apiVersion: v1\nkind: Config\n');
    expect(await modeOf(path)).toBe(0o600);
    expect(await modeOf(join(dir, 'home', '.kube'))).toBe(0o700);
  });

  it('replaces an existing file (even a 0644 one) with a 0600 one and leaves no temp file', async () => {
    const path = join(dir, 'kubeconfig.demo');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeWorkloadKubeconfig(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await modeOf(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['kubeconfig.demo']);
  });

  it('replaces the file a symbolic link points to and keeps the link', async () => {
    const real = join(dir, 'real');
    const link = join(dir, 'link');
    await writeFile(real, 'old');
    await symlink(real, link);
    await writeWorkloadKubeconfig(link, 'new');
    expect(await readFile(real, 'utf8')).toBe('new');
    expect((await stat(link)).isFile()).toBe(true);
    expect(await readdir(dir)).toEqual(['link', 'real']);
  });

  it('fails with OCNE_FILE_WRITE_FAILED when the path is a folder, which stays as it was', async () => {
    const path = join(dir, 'kubeconfig.demo');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'keep');
    const error = await writeWorkloadKubeconfig(path, 'secret-contents').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOcneError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('OCNE_FILE_WRITE_FAILED');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).not.toContain('secret-contents');
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('keep');
    expect(await readdir(dir)).toEqual(['kubeconfig.demo']);
  });

  it('leaves the previous file intact and no temp file when writing the temp file fails', async () => {
    const path = join(dir, 'kubeconfig.demo');
    await writeFile(path, 'previous', { mode: 0o600 });
    // Data the file handle refuses: the failure happens after the temp file was made.
    const error = await writeWorkloadKubeconfig(path, 42 as unknown as string).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).toBe('OCNE_FILE_WRITE_FAILED');
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['kubeconfig.demo']);
  });

  it('fails with OCNE_CANCELLED and writes nothing when the signal has aborted', async () => {
    const path = join(dir, 'kubeconfig.demo');
    const error = await writeWorkloadKubeconfig(path, 'x', { signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).toBe('OCNE_CANCELLED');
    expect(await readdir(dir)).toEqual([]);
  });
});
