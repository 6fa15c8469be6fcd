// libvirt's qemu+ssh transport for real: an sshd on 127.0.0.1 (temporary host key, one authorized
// key, stopped by PID) in front of the test daemon, reached as
// `qemu+ssh://<user>@127.0.0.1:<port>/session?socket=…&keyfile=…&no_verify=1`. libvirt runs `nc -U`
// on the remote side for a `socket=` URI. The provider starts the tiny guest through it, the guest
// reads its Ignition, and delete leaves nothing. ssh itself runs through a wrapper (libvirt's
// `command=`) that reads no ssh config and writes no known_hosts, so the test leaves no trace in ~/.ssh.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { waitForGuest } from '@ocne/test-libvirt';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextFor, libvirt, libvirtConfig, serialLog, testProvider } from './helpers.ts';

const NAME = 'lvssh';
const DOMAIN = `${NAME}-control-plane-1`;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let dir: string;
let sshd: ChildProcess | undefined;
let uri: string;

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocne-sshd-'));
  for (const key of ['host_key', 'client_key']) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]);
  }
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')));
  const port = await freePort();
  const user = userInfo().username;
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      '',
    ].join('\n'),
  );
  // sshd started as root wants its privilege-separation folder.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  sshd = spawn('/usr/sbin/sshd', ['-D', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')], {
    stdio: 'ignore',
  });
  await waitForPort(port, 30_000);
  const wrapper = join(dir, 'ssh');
  await writeFile(
    wrapper,
    // One ssh connection shared by the many virsh calls of a start (each would else log in anew).
    `#!/bin/sh\nexec ssh -F none -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath=${join(dir, 'cm-%p')} -o ControlPersist=5 "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  const socket = new URL(libvirt.uri).searchParams.get('socket') ?? '';
  uri = `qemu+ssh://${user}@127.0.0.1:${port}/session?socket=${socket}&keyfile=${join(dir, 'client_key')}&no_verify=1&command=${wrapper}`;
}, 60_000);

afterAll(async () => {
  if (sshd?.pid !== undefined && sshd.exitCode === null) {
    const exited = new Promise((resolve) => sshd?.once('exit', resolve));
    sshd.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('qemu+ssh:// to a real sshd', () => {
  it('lists the daemon’s pools and domains through ssh', async () => {
    const pools = (await execa('virsh', ['-q', '-c', uri, 'pool-list', '--name'])).stdout;
    expect(pools.split('\n').map((p) => p.trim())).toContain(libvirt.pool.name);
  });

  it('starts the tiny guest through ssh, and deletes it through ssh', async () => {
    const setup = await libvirtConfig(NAME);
    setup.config.cluster.providers.libvirt.uri = uri;
    const provider = testProvider();
    try {
      await provider.start!(contextFor(setup.config, setup.home));
      const report = await waitForGuest(serialLog(DOMAIN), (r) => r.ignition !== undefined, {
        timeoutMs: 180_000,
      });
      const ignition = await readFile(join(libvirt.pool.path, `${DOMAIN}-init.ign`));
      expect(report.ignition).toEqual({ size: ignition.length, sha256: sha256(ignition) });
      // Remote as upstream counts it (a URI with a host): ips.yaml files the port under that host.
      const ips = await readFile(join(setup.home, '.ocne', 'ips.yaml'), 'utf8');
      expect(ips).toContain(`host: 127.0.0.1`);
      // Listed through ssh too.
      const domains = (await execa('virsh', ['-q', '-c', uri, 'list', '--all', '--name'])).stdout;
      expect(domains.split('\n')).toContain(DOMAIN);
    } finally {
      await provider.delete!(contextFor(setup.config, setup.home));
    }
    const local = (await execa('virsh', ['-q', '-c', libvirt.uri, 'list', '--all', '--name'])).stdout;
    expect(local.split('\n').filter((n) => n.startsWith(NAME))).toEqual([]);
    expect((await readdir(libvirt.pool.path)).filter((f) => f.startsWith(NAME))).toEqual([]);
  });
});
