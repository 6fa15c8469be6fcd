// The pure parts of the libvirt provider: upstream's names and URI mapping, its size units, the
// domain XML's CPU under each domain type, the ephemeral cluster's overrides, the ips.yaml record.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ephemeralConfig, isClusterDomain, resolveConnection } from '../src/index.ts';
import { releaseClusterAddress, reserveClusterAddress } from '../src/ips.js';
import { capacity, domainXml } from '../src/templates.js';

describe('libvirt layout', () => {
  it('maps URIs as upstream reaches them', async () => {
    const linux = { platform: 'linux' as const };
    expect((await resolveConnection('qemu:///session', linux)).uri).toBe('qemu:///system');
    expect((await resolveConnection('qemu:///system', linux)).uri).toBe('qemu:///system');
    const socket = 'qemu+unix:///session?socket=/tmp/s';
    expect(await resolveConnection(socket, linux)).toMatchObject({
      uri: socket,
      local: true,
      targetIp: '127.0.0.1',
    });
    const ssh = await resolveConnection('me@host.example', { ...linux, resolve: async () => '192.0.2.7' });
    expect(ssh).toMatchObject({
      uri: 'qemu+ssh://me@host.example/system',
      local: false,
      host: 'host.example',
      targetIp: '192.0.2.7',
    });
    await expect(resolveConnection('nonsense', linux)).rejects.toMatchObject({
      code: 'OCNE_CONFIG_INVALID_VALUE',
    });
  });

  it("names and sizes as upstream's driver", () => {
    expect(isClusterDomain('a-b-control-plane-12', 'a-b')).toBe(true);
    expect(isClusterDomain('a-b-worker-1', 'a')).toBe(false);
    expect(isClusterDomain('a-b-control-plane-x', 'a-b')).toBe(false);
    expect(capacity('4194304Ki')).toEqual({ unit: 'KiB', value: 4194304 });
    expect(capacity('4G')).toEqual({ unit: 'GB', value: 4 });
    expect(capacity('4096')).toEqual({ unit: 'B', value: 4096 });
  });

  it('gives kvm domains host-passthrough and software emulation a CPU it can run', () => {
    const base = {
      name: 'c-control-plane-1',
      arch: 'x86_64',
      memory: '4194304Ki',
      cpus: 2,
      pool: 'images',
      volume: 'c-control-plane-1.qcow2',
      ignitionPath: '/p/c-control-plane-1-init.ign',
      nics: [
        {
          type: 'user' as const,
          subnet: '192.18.255.0/24',
          slot: 2,
          forwards: [{ listen: '127.0.0.1', from: 6444, to: 6443 }],
        },
      ],
      secureBoot: false,
      smm: false,
    };
    const kvm = domainXml({ ...base, hypervisor: 'kvm' });
    expect(kvm).toContain("<domain type='kvm'");
    expect(kvm).toContain("<cpu mode='host-passthrough'>");
    expect(kvm).toContain(
      "<qemu:arg value='user,id=mynet,net=192.18.255.0/24,hostfwd=tcp:127.0.0.1:6444-:6443'/>",
    );
    expect(kvm).toContain("<qemu:arg value='virtio-net,netdev=mynet,addr=02.0'/>");
    const tcg = domainXml({ ...base, hypervisor: 'qemu' });
    expect(tcg).toContain("<domain type='qemu'");
    expect(tcg).toContain("<cpu mode='maximum' check='none'>");
    expect(tcg).not.toContain('<log ');
  });

  it('derives the ephemeral cluster from the target as upstream does', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ocne-eph-'));
    const config = await loadConfig({
      config:
        'provider: oci\nname: target\nkubernetesVersion: 1.31\nworkerNodes: 3\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..x\n',
      defaults: false,
      home,
      env: {},
    });
    const eph = ephemeralConfig(config).cluster;
    expect(eph).toMatchObject({
      name: 'ocne-ephemeral',
      provider: 'libvirt',
      controlPlaneNodes: 1,
      workerNodes: 0,
      headless: true,
      catalog: false,
      communityCatalog: false,
      cni: 'flannel',
      kubernetesVersion: '1.33',
    });
    expect(eph.providers.libvirt.controlPlaneNode).toEqual({ memory: '4194304Ki', cpu: 2, storage: '30Gi' });
  });

  it('records tunnel ports in ips.yaml, one per cluster, and frees them', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ocne-ips-'));
    const reserve = (name: string) =>
      reserveClusterAddress({
        home,
        name,
        host: 'h',
        ip: '127.0.0.1',
        local: false,
        listenAddress: '127.0.0.1',
      });
    expect(await reserve('a')).toEqual({ host: 'h', ip: '127.0.0.1', port: 6443 });
    expect(await reserve('b')).toEqual({ host: 'h', ip: '127.0.0.1', port: 6444 });
    expect(await reserve('a')).toEqual({ host: 'h', ip: '127.0.0.1', port: 6443 });
    await releaseClusterAddress(home, 'a');
    const file = parse(await readFile(join(home, '.ocne', 'ips.yaml'), 'utf8'));
    expect(file).toEqual({
      hosts: { h: { ips: {}, ports: { 6444: true } } },
      clusters: { b: { host: 'h', ip: '127.0.0.1', port: 6444 } },
    });
    expect(await reserve('c')).toEqual({ host: 'h', ip: '127.0.0.1', port: 6443 });
  });
});
