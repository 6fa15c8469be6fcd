// The BYO flow through the real `ocne` process, as a user runs it: start, join -w, join -n, show,
// list, a second start, delete; each in a fresh temporary home.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caCertHash, decodeDataUrlText, type IgnitionConfig } from '@ocne/ignition';
import { ignitionValidate } from '@ocne/test-ignition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { byoConfig, type Run, ocne as runOcne } from './cli-process.js';

let home: string;

/** Runs the CLI from source in a child process with HOME set to the temporary home. */
const ocne = (args: string[], env: Record<string, string> = {}): Promise<Run> => runOcne(home, args, env);

const file = (config: IgnitionConfig, path: string) => {
  const f = config.storage?.files?.find((x) => x.path === path);
  return f?.contents?.source ? decodeDataUrlText(f.contents.source, f.contents.compression) : undefined;
};

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-e2e-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('ocne cluster with the byo provider', () => {
  let init: IgnitionConfig;

  it('start prints the init Ignition on stdout, logs on stderr, and stores kubeconfig and cache with mode 0600', async () => {
    const run = await ocne(['cluster', 'start', '-c', byoConfig]);
    expect(run.stderr).not.toMatch(/ERRO|level=error/);
    expect(run.status).toBe(0);
    init = JSON.parse(run.stdout) as IgnitionConfig;
    expect(init.ignition.version).toBe('3.4.0');
    expect(ignitionValidate(run.stdout.trim())).toEqual({ status: 0, output: '' });
    expect(file(init, '/etc/kubernetes/kubeadm.conf')).toContain(
      'controlPlaneEndpoint: 192.168.122.230:6443',
    );
    expect(run.stderr).toMatch(
      /^time="[^"]+" level=info msg="Saving kubeconfig to .*kubeconfig\.demo-byo: ok"$/m,
    );
    const kubeconfig = join(home, '.kube', 'kubeconfig.demo-byo');
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.ocne', 'clusters.yaml')).mode & 0o777).toBe(0o600);
    // The CA in the Ignition is the CA of the kubeconfig.
    const kc = parse(readFileSync(kubeconfig, 'utf8'));
    const caPem = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    expect(file(init, '/etc/kubernetes/pki/ca.crt')).toBe(caPem);
    expect(kc.clusters[0].cluster.server).toBe('https://192.168.122.230:6443');
  });

  it('join -w 1 prints the worker Ignition; the token on stderr is the one in the join configuration, the CA pin matches the kubeconfig', async () => {
    const run = await ocne(['cluster', 'join', '-w', '1', '-c', byoConfig]);
    expect(run.status).toBe(0);
    const token =
      /^Run this command before booting the new node to allow it to join the cluster: kubeadm token create ([a-z0-9]{6}\.[a-z0-9]{16})$/m.exec(
        run.stderr,
      )?.[1];
    expect(token).toBeDefined();
    const joinIgn = JSON.parse(run.stdout) as IgnitionConfig;
    const conf = parse(file(joinIgn, '/etc/kubernetes/kubeadm.conf')!);
    expect(conf.discovery.bootstrapToken.token).toBe(token);
    const kc = parse(readFileSync(join(home, '.kube', 'kubeconfig.demo-byo'), 'utf8'));
    const caPem = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    expect(conf.discovery.bootstrapToken.caCertHashes).toEqual([caCertHash(caPem)]);
    expect(joinIgn.storage?.files?.some((f) => f.path.startsWith('/etc/keepalived'))).toBe(false);
  });

  it('join -n 1 prints control-plane Ignition and the upload-certs and token commands', async () => {
    const run = await ocne(['cluster', 'join', '-n', '1', '-c', byoConfig]);
    expect(run.status).toBe(0);
    const m =
      /Run these commands before booting the new node to allow it to join the cluster:\n\techo "chroot \/hostroot kubeadm init phase upload-certs --certificate-key ([0-9a-f]{64}) --upload-certs" \| ocne cluster console --node (\S+)\n\tkubeadm token create ([a-z0-9.]{23})\n/.exec(
        run.stderr,
      );
    expect(m).not.toBeNull();
    const joinIgn = JSON.parse(run.stdout) as IgnitionConfig;
    const conf = parse(file(joinIgn, '/etc/kubernetes/kubeadm.conf')!.split('\n---\n')[0]!);
    expect(conf.controlPlane.certificateKey).toBe(m![1]);
    expect(conf.discovery.bootstrapToken.token).toBe(m![3]);
    expect(run.stderr).toContain('level=warning');
    expect(joinIgn.storage?.files?.some((f) => f.path === '/etc/keepalived/keepalived.conf')).toBe(true);
  });

  it('join with both counts is refused as upstream does', async () => {
    const run = await ocne(['cluster', 'join', '-n', '1', '-w', '1', '-c', byoConfig]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'The BYO provider cannot join worker and control plane nodes at the same time',
    );
    expect(run.stdout).toBe('');
  });

  it('list and show report the cached cluster; show prints the kubeconfig path, as upstream', async () => {
    expect((await ocne(['cluster', 'list'])).stdout).toBe('demo-byo\n');
    // Upstream's BYO workflow: export KUBECONFIG=$(ocne cluster show -C byocluster)
    const show = await ocne(['cluster', 'show', '-C', 'demo-byo']);
    expect(show.status).toBe(0);
    expect(show.stdout).toBe(`${join(home, '.kube', 'kubeconfig.demo-byo')}\n`);
    const all = await ocne(['cluster', 'show', '-C', 'demo-byo', '-a']);
    const shown = parse(all.stdout);
    expect(shown.kubeconfig).toBe(join(home, '.kube', 'kubeconfig.demo-byo'));
    expect(shown.config).toMatchObject({ name: 'demo-byo', provider: 'byo', virtualIp: '192.168.122.230' });
    expect((await ocne(['cluster', 'show', '-C', 'demo-byo', '-f', 'config.provider'])).stdout).toBe('byo\n');
    // Field names compare without case, as upstream's; only the entry's own fields are fields.
    expect((await ocne(['cluster', 'show', '-C', 'demo-byo', '-f', 'Config.VirtualIP'])).stdout).toBe(
      '192.168.122.230\n',
    );
    const proto = await ocne(['cluster', 'show', '-C', 'demo-byo', '-f', 'constructor']);
    expect([proto.status, proto.stdout]).toEqual([2, '']);
  }, 60_000);

  it('a second start goes on to the application install, which says clearly what it needs (the catalog)', async () => {
    const run = await ocne(['cluster', 'start', '-c', byoConfig]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Cluster demo-byo is running already');
    expect(run.stderr).toContain('needs the OCNE application catalog');
  });

  it('--log-format json prints the event stream on stderr', async () => {
    const run = await ocne(['--log-format', 'json', 'cluster', 'join', '-w', '1', '-c', byoConfig]);
    expect(run.status).toBe(0);
    const events = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'done', ok: true });
    expect(
      events.some((e) => e.type === 'instructions' && e.commands[0].startsWith('kubeadm token create')),
    ).toBe(true);
  });

  it('delete removes the kubeconfig and the cache entry', async () => {
    const run = await ocne(['cluster', 'delete', '-C', 'demo-byo']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('Deleting file');
    expect(() => statSync(join(home, '.kube', 'kubeconfig.demo-byo'))).toThrow();
    expect((await ocne(['cluster', 'list'])).stdout).toBe('');
  });
});

describe('ocne errors and exit codes', () => {
  it('an unknown flag is a usage error: exit 2', async () => {
    const run = await ocne(['cluster', 'start', '--no-such-flag']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('--virtual-ip and --load-balancer together: exit 2', async () => {
    const run = await ocne([
      'cluster',
      'start',
      '-P',
      'byo',
      '--virtual-ip',
      '10.0.0.5',
      '--load-balancer',
      'lb',
    ]);
    expect(run.status).toBe(2);
  });

  it('a bad configuration file: exit 1 with file, line and column, no stack trace', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'provider: byo\nname: x\npodSubnet: 10.0.0.0/33\n');
    const run = await ocne(['cluster', 'start', '-c', bad]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${bad}:3:12: podSubnet: expected a CIDR`);
    expect(run.stderr).not.toContain('    at ');
  });

  it('moving a node needs its cluster, the destination and the node: exit 2', async () => {
    const run = await ocne(['cluster', 'join', '--destination', '/tmp/none', '--node', 'n1']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('moving a node needs --kubeconfig (its cluster), --destination and --node');
  });

  it('a byo join without a started cluster says what to do', async () => {
    const run = await ocne(['cluster', 'join', '-c', byoConfig]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('start the cluster first');
  });
});
