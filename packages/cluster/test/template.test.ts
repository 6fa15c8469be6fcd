// Cluster.template(): the facade renders the oci template offline, uses an oci provider made with a lookup,
// and says so for providers without templates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OciLookup } from '@ocne/capi/templates';
import type { OcneEvent } from '@ocne/core';
import { createOciProvider } from '@ocne/provider-oci';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Cluster } from '../src/index.js';

const home = mkdtempSync(join(tmpdir(), 'ocne-facade-template-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const config = (compartment: string) =>
  `provider: oci\nname: f1\nproviders:\n  oci:\n    compartment: ${compartment}\n    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaamd\n      arm64: ocid1.image.oc1.iad.aaaaaaaaarm\n`;

describe('Cluster.template', () => {
  it('renders the seven objects offline', async () => {
    const cluster = await Cluster.open({
      config: config('ocid1.compartment.oc1..aaaaaaaatest'),
      home,
      defaults: false,
      env: {},
    });
    const docs = parseAllDocuments(await cluster.template()).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual([
      'Cluster',
      'OCICluster',
      'KubeadmControlPlane',
      'OCIMachineTemplate',
      'OCIMachineTemplate',
      'KubeadmConfigTemplate',
      'MachineDeployment',
    ]);
  });

  it('reads the key of sshPublicKeyPath, but not clusterDefinition (the file a template is written to)', async () => {
    writeFileSync(join(home, 'key.pub'), 'ssh-ed25519 AAAAC3NzaFILE file@test\n');
    const cluster = await Cluster.open({
      config: `${config('ocid1.compartment.oc1..aaaaaaaatest')}sshPublicKeyPath: ${join(home, 'key.pub')}\nclusterDefinition: not-yet-written.yaml\n`,
      home,
      defaults: false,
      env: {},
    });
    expect(await cluster.template()).toContain('ssh_authorized_keys: ssh-ed25519 AAAAC3NzaFILE file@test\n');
  });

  it('uses the lookup it is given, and streams its warnings as events', async () => {
    const lookup: OciLookup = {
      compartmentId: async () => 'ocid1.compartment.oc1..aaaaaaaaresolved',
      latestImage: async ({ architecture }) => {
        if (architecture === 'arm64') throw new Error('ListImages failed');
        return 'ocid1.image.oc1.iad.aaaaaaaanewest';
      },
    };
    const cluster = await Cluster.open({
      config: config('team/dev'),
      home,
      defaults: false,
      env: {},
      provider: createOciProvider({ lookup }),
    });
    const operation = cluster.template();
    const events: OcneEvent[] = [];
    for await (const event of operation) events.push(event);
    const yaml = await operation;
    expect(yaml).toContain('compartmentId: ocid1.compartment.oc1..aaaaaaaaresolved');
    expect(yaml).toContain('imageId: ocid1.image.oc1.iad.aaaaaaaanewest');
    expect(yaml).toContain('imageId: ocid1.image.oc1.iad.aaaaaaaaarm');
    expect(
      events.some((e) => e.type === 'log' && e.level === 'warn' && e.message.includes('ListImages failed')),
    ).toBe(true);
  });

  it('fails with OCNE_NOT_IMPLEMENTED for a provider without templates', async () => {
    const cluster = await Cluster.open({
      config:
        'provider: byo\nname: b\nvirtualIp: 192.0.2.10\nproviders:\n  byo:\n    networkInterface: eth0\n',
      home,
      defaults: false,
      env: {},
    });
    await expect(cluster.template()).rejects.toMatchObject({
      code: 'OCNE_NOT_IMPLEMENTED',
      message: 'templates not implemented for provider byo',
    });
  });
});
