// The node segment's pure parts (an SDK extension: several nodes on user networking without a
// bridge): node addresses fixed by name, the virtual IP allocated as upstream allocates one on a
// network, one MAC per node, the multicast channel each cluster holds in ips.yaml (never shared by
// two live clusters, freed on delete), the configuration key, each node's Ignition (static
// ifcfg-enp1s0, the user NIC kept) and the QEMU arguments of its domain.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@ocne/config';
import { decodeDataUrlText, type IgnitionConfig } from '@ocne/ignition';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { firstNodeIgnition, joiningNodeIgnition, type LibvirtIgnitionInput } from '../src/ignition.js';
import { allocateSegmentChannel, releaseClusterAddress, reserveClusterAddress } from '../src/ips.js';
import {
  inSegment,
  segmentMac,
  segmentNodeAddress,
  segmentSubnet,
  segmentVirtualIp,
} from '../src/segment.js';
import { domainXml } from '../src/templates.js';

const file = (config: IgnitionConfig, path: string): string | undefined => {
  const contents = config.storage?.files?.find((f) => f.path === path)?.contents;
  return contents ? decodeDataUrlText(contents.source ?? '', contents.compression) : undefined;
};

describe('node segment addresses', () => {
  const subnet = segmentSubnet('198.18.0.0/24');

  it('gives each node an address fixed by its role and number', () => {
    expect(segmentNodeAddress(subnet, 'control-plane', 1)).toBe('198.18.0.11');
    expect(segmentNodeAddress(subnet, 'control-plane', 3)).toBe('198.18.0.13');
    expect(segmentNodeAddress(subnet, 'worker', 1)).toBe('198.18.0.101');
    expect(segmentNodeAddress(subnet, 'worker', 99)).toBe('198.18.0.199');
    expect(segmentNodeAddress(segmentSubnet('10.20.30.40/16'), 'worker', 2)).toBe('10.20.0.102');
    expect(() => segmentNodeAddress(subnet, 'worker', 100)).toThrow(
      expect.objectContaining({ code: 'OCNE_LIBVIRT_SEGMENT_FULL' }),
    );
    expect(() => segmentNodeAddress(subnet, 'control-plane', 90)).toThrow(
      expect.objectContaining({ code: 'OCNE_LIBVIRT_SEGMENT_FULL' }),
    );
  });

  it('takes the virtual IP as upstream does on a network: first address + 200, past those held', () => {
    expect(segmentVirtualIp(subnet, [])).toBe('198.18.0.201');
    expect(segmentVirtualIp(subnet, ['198.18.0.201', '192.168.122.201'])).toBe('198.18.0.202');
    expect(inSegment(subnet, '198.18.0.201')).toBe(true);
    expect(inSegment(subnet, '198.18.1.1')).toBe(false);
  });

  it('gives every node its own locally administered MAC', () => {
    expect(segmentMac('198.18.0.11')).toBe('02:4f:43:12:00:0b');
    expect(segmentMac('198.18.0.101')).toBe('02:4f:43:12:00:65');
  });

  it('refuses a subnet the layout does not fit', () => {
    expect(() => segmentSubnet('198.18.0.0/25')).toThrow(
      expect.objectContaining({ code: 'OCNE_CONFIG_INVALID_VALUE' }),
    );
  });
});

describe('node segment channels in ips.yaml', () => {
  it('hands each cluster of a host its own group and port, under the lock, and frees it on delete', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ocne-segment-'));
    const subnet = segmentSubnet('198.18.0.0/24');
    const reserve = (name: string, cidr: string) =>
      reserveClusterAddress({
        home,
        name,
        host: '',
        ip: (used) => segmentVirtualIp(subnet, used),
        local: false,
        listenAddress: '127.0.0.1',
        segmentSubnet: cidr,
      });
    const a = await reserve('a', '198.18.0.0/24');
    const b = await reserve('b', '198.18.0.0/24');
    const plain = await reserveClusterAddress({
      home,
      name: 'c',
      host: '',
      ip: '127.0.0.1',
      local: false,
      listenAddress: '127.0.0.1',
    });
    expect(a).toEqual({
      host: '',
      ip: '198.18.0.201',
      port: 6443,
      segment: { group: '239.255.77.1', port: 47000, subnet: '198.18.0.0/24' },
    });
    expect(b.segment).toEqual({ group: '239.255.77.2', port: 47001, subnet: '198.18.0.0/24' });
    expect(b.ip).toBe('198.18.0.202');
    expect(plain.segment).toBeUndefined();
    // A cluster keeps its record; the file holds the channel next to upstream's fields.
    expect(await reserve('a', '198.18.0.0/24')).toEqual(a);
    const text = await readFile(join(home, '.ocne', 'ips.yaml'), 'utf8');
    expect(parse(text).clusters.b).toEqual(b);
    await releaseClusterAddress(home, 'a');
    expect((await reserve('d', '198.18.0.0/24')).segment?.port).toBe(47000);
  });

  it('fails typed when every channel of the host is held', () => {
    const held = Array.from({ length: 1000 }, (_, n) => ({
      host: 'h',
      ip: '',
      port: 0,
      segment: { group: '', port: 47000 + n, subnet: '' },
    }));
    expect(allocateSegmentChannel(held, 'other', 's').port).toBe(47000);
    expect(() => allocateSegmentChannel(held, 'h', 's')).toThrow(
      expect.objectContaining({ code: 'OCNE_LIBVIRT_SEGMENT_FULL' }),
    );
  });
});

