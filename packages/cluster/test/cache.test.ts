// The cluster cache in upstream's format (upstream-ocne.md §2.5), with real files in temporary
// homes, a cache file written by upstream's Go code, and real child processes competing for it.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type ClusterConfig,
  ConfigError,
  loadConfig,
  parseClusterConfig,
  type ResolvedClusterConfig,
  resolveConfig,
} from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ClusterCache } from '../src/cache.js';

const HOOKS = fileURLToPath(new URL('../../../scripts/source-hooks.mjs', import.meta.url));
const CACHE_MODULE = new URL('../src/cache.ts', import.meta.url).href;
// The child process imports the lock of `@ocne/core` (found by package name, read from source).
const CORE_MODULE = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('@ocne/core/package.json')), 'src', 'index.ts'),
).href;
const UPSTREAM_FIXTURE = fileURLToPath(new URL('./fixtures/upstream-clusters.yaml', import.meta.url));

let root: string;
let counter = 0;
const newHome = (): string => {
  const home = join(root, `home-${counter++}`);
  mkdirSync(home);
  return home;
};
const mode = (path: string): number => statSync(path).mode & 0o777;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ocne-cluster-cache-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A resolved config, as resolveConfig makes it (without validation, so any provider settings go). */
function resolved(config: ClusterConfig): ResolvedClusterConfig {
  return resolveConfig([parseClusterConfig(stringify(config), { file: '<test>' }).layer], {
    skipValidation: true,
  }).cluster;
}

const byo = (name = 'byo-demo'): ResolvedClusterConfig =>
  resolved({
    name,
    provider: 'byo',
    virtualIp: '192.168.122.50',
    providers: { byo: { networkInterface: 'enp1s0' } },
  });

/** Every tri-state flipped from its default, lists, any-typed values and awkward strings. */
const olvm = (): ResolvedClusterConfig =>
  resolved({
    name: 'olvm-demo',
    provider: 'olvm',
    headless: true,
    catalog: false,
    communityCatalog: true,
    kubernetesVersion: '1.31',
    sshPublicKey: 'ssh-ed25519 AAAAC3Nza user@host',
    clusterDefinitionInline: 'apiVersion: v1\nkind: List\nitems: []\n',
    password: 'yes',
    cipherSuites: '1_000',
    providers: {
      libvirt: { secureBoot: true, smm: true },
      oci: { selfManaged: true, compartment: 'ocid1.compartment.oc1..aaaa' },
      byo: { automaticTokenCreation: true },
      olvm: {
        selfManaged: true,
        olvmDatacenterName: 'dc1',
        olvmOvirtAPIServer: {
          serverURL: 'https://olvm.example.com/ovirt-engine/api',
          insecureSkipTLSVerify: true,
        },
        ovirtCsiDriver: { install: false },
        controlPlaneMachine: {
          virtualMachine: {
            cpu: { topology: { cores: 2, sockets: 1, threads: 1 } },
            network: {
              ipv6: { autoConf: true },
              ipv4: { subnet: '10.0.0.0/24', ipAddresses: '10.0.0.10-10.0.0.12' },
            },
          },
        },
        workerMachine: { virtualMachine: { network: { ipv6: { autoConf: true } } } },
      },
    },
    catalogs: [
      { name: 'extra', uri: 'https://charts.example.com', protocol: 'helm', namespace: 'ocne-system' },
    ],
    applications: [
      {
        name: 'app',
        release: 'app',
        namespace: 'apps',
        config: { on: 'yes', list: [1, 'two', null], nested: { a: 1.5 } },
      },
      { name: 'bare' },
    ],
  });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** The value at a path of parsed YAML. */
function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}

const codeOf = (error: unknown): string | undefined => (isOcneError(error) ? error.code : undefined);

