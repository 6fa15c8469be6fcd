// The Cluster facade and Operation<T>, as an embedding program uses them.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Cluster, registerProvider, startOperation } from '@ocne/cluster';
import type { ResolvedConfig } from '@ocne/config';
import { type ClusterProvider, isOcneError, type OcneEvent } from '@ocne/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const byoYaml = join(here, '../../../examples/byo/byo.yaml');
/** The text of a file of an Ignition config, decoded from its data URL. */
function ignitionFile(ignition: string | undefined, path: string): string {
  const files = (
    JSON.parse(ignition ?? '{}') as {
      storage?: { files?: { path: string; contents?: { source?: string; compression?: string } }[] };
    }
  ).storage?.files;
  const contents = files?.find((f) => f.path === path)?.contents;
  if (contents?.source === undefined) throw new Error(`no ${path} in the Ignition`);
  const comma = contents.source.indexOf(',');
  const meta = contents.source.slice(5, comma);
  const data = contents.source.slice(comma + 1);
  const bytes = meta.endsWith(';base64')
    ? Buffer.from(data, 'base64')
    : Buffer.from(decodeURIComponent(data));
  return (contents.compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
}
const kubeadmConf = (ignition: string | undefined) => ignitionFile(ignition, '/etc/kubernetes/kubeadm.conf');

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-facade-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('Operation', () => {
  it('is awaitable and iterable; events are numbered, stamped, JSON-serializable and end with done', async () => {
    const op = startOperation(async ({ emit }) => {
      emit({ type: 'log', level: 'info', message: 'one' });
      await new Promise((r) => setTimeout(r, 5));
      emit({ type: 'step', step: 'Waiting for kubeconfig', status: 'started' });
      emit({ type: 'step', step: 'Waiting for kubeconfig', status: 'succeeded' });
      return 42;
    });
    const seen: OcneEvent[] = [];
    for await (const e of op) seen.push(e);
    expect(await op).toBe(42);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.map((e) => e.type)).toEqual(['log', 'step', 'step', 'done']);
    expect(JSON.parse(JSON.stringify(seen))).toEqual(seen);
    expect(new Date(seen[0]!.timestamp).getTime()).not.toBeNaN();
    expect(op.events).toHaveLength(4);
  });

  it('onEvent sees every event; a failing listener breaks nothing', async () => {
    const got: string[] = [];
    const op = startOperation(
      async ({ emit }) => {
        emit({ type: 'log', level: 'info', message: 'x' });
      },
      {
        onEvent: (e) => {
          got.push(e.type);
          throw new Error('listener bug');
        },
      },
    );
    await op;
    expect(got).toEqual(['log', 'done']);
  });

  it('a failure rejects with the error and ends the stream with done ok:false', async () => {
    const op = startOperation(async () => {
      throw Object.assign(new Error('boom'), { code: 'OCNE_X' });
    });
    await expect(op).rejects.toThrow('boom');
    expect(op.events.at(-1)).toMatchObject({ type: 'done', ok: false, error: { message: 'boom' } });
  });

  it('cancel() aborts the signal and rejects with OCNE_CANCELLED', async () => {
    const op = startOperation(
      ({ signal }) =>
        new Promise<void>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    setTimeout(() => op.cancel('user pressed stop'), 5);
    const error = await op.promise().catch((e) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_CANCELLED');
    expect(op.signal.aborted).toBe(true);
  });

  it("the caller's signal cancels too", async () => {
    const ac = new AbortController();
    ac.abort();
    const op = startOperation(async () => 1, { signal: ac.signal });
    await expect(op).rejects.toMatchObject({ code: 'OCNE_CANCELLED' });
  });
});

describe('Cluster (byo)', () => {
  it('start, join, show, list, delete in an isolated home', async () => {
    const cluster = await Cluster.open({ configPath: byoYaml, home, defaults: false });
    expect(cluster.name).toBe('demo-byo');
    expect(cluster.provider).toBe('byo');
    const start = cluster.start();
    const events: OcneEvent[] = [];
    start.onEvent((e) => events.push(e));
    const result = await start;
    expect(result.alreadyRunning).toBe(false);
    expect(JSON.parse(result.ignition!).ignition.version).toBe('3.4.0');
    expect(statSync(result.kubeconfigPath).mode & 0o777).toBe(0o600);
    expect(
      events.some(
        (e) => e.type === 'step' && e.status === 'succeeded' && e.step.startsWith('Saving kubeconfig'),
      ),
    ).toBe(true);

    const join1 = cluster.join({ controlPlaneNodes: 1, firstControlPlaneNode: 'cp-1' });
    const joined = await join1;
    expect(joined.commands[0]).toMatch(/--node cp-1$/);
    expect(join1.events.some((e) => e.type === 'instructions')).toBe(true);

    expect((await Cluster.list({ home })).map((c) => c.name)).toEqual(['demo-byo']);
    expect(await cluster.show()).toMatchObject({
      name: 'demo-byo',
      provider: 'byo',
      kubeconfigPath: result.kubeconfigPath,
    });
    await cluster.delete();
    expect(await Cluster.list({ home })).toEqual([]);
    expect(() => statSync(result.kubeconfigPath)).toThrow();
  });

  it('join reads a kubeconfig given as a pipe (`-k <(...)`) as it reads the file', async () => {
    const cluster = await Cluster.open({ configPath: byoYaml, home, defaults: false });
    const { kubeconfigPath } = await cluster.start();
    const fromFile = await cluster.join({ workerNodes: 1 });
    const fifo = join(home, 'kubeconfig.pipe');
    execFileSync('mkfifo', [fifo]);
    // A writer that opens the pipe only after the join has started reading it.
    const writer = spawn('sh', ['-c', 'sleep 0.2; cat "$0" > "$1"', kubeconfigPath, fifo]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const fromPipe = await cluster.join({ workerNodes: 1, kubeconfigPath: fifo });
    expect(await written).toBe(0);
    // The CA hash of the join configuration comes from the kubeconfig: the same either way.
    const caHashes = (ignition: string | undefined) =>
      /caCertHashes:\n(\s+- sha256:[0-9a-f]{64}\n)+/.exec(kubeadmConf(ignition))?.[0];
    expect(caHashes(fromPipe.ignition)).toBeDefined();
    expect(caHashes(fromPipe.ignition)).toBe(caHashes(fromFile.ignition));
  }, 15_000);

  it('start and join read the files the configuration names; a clusterDefinition stays unread', async () => {
    writeFileSync(join(home, 'key.pub'), 'ssh-ed25519 AAAAC3NzaFILE file@test\n');
    writeFileSync(
      join(home, 'motd.bu'),
      'variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hello\n',
    );
    const cluster = await Cluster.open({
      config: `provider: byo\nname: f\nvirtualIp: 10.1.1.1\nproviders:\n  byo:\n    networkInterface: eth0\nsshPublicKeyPath: ${join(home, 'key.pub')}\nextraIgnition: ${join(home, 'motd.bu')}\nclusterDefinition: ${join(home, 'absent.yaml')}\n`,
      home,
      defaults: false,
    });
    for (const ignition of [
      (await cluster.start()).ignition!,
      (await cluster.join({ workerNodes: 1 })).ignition!,
    ]) {
      const config = JSON.parse(ignition) as {
        passwd: { users: Array<{ name: string; sshAuthorizedKeys?: string[] }> };
        storage: { files: Array<{ path: string }> };
      };
      expect(config.passwd.users.find((u) => u.name === 'ocne')?.sshAuthorizedKeys).toEqual([
        'ssh-ed25519 AAAAC3NzaFILE file@test\n',
      ]);
      expect(config.storage.files.some((f) => f.path === '/etc/motd')).toBe(true);
    }
    const missing = await Cluster.open({
      config: `provider: byo\nname: g\nvirtualIp: 10.1.1.1\nproviders:\n  byo:\n    networkInterface: eth0\nsshPublicKeyPath: ${join(home, 'absent.pub')}\n`,
      home,
      defaults: false,
    });
    await expect(missing.start()).rejects.toMatchObject({
      code: 'OCNE_CONFIG_FILE_MISSING',
      key: 'sshPublicKeyPath',
    });
  });

  it('an error inside extraIgnitionInline names the configuration file and its line there', async () => {
    const file = join(home, 'inline.yaml');
    writeFileSync(
      file,
      [
        'provider: byo',
        'name: inline',
        'virtualIp: 10.1.1.1',
        'providers:',
        '  byo:',
        '    networkInterface: eth0',
        'extraIgnitionInline: |',
        '  variant: fcos',
        '  version: 1.5.0',
        '  storage:',
        '    files:',
        '      - path: /etc/motd',
        '        mode: rw-r--r--',
        '',
      ].join('\n'),
    );
    const cluster = await Cluster.open({ configPath: file, home, defaults: false });
    const error = await Promise.resolve(cluster.start()).catch((e: unknown) => e);
    // Line 6, column 13 of the inline text: line 7 + 6 of the file, two columns further in.
    expect(error).toMatchObject({ code: 'OCNE_IGNITION_INVALID', source: file, line: 13, column: 15 });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${file}:13:15: storage\\.files\\[0\\]\\.mode: expected a whole number, got "rw-r--r--" \\(in extraIgnitionInline\\)$`,
      ),
    );
  });

  it('unknown keys in the cluster file reach the events as warnings', async () => {
    const cluster = await Cluster.open({
      config:
        'provider: byo\nname: w\nvirtualIp: 10.1.1.1\nproviders:\n  byo:\n    networkInterface: eth0\nworkerNode: 3\n',
      home,
      defaults: false,
    });
    const op = cluster.start();
    await op;
    expect(op.events.find((e) => e.type === 'warning')).toMatchObject({
      code: 'OCNE_CONFIG_UNKNOWN_KEY',
      path: 'workerNode',
      line: 7,
    });
  });

  it('a start with a different Kubernetes version than the cached cluster is refused', async () => {
    await (await Cluster.open({ configPath: byoYaml, home, defaults: false })).start();
    const other = await Cluster.open({
      configPath: byoYaml,
      home,
      defaults: false,
      overrides: { kubernetesVersion: '1.31' },
    });
    await expect(other.start()).rejects.toMatchObject({
      code: 'OCNE_CLUSTER_MISMATCH',
      message:
        'the Kubernetes version of the existing cluster is 1.33. The target Kubernetes version is 1.31',
    });
  });

  it('operations a provider does not have say so', async () => {
    const cluster = await Cluster.open({
      config: {
        provider: 'oci',
        name: 'lv',
        providers: { oci: { compartment: 'ocid1.compartment.oc1..x' } },
      },
      home,
      defaults: false,
    });
    // OCI nodes join by editing the Cluster API resources (upstream's oci Join says so): no join here.
    const kubeconfigPath = join(home, 'lv.kubeconfig');
    writeFileSync(kubeconfigPath, 'apiVersion: v1\nkind: Config\n');
    await expect(cluster.join({ workerNodes: 1, kubeconfigPath })).rejects.toMatchObject({
      code: 'OCNE_PROVIDER_UNAVAILABLE',
    });
  });

  it('embedders can register their own provider', async () => {
    const calls: string[] = [];
    const custom: ClusterProvider<ResolvedConfig> = {
      name: 'custom',
      capabilities: { operations: ['start', 'join', 'delete'], userBootsNodes: false },
      start: async ({ emit }) => {
        calls.push('start');
        emit({ type: 'step', step: 'Creating custom things', status: 'succeeded' });
        return { kubeconfig: 'apiVersion: v1\nkind: Config\n' };
      },
      postStart: async () => {
        calls.push('postStart');
      },
      join: async () => ({ commands: [] }),
      delete: async () => {
        calls.push('delete');
      },
    };
    registerProvider('custom', async () => custom);
    const cluster = await Cluster.open({
      config: { name: 'mine', provider: 'custom' },
      home,
      defaults: false,
    });
    await cluster.start();
    await cluster.start();
    await cluster.delete();
    expect(calls).toEqual(['start', 'postStart', 'delete']);
  });
});
