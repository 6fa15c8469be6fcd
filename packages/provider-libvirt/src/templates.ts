/**
 * The libvirt XML the provider hands to the daemon: the storage pool, the three kinds of volume
 * and the domain. The layout (names, elements, PCI addresses, the fw_cfg and user-network
 * arguments) is upstream's, so upstream's `ocne cluster delete` and this SDK's delete each other's
 * clusters and the guest sees the same devices (`enp0s2` for the user NIC, `enp1s0` for a bridge).
 * Pure: no I/O.
 */
import { OcneError } from '@ocne/core';
import type { SegmentNic } from './segment.js';

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A libvirt size: a unit libvirt knows and a whole number. */
export interface Capacity {
  unit: string;
  value: number;
}

/**
 * A configured size (`4194304Ki`, `20Gi`, `4G`, `4096`) as libvirt takes it: upstream appends `B`
 * to the suffix (`Ki` → `KiB`, `G` → `GB`, none → bytes).
 */
export function capacity(size: string): Capacity {
  const match = /^(\d+)([A-Za-z]*)$/.exec(size);
  if (match === null) {
    throw new OcneError('OCNE_CONFIG_INVALID_VALUE', `${size} is not a size libvirt can take (e.g. 20Gi)`);
  }
  return { unit: `${match[2] ?? ''}B`, value: Number.parseInt(match[1] ?? '0', 10) };
}

/** The pool upstream defines when it finds none (a `dir` pool, mode 0750). */
export function poolXml(name: string, path: string): string {
  return `<pool type="dir"><name>${xmlEscape(name)}</name><target><path>${xmlEscape(path)}</path><permissions><mode>0750</mode></permissions></target><source></source></pool>\n`;
}

/** A volume without backing store: the base image (qcow2, capacity 0 grows on upload) or an Ignition (raw). */
export function plainVolumeXml(name: string, format: 'qcow2' | 'raw', bytes: number): string {
  return `<volume type='file'>
  <name>${xmlEscape(name)}</name>
  <capacity unit='bytes'>${bytes}</capacity>
  <target>
    <format type='${format}'/>
    <permissions>
      <mode>0644</mode>
    </permissions>
    <compat>1.1</compat>
    <features/>
  </target>
</volume>
`;
}

/** A node's disk: a thin qcow2 overlay on the base volume. */
export function overlayVolumeXml(name: string, size: string, backingPath: string): string {
  const { unit, value } = capacity(size);
  return `<volume type='file'>
  <name>${xmlEscape(name)}</name>
  <capacity unit='${unit}'>${value}</capacity>
  <target>
    <format type='qcow2'/>
    <permissions>
      <mode>0644</mode>
    </permissions>
    <compat>1.1</compat>
    <clusterSize unit='B'>65536</clusterSize>
    <features/>
  </target>
  <backingStore>
    <path>${xmlEscape(backingPath)}</path>
    <format type='qcow2'/>
  </backingStore>
</volume>
`;
}

/** A NIC: QEMU's user network (slirp) made by hand, or a libvirt network. */
export type DomainNic =
  | {
      type: 'user';
      /** The slirp subnet (`net=`). */
      subnet: string;
      /** PCI slot on bus 0 (upstream: 2, so `enp0s2`). */
      slot: number;
      /** Host ports forwarded to the guest. */
      forwards: readonly { listen: string; from: number; to: number }[];
    }
  | { type: 'network'; network: string; bus: number; slot: number }
  | SegmentNic;

