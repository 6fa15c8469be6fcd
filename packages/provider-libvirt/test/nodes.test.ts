// Clusters of several libvirt nodes, the pure parts: upstream's virtual IP allocation from a
// libvirt network's address (and its record in ips.yaml), the names of the nodes a start or a join
// adds, each node's Ignition (init for the first control-plane node, join for the others, the NIC
// files of its network) and its domain's NICs.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { decodeDataUrlText, type IgnitionConfig } from '@ocne/ignition';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { firstNodeIgnition, joiningNodeIgnition, type LibvirtIgnitionInput } from '../src/ignition.js';
import { allocateVirtualIp, networkAddress, nodesToJoin } from '../src/index.ts';
import { reserveClusterAddress } from '../src/ips.js';
import { domainXml } from '../src/templates.js';

// Debian's libvirt-daemon-config-network `default` network, as `virsh net-dumpxml` prints it.
const DEFAULT_NETWORK = `<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
  </ip>
</network>`;

describe('virtual IP allocation (upstream allocateIP)', () => {
  it("reads the network's first IPv4 address with its netmask or prefix", () => {
    expect(networkAddress(DEFAULT_NETWORK)).toEqual({ address: '192.168.122.1', prefix: 24 });
    expect(networkAddress("<network><ip address='10.9.0.1' prefix='16'/></network>")).toEqual({
      address: '10.9.0.1',
      prefix: 16,
    });
    expect(networkAddress('<network><name>n</name></network>')).toBeUndefined();
  });

  it('takes the gateway + 200, then the first address upward that no record holds', () => {
    const net = { address: '192.168.122.1', prefix: 24 };
    expect(allocateVirtualIp(net, [])).toBe('192.168.122.201');
    expect(allocateVirtualIp(net, ['192.168.122.201', '192.168.122.203'])).toBe('192.168.122.202');
    // A gateway that is not the network's first address counts from itself, as upstream's does.
    expect(allocateVirtualIp({ address: '10.0.0.20', prefix: 16 }, [])).toBe('10.0.0.220');
    expect(allocateVirtualIp({ address: '10.0.0.50', prefix: 24 }, [])).toBe('10.0.0.250');
  });

  it('fails when gateway + 200 leaves the subnet or every address above it is taken', () => {
    expect(() => allocateVirtualIp({ address: '10.0.0.1', prefix: 28 }, [])).toThrow(
      expect.objectContaining({ code: 'OCNE_LIBVIRT_NO_VIRTUAL_IP' }),
    );
    const taken = Array.from({ length: 55 }, (_, i) => `192.168.122.${201 + i}`);
    // .255 (the broadcast address) is still in the subnet for upstream's loop.
    expect(allocateVirtualIp({ address: '192.168.122.1', prefix: 24 }, taken.slice(0, 54))).toBe(
      '192.168.122.255',
    );
    expect(() => allocateVirtualIp({ address: '192.168.122.1', prefix: 24 }, taken)).toThrow(
      expect.objectContaining({ code: 'OCNE_LIBVIRT_NO_VIRTUAL_IP' }),
    );
  });

  it('records the allocated address in ips.yaml under the lock, so the next cluster gets the next one', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ocne-vip-'));
    const net = { address: '192.168.122.1', prefix: 24 };
    const reserve = (name: string) =>
      reserveClusterAddress({
        home,
        name,
        host: '',
        ip: (used) => allocateVirtualIp(net, used),
        local: false,
        listenAddress: '127.0.0.1',
      });
    expect(await reserve('a')).toEqual({ host: '', ip: '192.168.122.201', port: 6443 });
    expect(await reserve('b')).toEqual({ host: '', ip: '192.168.122.202', port: 6444 });
    const file = parse(await readFile(join(home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(file.hosts['']).toEqual({
      ips: { '192.168.122.201': true, '192.168.122.202': true },
      ports: { 6443: true, 6444: true },
    });
  });
});

describe('the nodes of a cluster', () => {
  it('names the nodes a start or a join adds as upstream numbers them', () => {
    expect(nodesToJoin('c', ['c-control-plane-1'], { controlPlaneNodes: 2, workerNodes: 2 })).toEqual([
      { domain: 'c-control-plane-2', role: 'control-plane' },
      { domain: 'c-control-plane-3', role: 'control-plane' },
      { domain: 'c-worker-1', role: 'worker' },
      { domain: 'c-worker-2', role: 'worker' },
    ]);
    const running = ['c-control-plane-1', 'c-control-plane-3', 'c-worker-1', 'c-worker-2'];
    expect(nodesToJoin('c', running, { controlPlaneNodes: 0, workerNodes: 1 })).toEqual([
      { domain: 'c-worker-3', role: 'worker' },
    ]);
    expect(nodesToJoin('c', running, { controlPlaneNodes: 1, workerNodes: 0 })).toEqual([
      { domain: 'c-control-plane-4', role: 'control-plane' },
    ]);
  });

  const setup = async (): Promise<LibvirtIgnitionInput> => {
    const home = await mkdtemp(join(tmpdir(), 'ocne-nodes-'));
    const config = await loadConfig({
      config: 'provider: libvirt\nname: c\ncontrolPlaneNodes: 3\nworkerNodes: 1\n',
      defaults: false,
      home,
      env: {},
    });
    return {
      cluster: config.cluster,
      files: {},
      apiAddress: '192.168.122.201',
      internalLB: true,
      bridge: true,
      targetIp: '127.0.0.1',
    };
  };
  const files = (ignition: IgnitionConfig) =>
    new Map(
      (ignition.storage?.files ?? []).map((f) => [
        f.path,
        decodeDataUrlText(f.contents?.source ?? '', f.contents?.compression),
      ]),
    );
  const TOKEN = 'abcdef.0123456789abcdef';
  const HASH = `sha256:${'a'.repeat(64)}`;

  it('gives the first node kubeadm init, both NICs and the route on its user NIC', async () => {
    const input = await setup();
    const first = files(
      firstNodeIgnition(
        input,
        { domain: 'c-control-plane-1', first: true, role: 'control-plane' },
        { caCertPem: 'CA', caKeyPem: 'KEY', certificateKey: 'f'.repeat(64) },
      ),
    );
    expect(first.get('/etc/hostname')).toBe('c-control-plane-1');
    expect(first.get('/etc/sysconfig/network-scripts/ifcfg-enp0s2')).toContain('DEFROUTE=yes\n');
    expect(first.get('/etc/sysconfig/network-scripts/ifcfg-enp1s0')).toContain('DEFROUTE=no\n');
    expect(first.get('/etc/kubernetes/kubeadm.conf')).toContain('kind: InitConfiguration');
    expect(first.get('/etc/kubernetes/pki/ca.key')).toBe('KEY');
  });

  it('gives joining nodes kubeadm join with the token, CA hash and API address, on the network NIC only', async () => {
    const input = await setup();
    const worker = files(
      joiningNodeIgnition(
        input,
        { domain: 'c-worker-1', first: false, role: 'worker' },
        { token: TOKEN, caCertHashes: [HASH] },
      ),
    );
    expect(worker.get('/etc/hostname')).toBe('c-worker-1');
    expect(worker.has('/etc/sysconfig/network-scripts/ifcfg-enp0s2')).toBe(false);
    expect(worker.get('/etc/sysconfig/network-scripts/ifcfg-enp1s0')).toContain('DEFROUTE=yes\n');
    const join = worker.get('/etc/kubernetes/kubeadm.conf') ?? '';
    expect(join).toContain('kind: JoinConfiguration');
    expect(join).toContain(TOKEN);
    expect(join).toContain(HASH);
    expect(join).toContain('192.168.122.201:6443');
    expect(join).not.toContain('certificateKey');
    expect(worker.has('/etc/kubernetes/pki/ca.key')).toBe(false);

    const cp = files(
      joiningNodeIgnition(
        input,
        { domain: 'c-control-plane-2', first: false, role: 'control-plane' },
        { token: TOKEN, caCertHashes: [HASH], certificateKey: 'e'.repeat(64) },
      ),
    );
    expect(cp.get('/etc/hostname')).toBe('c-control-plane-2');
    expect(cp.get('/etc/kubernetes/kubeadm.conf')).toContain(`certificateKey: ${'e'.repeat(64)}`);
    // The virtual IP stack (keepalived + nginx) runs on every control-plane node, on enp1s0.
    expect([...cp.keys()].some((path) => path.includes('keepalived'))).toBe(true);
    expect([...worker.keys()].some((path) => path.includes('keepalived'))).toBe(false);
  });

  it('puts a joining node on the libvirt network only (no user NIC, no tunnel)', () => {
    const xml = domainXml({
      name: 'c-worker-1',
      hypervisor: 'kvm',
      arch: 'x86_64',
      memory: '4194304Ki',
      cpus: 2,
      pool: 'images',
      volume: 'c-worker-1.qcow2',
      ignitionPath: '/p/c-worker-1-init.ign',
      nics: [{ type: 'network', network: 'default', bus: 1, slot: 0 }],
      secureBoot: false,
      smm: false,
    });
    expect(xml).toContain("<source network='default'/>");
    expect(xml).toContain("bus='0x1' slot='0x0'");
    expect(xml).not.toContain('-netdev');
    expect(xml).not.toContain('hostfwd');
  });
});