describe('ClusterCache', () => {
  it('lives in <home>/.ocne/clusters.yaml', () => {
    const cache = new ClusterCache({ home: '/home/someone' });
    expect(cache.path).toBe('/home/someone/.ocne/clusters.yaml');
    expect(cache.lockPath).toBe('/home/someone/.ocne/ocne.pid');
  });

  it('adds, gets, lists and deletes, reading back exactly the config it wrote', async () => {
    const home = newHome();
    const cache = new ClusterCache({ home });
    expect(await cache.list()).toEqual([]);
    expect(await cache.get('olvm-demo')).toBeUndefined();
    expect(existsSync(join(home, '.ocne'))).toBe(false);

    const a = olvm();
    const b = byo();
    await cache.add({ config: a, kubeconfig: join(home, '.kube', 'kubeconfig.olvm-demo') });
    await cache.add({ config: b, kubeconfig: join(home, '.kube', 'kubeconfig.byo-demo') });

    const got = await cache.get('olvm-demo');
    expect(got).toEqual({
      name: 'olvm-demo',
      config: a,
      kubeconfig: join(home, '.kube', 'kubeconfig.olvm-demo'),
    });
    expect(got?.config).toStrictEqual(a);
    expect((await cache.get('byo-demo'))?.config).toStrictEqual(b);
    expect((await cache.list()).map((c) => c.name)).toEqual(['byo-demo', 'olvm-demo']);

    // A second instance (another process, in effect) sees the same.
    expect((await new ClusterCache({ home }).list()).map((c) => c.config)).toStrictEqual([b, a]);

    expect(await cache.delete('olvm-demo')).toBe(true);
    expect(await cache.delete('olvm-demo')).toBe(false);
    expect((await cache.list()).map((c) => c.name)).toEqual(['byo-demo']);
    expect(await cache.delete('byo-demo')).toBe(true);
    expect(await cache.list()).toEqual([]);
    expect(readFileSync(cache.path, 'utf8')).toBe('clusters: {}\n');
  });

  it('refuses to add a cluster whose name is taken, with upstream’s message', async () => {
    const home = newHome();
    const cache = new ClusterCache({ home });
    await cache.add({ config: byo(), kubeconfig: '/k/1' });
    const before = readFileSync(cache.path, 'utf8');
    const error = await rejection(cache.add({ config: byo(), kubeconfig: '/k/2' }));
    expect(codeOf(error)).toBe('OCNE_CLUSTER_EXISTS');
    expect(error.message).toBe('A cluster named byo-demo already exists');
    expect(readFileSync(cache.path, 'utf8')).toBe(before);
  });

  it('writes the file with 0600 in a 0700 .ocne folder, and leaves no lock or temp file', async () => {
    const home = newHome();
    const cache = new ClusterCache({ home });
    await cache.add({ config: byo(), kubeconfig: '/k' });
    expect(mode(cache.path)).toBe(0o600);
    expect(mode(join(home, '.ocne'))).toBe(0o700);
    expect(readdirSync(join(home, '.ocne'))).toEqual(['clusters.yaml']);
  });

  it('writes upstream’s layout: 4-space indentation, every field, and the fake keys', async () => {
    const home = newHome();
    const cache = new ClusterCache({ home });
    const config = olvm();
    await cache.add({ config, kubeconfig: '/home/u/.kube/kubeconfig.olvm-demo' });
    const text = readFileSync(cache.path, 'utf8');
    expect(
      text.startsWith(
        'clusters:\n    olvm-demo:\n        config:\n            providers:\n                libvirt:\n',
      ),
    ).toBe(true);
    expect(text).toContain('\n        kubeconfig: /home/u/.kube/kubeconfig.olvm-demo\n');
    expect(text).toContain(
      '\n            catalogs:\n                - protocol: helm\n                  uri: https://charts.example.com\n',
    );
    // Strings that YAML 1.1 readers would take for booleans or numbers are quoted.
    expect(text).toContain('password: "yes"');
    expect(text).toContain('cipherSuites: "1_000"');
    expect(text).toContain('"on": "yes"');
    expect(text).toContain('kubernetesVersion: "1.31"');

    const written = at(parse(text), ['clusters', 'olvm-demo', 'config']);
    const expectFake = (path: string[], fake: string, value: boolean): void => {
      const parent = at(written, path.slice(0, -1));
      expect(at(parent, path.slice(-1)), path.join('.')).toBe(value);
      expect(at(parent, [fake]), `${path.slice(0, -1).join('.')}.${fake}`).toBe(value);
    };
    expectFake(['headless'], 'headlessfake', true);
    expectFake(['catalog'], 'catalogfake', false);
    expectFake(['communityCatalog'], 'communityCatalogFake', true);
    expectFake(['providers', 'oci', 'selfManaged'], 'selfmanagedfake', true);
    expectFake(['providers', 'byo', 'automaticTokenCreation'], 'automaticTokenCreationfake', true);
    expectFake(['providers', 'olvm', 'selfManaged'], 'selfmanagedfake', true);
    expectFake(['providers', 'olvm', 'ovirtCsiDriver', 'install'], 'installFake', false);
    expectFake(
      ['providers', 'olvm', 'olvmOvirtAPIServer', 'insecureSkipTLSVerify'],
      'insecureSkipTLSVerifyFake',
      true,
    );
    for (const machine of ['controlPlaneMachine', 'workerMachine']) {
      expectFake(
        ['providers', 'olvm', machine, 'virtualMachine', 'network', 'ipv6', 'autoConf'],
        'autoConfFake',
        true,
      );
    }
    // Every field of the resolved config is there, with its value (the fake keys aside); the
    // derived apiEndpoint is not configuration, and resolution derives it again on reading.
    const withoutFakes = JSON.parse(JSON.stringify(written), (key, value) =>
      /fake$/i.test(key) ? undefined : value,
    ) as unknown;
    const { apiEndpoint: _derived, ...fields } = config;
    expect(withoutFakes).toStrictEqual(JSON.parse(JSON.stringify(fields)));
    // And the default-true tri-states of a plain config.
    await cache.add({ config: byo(), kubeconfig: '/k' });
    const plain = at(parse(readFileSync(cache.path, 'utf8')), ['clusters', 'byo-demo', 'config']);
    expect([at(plain, ['catalog']), at(plain, ['catalogfake'])]).toEqual([true, true]);
    const csi = at(plain, ['providers', 'olvm', 'ovirtCsiDriver']);
    expect([at(csi, ['install']), at(csi, ['installFake'])]).toEqual([true, true]);
  });

  it('quotes cluster names YAML would read as something else', async () => {
    const home = newHome();
    const cache = new ClusterCache({ home });
    for (const name of ['yes', '1.10', 'null', '007'])
      await cache.add({ config: byo(name), kubeconfig: `/k/${name}` });
    const text = readFileSync(cache.path, 'utf8');
    for (const name of ['yes', '1.10', 'null', '007']) expect(text).toContain(`\n    "${name}":\n`);
    expect((await cache.list()).map((c) => [c.name, c.config.name])).toEqual([
      ['007', '007'],
      ['1.10', '1.10'],
      ['null', 'null'],
      ['yes', 'yes'],
    ]);
  });

  describe('a cache upstream’s Go CLI wrote', () => {
    const upstreamHome = (): ClusterCache => {
      const home = newHome();
      mkdirSync(join(home, '.ocne'), { mode: 0o700 });
      writeFileSync(join(home, '.ocne', 'clusters.yaml'), readFileSync(UPSTREAM_FIXTURE));
      return new ClusterCache({ home });
    };

    it('is read with the fake keys, null pointers and omitted keys as upstream reads them', async () => {
      const cache = upstreamHome();
      const clusters = await cache.list();
      expect(clusters.map((c) => [c.name, c.kubeconfig])).toEqual([
        ['byo-cluster', '/home/user/.kube/kubeconfig.byo-cluster'],
        ['mycluster', '/home/user/.kube/kubeconfig.mycluster.local'],
      ]);
      const [b, l] = clusters.map((c) => c.config) as [ResolvedClusterConfig, ResolvedClusterConfig];
      expect(b.provider).toBe('byo');
      expect(b.headless).toBe(true);
      expect(b.catalog).toBe(true); // only `catalogfake: true` in the file
      expect(b.communityCatalog).toBe(false);
      expect(b.providers.libvirt.secureBoot).toBe(false); // `secureBoot: null`
      expect(b.providers.byo).toEqual({ automaticTokenCreation: false, networkInterface: 'enp1s0' });
      expect(b.providers.olvm.ovirtCsiDriver.install).toBe(true); // only `installFake: true`
      expect(b.providers.olvm.controlPlaneMachine.virtualMachine.cpu.topology).toEqual({
        cores: 0,
        sockets: 0,
        threads: 0,
      }); // `topology: {}`
      expect(b.kubernetesVersion).toBe('1.31');
      expect(b.osTag).toBe('1.31');
      expect(b.bootVolumeContainerImage).toBe('docker://container-registry.oracle.com/olcne/ock:1.31');
      expect(b.proxy).toEqual({
        httpsProxy: 'http://proxy.example.com:3128',
        httpProxy: '',
        noProxy: '.example.com,10.0.0.0/8',
      });
      expect(b.catalogs).toEqual([]);
      expect(l.communityCatalog).toBe(true);
      expect(l.workerNodes).toBe(2);
      expect(l.controlPlaneNodes).toBe(3);
      expect(l.providers.libvirt.uri).toBe('qemu+ssh://user@host/system');
      expect(l.providers.libvirt.controlPlaneNode).toEqual({ memory: '8388608Ki', cpu: 4, storage: '30Gi' });
      expect(l.catalogs).toEqual([
        { protocol: 'helm', uri: 'https://charts.example.com', name: 'my catalog', namespace: 'ocne-system' },
      ]);
      expect(l.applications).toEqual([
        {
          name: 'prometheus',
          release: 'prometheus',
          version: '',
          catalog: '',
          namespace: 'monitoring',
          config: { enabled: 'yes', replicas: 2 },
          configFrom: '',
        },
      ]);
    });

    it('gives the same config this SDK resolves from the same cluster file', async () => {
      const cache = upstreamHome();
      const cached = await cache.get('byo-cluster');
      const home = newHome();
      const { cluster } = await loadConfig({
        home,
        defaults: false,
        config: {
          name: 'byo-cluster',
          provider: 'byo',
          virtualIp: '192.168.122.100',
          headless: true,
          kubernetesVersion: '1.31',
          proxy: { httpsProxy: 'http://proxy.example.com:3128', noProxy: '.example.com,10.0.0.0/8' },
          providers: { byo: { networkInterface: 'enp1s0' } },
        },
      });
      expect(cached?.config).toStrictEqual(cluster);
    });

    it('keeps upstream’s entries as they were when adding and deleting', async () => {
      const cache = upstreamHome();
      const before = await cache.list();
      await cache.add({ config: byo(), kubeconfig: '/k' });
      const text = readFileSync(cache.path, 'utf8');
      // Upstream's own entry keeps its pointer-less tri-states and nulls.
      expect(text).toContain('                    secureBoot: null\n');
      expect(text).toContain('                    automaticTokenCreation: null\n');
      expect(text).toContain('                                topology: {}\n');
      expect(text.indexOf('byo-cluster:')).toBeLessThan(text.indexOf('byo-demo:'));
      expect(text.indexOf('byo-demo:')).toBeLessThan(text.indexOf('mycluster:'));
      expect((await cache.list()).filter((c) => c.name !== 'byo-demo')).toStrictEqual(before);
      expect(await cache.delete('byo-demo')).toBe(true);
      expect(await cache.list()).toStrictEqual(before);
    });
  });

  describe('a malformed cache file', () => {
    const malformed = (text: string): ClusterCache => {
      const home = newHome();
      mkdirSync(join(home, '.ocne'));
      writeFileSync(join(home, '.ocne', 'clusters.yaml'), text);
      return new ClusterCache({ home });
    };

    it('is reported with the file and line, and never overwritten', async () => {
      const text = 'clusters:\n    one:\n        config: @bad\n        kubeconfig: /k\n';
      const cache = malformed(text);
      const error = await rejection(cache.list());
      expect(codeOf(error)).toBe('OCNE_CACHE_INVALID');
      expect(error.message).toContain(`${cache.path}:3:17: not valid YAML:`);
      expect(error.cause).toBeDefined();
      for (const operation of [
        () => cache.get('one'),
        () => cache.add({ config: byo(), kubeconfig: '/k' }),
        () => cache.delete('one'),
      ]) {
        expect(codeOf(await rejection(operation()))).toBe('OCNE_CACHE_INVALID');
      }
      expect(readFileSync(cache.path, 'utf8')).toBe(text);
      expect(readdirSync(join(cache.path, '..'))).toEqual(['clusters.yaml']);
    });

    it('names the entry, key and line of a value of the wrong type', async () => {
      const cache = malformed(
        [
          'clusters:',
          '    good:',
          '        config:',
          '            name: good',
          '    bad:',
          '        config:',
          '            name: bad',
          '            workerNodes: many',
          '        kubeconfig: /k',
          '',
        ].join('\n'),
      );
      const error = await rejection(cache.get('good'));
      expect(codeOf(error)).toBe('OCNE_CACHE_INVALID');
      expect(error.message).toContain(`${cache.path}:8:26: clusters.bad.config.workerNodes:`);
      expect(error.cause).toBeInstanceOf(ConfigError);
      expect((error.cause as ConfigError).line).toBe(8);
      expect((error.cause as ConfigError).path).toBe('clusters.bad.config.workerNodes');
      expect(codeOf(await rejection(cache.add({ config: byo(), kubeconfig: '/k' })))).toBe(
        'OCNE_CACHE_INVALID',
      );
    });

    it.each([
      ['a list at the top', '- a\n- b\n', ':1:1:'],
      ['clusters as a list', 'clusters:\n    - a\n', ':2:5: clusters:'],
      ['an entry without config', 'clusters:\n    a:\n        kubeconfig: /k\n', ':3:9: clusters.a.config:'],
      ['duplicate names', 'clusters:\n    a: {config: {}}\n    a: {config: {}}\n', ':3:5:'],
      ['two documents', 'clusters: {}\n---\nclusters: {}\n', ':2:'],
    ])('rejects %s', async (_, text, where) => {
      const cache = malformed(text);
      const error = await rejection(cache.list());
      expect(codeOf(error)).toBe('OCNE_CACHE_INVALID');
      expect(error.message).toContain(`${cache.path}${where}`);
      expect(readFileSync(cache.path, 'utf8')).toBe(text);
    });

    it('rejects bytes that are not UTF-8 rather than rewriting them', async () => {
      const home = newHome();
      mkdirSync(join(home, '.ocne'));
      const bytes = Buffer.concat([
        Buffer.from('clusters:\n    a:\n        kubeconfig: /k/'),
        Buffer.from([0xff, 0xfe]),
      ]);
      writeFileSync(join(home, '.ocne', 'clusters.yaml'), bytes);
      const cache = new ClusterCache({ home });
      expect(codeOf(await rejection(cache.add({ config: byo(), kubeconfig: '/k' })))).toBe(
        'OCNE_CACHE_INVALID',
      );
      expect(readFileSync(cache.path).equals(bytes)).toBe(true);
    });

    it('accepts what yaml.v3 accepts: an empty file, comments, unknown keys', async () => {
      expect(await malformed('').list()).toEqual([]);
      expect(await malformed('# nothing yet\n').list()).toEqual([]);
      expect(await malformed('clusters:\n').list()).toEqual([]);
      const cache = malformed(
        'version: 2\nclusters:\n    a:\n        extra: 1\n        config:\n            name: a\n            future: true\n',
      );
      const [a] = await cache.list();
      expect(a?.name).toBe('a');
      expect(a?.kubeconfig).toBe('');
      await cache.add({ config: byo(), kubeconfig: '/k' });
      const text = readFileSync(cache.path, 'utf8');
      expect(text).toContain('version: 2\n');
      expect(text).toContain('            future: true\n');
    });
  });

  describe('locking', () => {
    it('loses no update when 4 processes add 20 clusters at once', async () => {
      const home = newHome();
      const base = join(root, `base-${counter++}.json`);
      writeFileSync(base, JSON.stringify(byo()));
      const script = join(root, `add-${counter++}.mjs`);
      writeFileSync(
        script,
        `import { readFileSync } from 'node:fs';
const { ClusterCache } = await import(${JSON.stringify(CACHE_MODULE)});
const [home, base, ...names] = process.argv.slice(2);
const config = JSON.parse(readFileSync(base, 'utf8'));
const cache = new ClusterCache({ home, lockTimeoutMs: 60000 });
await Promise.all(names.map((name) => cache.add({ config: { ...config, name }, kubeconfig: '/k/' + name })));
`,
      );
      const names = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
      await Promise.all(
        [0, 1, 2, 3].map(
          (p) =>
            new Promise<void>((resolve, reject) => {
              const child = spawn(
                process.execPath,
                ['--import', HOOKS, script, home, base, ...names.filter((_, i) => i % 4 === p)],
                { stdio: ['ignore', 'inherit', 'pipe'] },
              );
              let stderr = '';
              child.stderr?.on('data', (chunk: Buffer) => {
                stderr += chunk.toString();
              });
              child.once('exit', (code) =>
                code === 0 ? resolve() : reject(new Error(`child ${p}: ${stderr}`)),
              );
            }),
        ),
      );
      const cache = new ClusterCache({ home });
      const clusters = await cache.list();
      expect(clusters.map((c) => c.name)).toEqual(names);
      for (const c of clusters) expect(c.config).toStrictEqual({ ...byo(), name: c.name });
      expect(readdirSync(join(home, '.ocne'))).toEqual(['clusters.yaml']);
    }, 60_000);

    it('takes over a stale lock left by a dead process', async () => {
      const home = newHome();
      mkdirSync(join(home, '.ocne'));
      const cache = new ClusterCache({ home, lockTimeoutMs: 500 });
      writeFileSync(cache.lockPath, '2147483646');
      await cache.add({ config: byo(), kubeconfig: '/k' });
      expect(await cache.get('byo-demo')).toBeDefined();
      expect(existsSync(cache.lockPath)).toBe(false);
    });

    describe('held by a live process', () => {
      let home: string;
      let holder: ChildProcess;
      let cache: ClusterCache;

      beforeAll(async () => {
        home = newHome();
        cache = new ClusterCache({ home, lockTimeoutMs: 300 });
        await cache.add({ config: byo(), kubeconfig: '/k' });
        const script = join(root, `hold-${counter++}.mjs`);
        writeFileSync(
          script,
          `const { acquirePidLock } = await import(${JSON.stringify(CORE_MODULE)});
const lock = await acquirePidLock(process.argv[2]);
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
`,
        );
        holder = spawn(process.execPath, ['--import', HOOKS, script, cache.lockPath], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        await new Promise<void>((resolve, reject) => {
          holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
          holder.stdout?.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('locked')) resolve();
          });
        });
      });
      afterAll(async () => {
        if (holder.exitCode === null) {
          const exited = new Promise((resolve) => holder.once('exit', resolve));
          holder.stdin?.end();
          await exited;
        }
      });

      it('times out with OCNE_LOCK_TIMEOUT within lockTimeoutMs, changing nothing', async () => {
        const before = readFileSync(cache.path, 'utf8');
        const started = performance.now();
        const error = await rejection(cache.add({ config: byo('other'), kubeconfig: '/k' }));
        const elapsed = performance.now() - started;
        expect(codeOf(error)).toBe('OCNE_LOCK_TIMEOUT');
        // Upstream's words, then the process that holds the lock.
        expect(error.message).toMatch(
          new RegExp(`^Could not get pidfile lock at ${cache.lockPath}: process ${holder.pid} \\(`),
        );
        expect(elapsed).toBeGreaterThanOrEqual(290);
        expect(elapsed).toBeLessThan(2000);
        expect(codeOf(await rejection(cache.list()))).toBe('OCNE_LOCK_TIMEOUT');
        expect(readFileSync(cache.path, 'utf8')).toBe(before);
        expect(readFileSync(cache.lockPath, 'utf8')).toBe(String(holder.pid));
      });

      it('stops waiting when the signal aborts', async () => {
        const patient = new ClusterCache({ home, lockTimeoutMs: 10_000 });
        const controller = new AbortController();
        const reason = new Error('cancelled by the user');
        setTimeout(() => controller.abort(reason), 100);
        const started = performance.now();
        const error = await rejection(patient.delete('byo-demo', { signal: controller.signal }));
        expect(error).toBe(reason);
        expect(performance.now() - started).toBeLessThan(2000);
        // The cache's own signal works too.
        const owned = new ClusterCache({ home, signal: AbortSignal.abort(reason) });
        expect(await rejection(owned.list())).toBe(reason);
      });
    });
  });
});