/** What the domain XML needs. */
export interface DomainXmlInput {
  name: string;
  /** `kvm` (upstream), `qemu` (software emulation) or `hvf` (macOS). */
  hypervisor: 'kvm' | 'qemu' | 'hvf';
  /** `x86_64` or `aarch64`. */
  arch: string;
  memory: string;
  cpus: number;
  pool: string;
  volume: string;
  /** The Ignition volume's path, passed to the guest through fw_cfg. */
  ignitionPath: string;
  nics: readonly DomainNic[];
  secureBoot: boolean;
  smm: boolean;
  /** Where the serial console is also written (not upstream's: for tests and debugging). */
  serialLog?: string;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * The domain as upstream's template lays it out. Decisions (differences): with `hypervisor: qemu`
 * the CPU is `maximum` (host-passthrough is refused under software emulation, and upstream starts
 * the domain anyway and waits 15 minutes); a serial log is added only when asked for.
 */
export function domainXml(input: DomainXmlInput): string {
  const arm = input.arch === 'aarch64';
  const mem = capacity(input.memory);
  const yesno = (b: boolean) => (b ? 'yes' : 'no');
  const cpu = arm
    ? input.hypervisor === 'qemu'
      ? `<cpu mode='maximum' check='none'/>`
      : `<cpu mode='host-passthrough' match='exact' check='partial'>
    <model fallback='forbid'>cortex-a57</model>
  </cpu>`
    : input.hypervisor === 'qemu'
      ? `<cpu mode='maximum' check='none'>
    <feature policy='disable' name='pdpe1gb'/>
  </cpu>`
      : `<cpu mode='host-passthrough'>
    <feature policy='disable' name='pdpe1gb'/>
  </cpu>`;
  const networks = input.nics
    .filter((n) => n.type === 'network')
    .map(
      (n) => `    <interface type='network'>
      <source network='${xmlEscape(n.network)}'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='${hex(n.bus)}' slot='${hex(n.slot)}' function='0x0'/>
    </interface>
`,
    )
    .join('');
  const userArgs = input.nics
    .filter((n) => n.type === 'user')
    .map((n) => {
      const forwards = n.forwards.map((f) => `,hostfwd=tcp:${f.listen}:${f.from}-:${f.to}`).join('');
      return `    <qemu:arg value='-netdev'/>
    <qemu:arg value='${xmlEscape(`user,id=mynet,net=${n.subnet}${forwards}`)}'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-net,netdev=mynet,addr=0${n.slot}.0'/>
`;
    })
    .join('');
  // The node segment (not upstream's): QEMU's multicast socket netdev, bound to the loopback, on
  // the PCI root port libvirt names `pci.<bus>` (the explicit buses 3 and 5 make it add 1 to 5).
  const segmentArgs = input.nics
    .filter((n) => n.type === 'segment')
    .map((n) => {
      const netdev = `socket,id=ocneseg,mcast=${n.channel.group}:${n.channel.port},localaddr=127.0.0.1`;
      // JSON, as libvirt writes its own devices: QEMU creates `-device` options in key=value form
      // before the JSON ones, when the root port `pci.1` does not exist yet.
      const device = JSON.stringify({
        driver: 'virtio-net-pci',
        netdev: 'ocneseg',
        id: 'ocneseg0',
        mac: n.mac,
        bus: `pci.${n.bus}`,
        addr: hex(n.slot),
      });
      return `    <qemu:arg value='-netdev'/>
    <qemu:arg value='${xmlEscape(netdev)}'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='${xmlEscape(device)}'/>
`;
    })
    .join('');
  // libvirt places the devices it adds (the USB controller) and the rng on the first free root
  // ports, bus 1 first; a libvirt network's NIC holds bus 1 and pushes them to buses 2 and 4. The
  // segment NIC is not libvirt's, so those two are placed where they go with a network NIC.
  const segment = input.nics.some((n) => n.type === 'segment');
  const segmentControllers = segment
    ? `    <controller type='usb' index='0' model='qemu-xhci'>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </controller>
`
    : '';
  const rngAddress = segment
    ? `
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>`
    : '';
  const log = input.serialLog ? `\n      <log file='${xmlEscape(input.serialLog)}' append='off'/>` : '';
  return `<domain type='${input.hypervisor}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${xmlEscape(input.name)}</name>
  <description>An instance that is spun up dynamically"</description>
  <memory unit='${mem.unit}'>${mem.value}</memory>
  <vcpu placement='static'>${input.cpus}</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os firmware='efi'>
    <firmware>
      <feature enabled='${yesno(input.secureBoot)}' name='enrolled-keys'/>
      <feature enabled='${yesno(input.secureBoot)}' name='secure-boot'/>
    </firmware>
    <type arch='${input.arch}' machine='${arm ? 'virt' : 'q35'}'>hvm</type>
    <boot dev='hd'/>
  </os>
  ${cpu}
  <features>
${arm ? '' : `    <smm state='${input.smm ? 'on' : 'off'}'/>\n`}    <acpi/>
    <apic/>
  </features>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='${xmlEscape(input.pool)}' volume='${xmlEscape(input.volume)}'/>
      <target dev='sda' bus='scsi'/>
      <alias name='scsi0-0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'>
      <alias name='scsi0'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </controller>
${networks}${segmentControllers}    <serial type='pty'>${log}
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
${
  arm
    ? ''
    : `    <input type='keyboard' bus='ps2'>
      <alias name='input1'/>
    </input>
`
}    <audio id='1' type='none'/>
    <memballoon model='virtio'>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </memballoon>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
      <alias name='rng0'/>${rngAddress}
    </rng>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='${xmlEscape(`name=opt/com.coreos/config,file=${input.ignitionPath}`)}'/>
${userArgs}${segmentArgs}  </qemu:commandline>
</domain>
`;
}