describe('the segment key of providers.libvirt', () => {
  const load = (text: string) =>
    loadConfig({
      config: `provider: libvirt\nname: s\n${text}`,
      defaults: false,
      home: '/nonexistent',
      env: {},
    });

  it('is off by default, with a subnet that meets neither slirp, pods nor services', async () => {
    const config = await load('');
    expect(config.cluster.providers.libvirt.segment).toEqual({ enabled: false, subnet: '198.18.0.0/24' });
    const on = await load('providers:\n  libvirt:\n    segment:\n      enabled: true\n');
    expect(on.cluster.providers.libvirt.segment.enabled).toBe(true);
  });

  it('refuses a subnet that overlaps the networks the nodes use, or is not IPv4 /8 to /24', async () => {
    const overlap = await load(
      'providers:\n  libvirt:\n    segment:\n      enabled: true\n      subnet: 192.18.0.0/16\n',
    ).catch((e: unknown) => e);
    expect(overlap).toBeInstanceOf(ConfigError);
    expect(String((overlap as Error).message)).toMatch(/overlaps providers\.libvirt\.slirpSubnet/);
    const v6 = await load('providers:\n  libvirt:\n    segment:\n      subnet: fd00::/64\n').catch(
      (e: unknown) => e,
    );
    expect(v6).toBeInstanceOf(ConfigError);
    expect((v6 as ConfigError).issues[0]?.path).toBe('providers.libvirt.segment.subnet');
  });
});

describe("a segment node's Ignition and domain", () => {
  const home = '/nonexistent';

  it('composes the Ignition as on a libvirt network, with a static segment NIC and the user NIC kept', async () => {
    const config = await loadConfig({
      config: 'provider: libvirt\nname: s\nworkerNodes: 1\n',
      defaults: false,
      home,
      env: {},
    });
    const input: LibvirtIgnitionInput = {
      cluster: config.cluster,
      files: {},
      apiAddress: '198.18.0.201',
      internalLB: true,
      bridge: false,
      targetIp: '127.0.0.1',
      segmentPrefix: 24,
    };
    const secrets = { caCertPem: 'ca', caKeyPem: 'key', certificateKey: 'k'.repeat(64) };
    const cp = firstNodeIgnition(
      input,
      { domain: 's-control-plane-1', first: true, role: 'control-plane', segmentAddress: '198.18.0.11' },
      secrets,
    );
    const worker = joiningNodeIgnition(
      input,
      { domain: 's-worker-1', first: false, role: 'worker', segmentAddress: '198.18.0.101' },
      { token: 'abcdef.0123456789abcdef', caCertHashes: ['sha256:00'] },
    );
    for (const [node, address] of [
      [cp, '198.18.0.11'],
      [worker, '198.18.0.101'],
    ] as const) {
      const ifcfg = file(node, '/etc/sysconfig/network-scripts/ifcfg-enp1s0');
      expect(ifcfg).toContain(`BOOTPROTO=none\nIPADDR=${address}\nPREFIX=24\nDEFROUTE=no\n`);
      expect(file(node, '/etc/sysconfig/network-scripts/ifcfg-enp0s2')).toContain('DEFROUTE=yes\n');
      // kubeadm's node IP is the segment NIC's, as on a libvirt network.
      expect(JSON.stringify(node.systemd)).toContain('NET_INTERFACE=enp1s0');
    }
    expect(file(cp, '/etc/keepalived/keepalived.conf')).toContain('198.18.0.201');
    expect(file(worker, '/etc/kubernetes/kubeadm.conf')).toContain('apiServerEndpoint: 198.18.0.201:6443');
  });

  it("puts the segment NIC where a network's NIC goes, and the devices libvirt adds where they go then", () => {
    const xml = domainXml({
      name: 's-worker-1',
      hypervisor: 'qemu',
      arch: 'x86_64',
      memory: '524288Ki',
      cpus: 1,
      pool: 'images',
      volume: 's-worker-1.qcow2',
      ignitionPath: '/p/s-worker-1-init.ign',
      nics: [
        { type: 'user', subnet: '192.18.255.0/24', slot: 2, forwards: [] },
        {
          type: 'segment',
          channel: { group: '239.255.77.1', port: 47000, subnet: '198.18.0.0/24' },
          mac: '02:4f:43:12:00:65',
          bus: 1,
          slot: 0,
        },
      ],
      secureBoot: false,
      smm: false,
    });
    expect(xml).toContain("value='socket,id=ocneseg,mcast=239.255.77.1:47000,localaddr=127.0.0.1'");
    expect(xml).toContain(
      "value='{&#34;driver&#34;:&#34;virtio-net-pci&#34;,&#34;netdev&#34;:&#34;ocneseg&#34;,&#34;id&#34;:&#34;ocneseg0&#34;,&#34;mac&#34;:&#34;02:4f:43:12:00:65&#34;,&#34;bus&#34;:&#34;pci.1&#34;,&#34;addr&#34;:&#34;0x0&#34;}'",
    );
    expect(xml).toContain("<controller type='usb' index='0' model='qemu-xhci'>");
    expect(xml).toContain("bus='0x04' slot='0x00' function='0x0'/>\n    </rng>");
    expect(xml).not.toContain('<interface');
  });
});
