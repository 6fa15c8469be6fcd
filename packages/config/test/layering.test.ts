// Layering as upstream's GetFullConfig codes it (upstream-ocne.md §2.4), one rule per test,
// through the public loadConfig with real files in a temporary home.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClusterConfig,
  ConfigError,
  type DefaultsConfig,
  type LoadConfigOptions,
  loadConfig,
} from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let home: string;
let dir: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-layering-home-'));
  dir = mkdtempSync(join(tmpdir(), 'ocne-layering-'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function file(text: string, name = `f${counter++}.yaml`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Case {
  defaults?: string;
  configOverrides?: DefaultsConfig;
  cluster?: string;
  overrides?: ClusterConfig;
  options?: Partial<LoadConfigOptions>;
}

async function load(c: Case) {
  return loadConfig({
    home,
    env: {},
    defaults: c.defaults !== undefined ? file(c.defaults) : false,
    ...(c.cluster !== undefined ? { configPath: file(c.cluster) } : {}),
    ...(c.overrides ? { overrides: c.overrides } : {}),
    ...(c.configOverrides ? { configOverrides: c.configOverrides } : {}),
    ...c.options,
  });
}

describe('precedence of shared fields: cluster overrides > cluster file > config overrides > defaults file > built-in', () => {
  const layers = {
    defaults: 'podSubnet: 10.1.0.0/16\n',
    configOverrides: { podSubnet: '10.2.0.0/16' },
    cluster: 'podSubnet: 10.3.0.0/16\n',
    overrides: { podSubnet: '10.4.0.0/16' },
  };
  it.each([
    ['built-in only', {}, '10.244.0.0/16', 'builtin'],
    ['defaults file', { defaults: layers.defaults }, '10.1.0.0/16', 'defaults-file'],
    [
      'config overrides beat the defaults file',
      { defaults: layers.defaults, configOverrides: layers.configOverrides },
      '10.2.0.0/16',
      'config-overrides',
    ],
    [
      'the cluster file beats config overrides (upstream quirk)',
      { ...layers, overrides: undefined },
      '10.3.0.0/16',
      'cluster-file',
    ],
    ['cluster overrides beat everything', layers, '10.4.0.0/16', 'cluster-overrides'],
  ] as const)('%s', async (_, c, expected, layer) => {
    const r = await load(c as Case);
    expect(r.cluster.podSubnet).toBe(expected);
    expect(r.provenance.sourceOf('podSubnet')?.layer).toBe(layer);
  });

  it('a boot image in the cluster file beats the -o style config override', async () => {
    const r = await load({
      cluster: 'bootVolumeContainerImage: example.com/a/file-image\n',
      configOverrides: { bootVolumeContainerImage: 'example.com/b/flag-image' },
    });
    expect(r.cluster.bootVolumeContainerImage).toBe('docker://example.com/a/file-image:1.33');
    // The defaults-level view (upstream's Config) keeps the override.
    expect(r.defaults.bootVolumeContainerImage).toBe('example.com/b/flag-image');
  });

  it('provenance names the file, line and column of the winning value', async () => {
    const path = file('name: demo\n\nproviders:\n  oci:\n    compartment: a/b\n');
    const r = await loadConfig({ home, env: {}, defaults: false, configPath: path });
    expect(r.provenance.sourceOf('providers.oci.compartment')).toEqual({
      layer: 'cluster-file',
      source: path,
      path: 'providers.oci.compartment',
      line: 5,
      column: 18,
    });
    expect(r.provenance.sourceOf('providers.oci.profile')?.layer).toBe('builtin');
    expect(r.provenance.sourceOf('providers.oci.vcn')).toBeUndefined();
  });
});

describe('fields that exist in only one format', () => {
  it('defaults-only fields come from config overrides > defaults file > built-in, never from the cluster file', async () => {
    const r = await load({
      defaults: 'autoStartUI: "false"\nkubeconfig: /d/kubeconfig\nquiet: true\n',
      configOverrides: { kubeconfig: '/o/kubeconfig' },
      cluster: 'name: c1\nquiet: false\nautoStartUI: "true"\n',
    });
    expect(r.defaults.autoStartUI).toBe('false');
    expect(r.defaults.kubeconfig).toBe('/o/kubeconfig');
    expect(r.defaults.quiet).toBe(true);
    // The cluster file's copies are unknown keys there: a warning each, no effect.
    expect(r.warnings.map((w) => w.path).sort()).toEqual(['autoStartUI', 'quiet']);
    expect(r.warnings[0]?.code).toBe('OCNE_CONFIG_UNKNOWN_KEY');
    expect('quiet' in r.cluster).toBe(false);
  });

  it('cluster-only fields in the defaults file are errors (strict parsing), with their location', async () => {
    const err = await load({ defaults: 'podSubnet: 10.1.0.0/16\nvirtualIp: 10.0.0.10\n' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'OCNE_CONFIG_UNKNOWN_KEY', line: 2, column: 1, path: 'virtualIp' });
  });

  it('name, provider and node counts come only from the cluster layers', async () => {
    const r = await load({
      cluster:
        'name: mine\nprovider: byo\nworkerNodes: 2\nvirtualIp: 10.0.0.10\nproviders:\n  byo:\n    networkInterface: eth0\n',
      overrides: { workerNodes: 5 },
    });
    expect(r.cluster).toMatchObject({ name: 'mine', provider: 'byo', workerNodes: 5, controlPlaneNodes: 1 });
  });
});

describe('zero and empty mean unset', () => {
  it('an empty string never overrides', async () => {
    const r = await load({
      defaults: 'registry: registry.example.com\n',
      cluster: 'registry: ""\n',
      overrides: { registry: '' },
    });
    expect(r.cluster.registry).toBe('registry.example.com');
    expect(r.provenance.sourceOf('registry')?.layer).toBe('defaults-file');
  });

  it('0 never overrides a port or a count', async () => {
    const r = await load({
      defaults: 'kubeApiServerBindPort: 7443\n',
      cluster: 'kubeApiServerBindPort: 0\nworkerNodes: 3\n',
      overrides: { workerNodes: 0 },
    });
    expect(r.cluster.kubeApiServerBindPort).toBe(7443);
    expect(r.cluster.workerNodes).toBe(3);
  });

  it('a null value leaves the field unset', async () => {
    const r = await load({ cluster: 'registry:\nkubernetesVersion: ~\n' });
    expect(r.cluster.registry).toBe('container-registry.oracle.com');
    expect(r.cluster.kubernetesVersion).toBe('1.33');
  });

  it('unset fields resolve to Go zero values', async () => {
    const r = await load({});
    expect(r.cluster.virtualIp).toBe('');
    expect(r.cluster.workerNodes).toBe(0);
    expect(r.cluster.applications).toEqual([]);
    expect(r.cluster.proxy).toEqual({ httpsProxy: '', httpProxy: '', noProxy: '' });
  });
});

describe('tri-state booleans', () => {
  it.each([
    ['built-in defaults', {}, { headless: false, catalog: true, communityCatalog: false }],
    [
      'defaults file sets true',
      { defaults: 'headless: true\ncommunityCatalog: true\n' },
      { headless: true, catalog: true, communityCatalog: true },
    ],
    [
      'an explicit false in the cluster file beats true in defaults',
      { defaults: 'headless: true\n', cluster: 'headless: false\ncatalog: false\n' },
      { headless: false, catalog: false, communityCatalog: false },
    ],
    [
      'an override beats the file',
      { cluster: 'catalog: false\n', overrides: { catalog: true } },
      { headless: false, catalog: true, communityCatalog: false },
    ],
  ] as const)('%s', async (_, c, expected) => {
    const r = await load(c as Case);
    expect({
      headless: r.cluster.headless,
      catalog: r.cluster.catalog,
      communityCatalog: r.cluster.communityCatalog,
    }).toEqual(expected);
  });

  it('provider booleans follow the same rule', async () => {
    const r = await load({
      defaults: 'providers:\n  oci:\n    selfManaged: true\n',
      cluster: 'providers:\n  oci:\n    selfManaged: false\n',
    });
    expect(r.cluster.providers.oci.selfManaged).toBe(false);
    expect(r.defaults.providers.oci.selfManaged).toBe(true);
    expect(r.cluster.providers.olvm.ovirtCsiDriver.install).toBe(true);
  });
});

describe('lists concatenate', () => {
  it('applications from the file come first, then those of the overrides, with per-item provenance', async () => {
    const path = file(
      'applications:\n  - name: a\n    release: ra\n  - name: b\n    config:\n      replicas: 2\n',
    );
    const r = await loadConfig({
      home,
      env: {},
      defaults: false,
      configPath: path,
      overrides: { applications: [{ name: 'c' }] },
    });
    expect(r.cluster.applications.map((a) => a.name)).toEqual(['a', 'b', 'c']);
    expect(r.cluster.applications[1]?.config).toEqual({ replicas: 2 });
    expect(r.provenance.sourceOf('applications[1].config.replicas')).toMatchObject({
      layer: 'cluster-file',
      line: 6,
      column: 17,
    });
    expect(r.provenance.sourceOf('applications[2].name')).toMatchObject({
      layer: 'cluster-overrides',
      path: 'applications[0].name',
    });
  });
});

describe('ephemeralCluster.preserve', () => {
  it('is true in the built-ins and false after the merge, as upstream drops it', async () => {
    const r = await load({});
    expect(r.defaults.ephemeralCluster.preserve).toBe(false);
    expect(r.defaultsProvenance.sourceOf('ephemeralCluster.preserve')?.layer).toBe('derived');
    expect(r.warnings).toEqual([]);
  });

  it('a defaults file that sets it gets a warning at its location, and it stays false', async () => {
    const r = await load({ defaults: 'ephemeralCluster:\n  name: boot\n  preserve: true\n' });
    expect(r.defaults.ephemeralCluster).toMatchObject({ name: 'boot', preserve: false });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({
      path: 'ephemeralCluster.preserve',
      line: 3,
      column: 13,
      severity: 'warning',
    });
  });
});

describe('derived defaults', () => {
  it.each([
    ['1.33', undefined, '1.33'],
    ['1.31', undefined, '1.31'],
    // Quirk kept: an explicit osTag equal to the default still follows the version.
    ['1.31', '1.33', '1.31'],
    ['1.31', '1.30', '1.30'],
  ])('kubernetesVersion %s with osTag %s gives osTag %s', async (version, osTag, expected) => {
    const r = await load({
      cluster: `kubernetesVersion: "${version}"\n${osTag ? `osTag: "${osTag}"\n` : ''}`,
    });
    expect(r.cluster.osTag).toBe(expected);
  });

  it.each([
    [undefined, '1.33', 'docker://container-registry.oracle.com/olcne/ock:1.33'],
    ['example.com/ock', '1.31', 'docker://example.com/ock:1.31'],
    ['docker://example.com/ock:1.30', '1.31', 'docker://example.com/ock:1.31'],
    ['example.com/ock:1.33.5', '1.32', 'docker://example.com/ock:1.32'],
    ['example.com/ock:1.33.0', '1.32', 'docker://example.com/ock:1.33.0'],
    ['example.com/ock:custom', '1.32', 'docker://example.com/ock:custom'],
    ['oci-archive:/tmp/ock.tar', '1.32', 'oci-archive:/tmp/ock.tar:1.32'],
    ['example.com:5000/ock', '1.32', 'docker://example.com:5000/ock:1.32'],
    [`example.com/ock@sha256:${'a'.repeat(64)}`, '1.32', `docker://example.com/ock@sha256:${'a'.repeat(64)}`],
  ])('boot image %s with version %s is %s', async (image, version, expected) => {
    const r = await load({
      cluster: `kubernetesVersion: "${version}"\n${image ? `bootVolumeContainerImage: "${image}"\n` : ''}`,
    });
    expect(r.cluster.bootVolumeContainerImage).toBe(expected);
  });

  it.each([
    ['example.com/ostree', 'ostree-unverified-registry:example.com/ostree'],
    ['ostree-unverified-registry:example.com/ostree', 'ostree-unverified-registry:example.com/ostree'],
    ['ostree-image-signed:docker://example.com/ostree', 'ostree-image-signed:docker://example.com/ostree'],
  ])('osRegistry %s becomes %s', async (value, expected) => {
    const r = await load({ cluster: `osRegistry: ${value}\n` });
    expect(r.cluster.osRegistry).toBe(expected);
    expect(r.provenance.sourceOf('osRegistry')?.layer).toBe(value === expected ? 'cluster-file' : 'derived');
  });

  it.each([
    ['Example.com/OCK-ostree', 'repository name "OCK-ostree" must be lower-case'],
    ['ostree-unverified-image:ftp:example.com/ock', 'unknown transport "ftp"'],
    ['ostree-image-signed:docker:example.com/ock', 'expected "//" after ostree-image-signed:docker'],
    [`example.com/ock@sha256:${'a'.repeat(64)}`, 'osRegistry field cannot have a digest'],
  ])('an invalid osRegistry %s is a located error', async (value, message) => {
    const cluster = file(`name: demo\nosRegistry: "${value}"\n`);
    const error = await loadConfig({ home, env: {}, defaults: false, configPath: cluster }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      code: 'OCNE_CONFIG_INVALID_VALUE',
      file: cluster,
      line: 2,
      column: 13,
      path: 'osRegistry',
    });
    expect((error as ConfigError).message).toContain(message);
  });

  it('name, provider and control-plane count get their command defaults', async () => {
    const r = await load({});
    expect(r.cluster).toMatchObject({
      name: 'ocne',
      provider: 'libvirt',
      controlPlaneNodes: 1,
      workerNodes: 0,
    });
    const t = await load({
      options: { defaultProvider: 'oci' },
      cluster: 'providers:\n  oci:\n    compartment: ocid1.compartment.oc1..aaaaaaaa\n',
    });
    expect(t.cluster).toMatchObject({ provider: 'oci', workerNodes: 1 });
    expect(t.provenance.sourceOf('workerNodes')).toMatchObject({ layer: 'derived' });
  });

  it('directory defaults to the cluster file folder, and relative paths resolve against it', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    const path = join(sub, 'c.yaml');
    writeFileSync(path, 'clusterDefinition: capi.yaml\nextraIgnition: ign/\n');
    const r = await loadConfig({ home, env: {}, defaults: false, configPath: path });
    expect(r.cluster.directory).toBe(sub);
    expect(r.cluster.clusterDefinition).toBe(join(sub, 'capi.yaml'));
    expect(r.cluster.extraIgnition).toBe(join(sub, 'ign/'));
    writeFileSync(path, 'directory: ../other\nclusterDefinition: /abs/capi.yaml\n');
    const r2 = await loadConfig({ home, env: {}, defaults: false, configPath: path });
    expect(r2.cluster.directory).toBe(join(dir, 'other'));
    expect(r2.cluster.clusterDefinition).toBe('/abs/capi.yaml');
  });

  it('apiEndpoint is the virtual IP (internal LB), else the load balancer, derived from where that was set', async () => {
    const vip = await load({ cluster: 'name: c1\n\nvirtualIp: 192.168.122.230\n' });
    expect(vip.cluster.apiEndpoint).toEqual({ address: '192.168.122.230', internalLB: true });
    expect(vip.provenance.sourceOf('apiEndpoint')).toMatchObject({
      layer: 'derived',
      path: 'virtualIp',
      line: 3,
      column: 12,
      note: 'the virtual IP, else the load balancer',
    });
    const lb = await load({ cluster: 'name: c1\n', overrides: { loadBalancer: 'lb.example.com' } });
    expect(lb.cluster.apiEndpoint).toEqual({ address: 'lb.example.com', internalLB: false });
    expect(lb.provenance.sourceOf('apiEndpoint.address')).toMatchObject({
      layer: 'derived',
      source: '<cluster overrides>',
      path: 'loadBalancer',
    });
    expect((await load({})).cluster.apiEndpoint).toEqual({ address: '', internalLB: false });
  });
});

describe('finding the defaults file', () => {
  it('reads <home>/.ocne/defaults.yaml, or the file OCNE_DEFAULTS names', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ocne-home-'));
    try {
      mkdirSync(join(h, '.ocne'));
      writeFileSync(join(h, '.ocne', 'defaults.yaml'), 'registry: home.example.com\n');
      const fromHome = await loadConfig({ home: h, env: {} });
      expect(fromHome.cluster.registry).toBe('home.example.com');
      const other = file('registry: env.example.com\n');
      const fromEnv = await loadConfig({ home: h, env: { OCNE_DEFAULTS: other } });
      expect(fromEnv.cluster.registry).toBe('env.example.com');
      expect(fromEnv.provenance.sourceOf('registry')?.source).toBe(other);
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it('a missing implicit defaults file means built-ins; a missing explicit one is an error', async () => {
    const r = await loadConfig({ home, env: { OCNE_DEFAULTS: join(dir, 'absent.yaml') } });
    expect(r.cluster.registry).toBe('container-registry.oracle.com');
    const err = await loadConfig({ home, env: {}, defaults: join(dir, 'absent.yaml') }).catch((e) => e);
    expect(isOcneError(err) && err.code).toBe('OCNE_CONFIG_READ_FAILED');
    expect(err.message).toContain('no such file');
  });

  it('sshPublicKeyPath defaults to <home>/.ssh/id_rsa.pub only when that file exists', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ocne-home-'));
    try {
      expect((await loadConfig({ home: h, env: {} })).cluster.sshPublicKeyPath).toBe('');
      mkdirSync(join(h, '.ssh'));
      writeFileSync(join(h, '.ssh', 'id_rsa.pub'), 'ssh-rsa AAAA test\n');
      expect((await loadConfig({ home: h, env: {} })).cluster.sshPublicKeyPath).toBe(
        join(h, '.ssh', 'id_rsa.pub'),
      );
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });
});

describe('in-memory configuration', () => {
  it('objects and YAML text work like files, with the same checks', async () => {
    const r = await loadConfig({
      home,
      env: {},
      defaults: { registry: 'd.example.com' },
      config: { name: 'obj', kubernetesVersion: '1.30' },
    });
    expect(r.cluster).toMatchObject({ name: 'obj', registry: 'd.example.com', osTag: '1.30' });
    const t = await loadConfig({ home, env: {}, defaults: false, config: 'name: text\n' });
    expect(t.cluster.name).toBe('text');
    const err = await loadConfig({
      home,
      env: {},
      defaults: false,
      config: { workerNodes: 'three' } as unknown as ClusterConfig,
    }).catch((e) => e);
    expect(err).toMatchObject({
      code: 'OCNE_CONFIG_TYPE',
      path: 'workerNodes',
      file: '<cluster config object>',
    });
  });

  it('unknown keys in the cluster file are warnings with a hint', async () => {
    const path = file('name: x\nworkerNode: 2\n');
    const r = await loadConfig({ home, env: {}, defaults: false, configPath: path });
    expect(r.warnings).toEqual([
      expect.objectContaining({
        code: 'OCNE_CONFIG_UNKNOWN_KEY',
        path: 'workerNode',
        line: 2,
        column: 1,
        file: path,
      }),
    ]);
    expect(r.warnings[0]?.message).toContain('did you mean "workerNodes"');
  });

  it("upstream's internal tri-state keys are accepted with a warning, even in the strict defaults file", async () => {
    const r = await load({ defaults: 'headlessfake: true\n' });
    expect(r.cluster.headless).toBe(false);
    expect(r.warnings[0]).toMatchObject({ path: 'headlessfake', severity: 'warning' });
  });

  it('merge keys and aliases work as in Go YAML, with explicit keys winning', async () => {
    const r = await load({
      cluster:
        'x-base: &base\n  podSubnet: 10.9.0.0/16\n  registry: base.example.com\n<<: *base\nregistry: mine.example.com\nserviceSubnet: &svc 10.8.0.0/16\n',
    });
    expect(r.cluster.podSubnet).toBe('10.9.0.0/16');
    expect(r.cluster.registry).toBe('mine.example.com');
    expect(r.warnings.map((w) => w.path)).toEqual(['x-base']);
    const d = await load({
      defaults: 'proxy: &p\n  httpProxy: http://p:3128\nproviders:\n  oci:\n    proxy: *p\n',
    });
    expect(d.cluster.providers.oci.proxy.httpProxy).toBe('http://p:3128');
  });

  it('an alias that contains itself is an error, not a hang', async () => {
    const err = await load({ cluster: 'applications: &a\n  - name: x\n    config: *a\n  - *a\n' }).catch(
      (e) => e,
    );
    expect(isOcneError(err) && err.code).toBe('OCNE_CONFIG_SYNTAX');
  });

  it('kubernetesVersion written as a YAML number keeps its text', async () => {
    const r = await load({ cluster: 'kubernetesVersion: 1.30\n' });
    expect(r.cluster.kubernetesVersion).toBe('1.30');
  });

  it('an aborted signal stops loading', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(loadConfig({ home, env: {}, signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
