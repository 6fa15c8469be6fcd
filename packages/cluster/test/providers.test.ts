// How the facade finds providers: a third-party package it has never heard of (registered by the
// embedder), `@ocne/provider-<name>` by name, a missing or broken provider package, and a provider
// instance handed to Cluster.open with its own typed options.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, loadProvider, registerProvider } from '@ocne/cluster';
import type { ResolvedConfig } from '@ocne/config';
import type { ClusterProvider, OcneEvent } from '@ocne/core';
import { provider as byoProvider, createByoProvider } from '@ocne/provider-byo';
import { provider as libvirtProvider } from '@ocne/provider-libvirt';
import { provider as ociProvider } from '@ocne/provider-oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ocne-providers-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('a provider package the facade has never heard of', () => {
  it('is registered by the embedder, validated, and drives start, join and delete', async () => {
    const acme = await import('ocne-acme-provider');
    registerProvider('acme', async () => acme.provider as unknown as ClusterProvider<ResolvedConfig>);
    const cluster = await Cluster.open({
      config: { name: 'rocket', provider: 'acme' },
      home,
      defaults: false,
      env: { ACME_SERVER: 'https://127.0.0.1:16443' },
    });
    const start = cluster.start();
    const events: OcneEvent[] = [];
    for await (const event of start) events.push(event);
    const result = await start;
    expect(result.alreadyRunning).toBe(false);
    expect(events.some((e) => e.type === 'step' && e.step === 'Creating acme machines for rocket')).toBe(
      true,
    );
    // The kubeconfig the package made is stored (0600) and the cluster is cached.
    expect(readFileSync(result.kubeconfigPath, 'utf8')).toContain('server: https://127.0.0.1:16443');
    expect((await Cluster.list({ home })).map((c) => [c.name, c.provider])).toEqual([['rocket', 'acme']]);

    const joined = await cluster.join({ workerNodes: 2 });
    expect(joined.commands).toEqual(['acme add-worker --count 2']);
    await cluster.start(); // exists: the provider's postStart
    await cluster.delete();
    expect(acme.calls).toEqual([
      'start rocket',
      'join 2 workers',
      `postStart ${result.kubeconfigPath}`,
      'delete rocket',
    ]);
    expect(await Cluster.list({ home })).toEqual([]);
  });

  it('a registered value that breaks the contract is refused with what is wrong', async () => {
    registerProvider('broken', async () => ({
      name: 'broken',
      capabilities: { operations: ['start'], userBootsNodes: false },
      start: async () => ({}),
    }));
    const cluster = await Cluster.open({ config: { name: 'b', provider: 'broken' }, home, defaults: false });
    await expect(cluster.start()).rejects.toMatchObject({
      code: 'OCNE_PROVIDER_INVALID',
      message:
        'the registered provider broken is not a cluster provider: it lists start but has no postStart()',
    });
  });
});

describe('providers loaded by name', () => {
  it('@ocne/cluster depends on no provider: they are optional peers', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(Object.keys(pkg.dependencies).filter((d) => /provider|capi|ignition|kubernetes/.test(d))).toEqual(
      [],
    );
    for (const peer of Object.keys(pkg.peerDependencies)) {
      // Besides the providers, only the Kubernetes client of `Cluster.console`, loaded on first use.
      expect(peer).toMatch(/^@ocne\/(provider-|kubernetes$)/);
      expect(pkg.peerDependenciesMeta[peer]?.optional).toBe(true);
    }
  });

  it('each @ocne/provider-* package exports its own provider, which keeps the contract', async () => {
    for (const [name, provider] of [
      ['byo', byoProvider],
      ['oci', ociProvider],
      ['libvirt', libvirtProvider],
    ] as const) {
      // The facade's own loading finds the same export.
      expect(await loadProvider(name)).toBe(provider);
      expect(provider.name).toBe(name);
    }
    expect(byoProvider.capabilities).toEqual({
      operations: ['start', 'join', 'delete', 'moveNode'],
      userBootsNodes: true,
    });
    expect(ociProvider.capabilities.operations).toEqual(['start', 'delete', 'template']);
  });

  it('a provider whose package is not installed names the package to install', async () => {
    const cluster = await Cluster.open({ config: { name: 'n', provider: 'olvm' }, home, defaults: false });
    const error = await cluster
      .start()
      .promise()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'OCNE_DEPENDENCY_MISSING',
      message:
        'the olvm provider comes from the package @ocne/provider-olvm, which is not installed: add it to your dependencies (npm install @ocne/provider-olvm)',
    });
    // Nothing was recorded for a cluster that could not start.
    expect(await Cluster.list({ home })).toEqual([]);
  });

  it('operations a provider does not declare are refused before anything is done', async () => {
    const oci = await Cluster.open({
      config:
        'provider: oci\nname: o\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..aaaaaaaatest\n',
      home,
      defaults: false,
      env: {},
    });
    await expect(
      oci.moveNode({
        sourceKubeconfigPath: '/nonexistent',
        destinationKubeconfigPath: '/nonexistent',
        node: 'n',
      }),
    ).rejects.toMatchObject({
      code: 'OCNE_PROVIDER_UNAVAILABLE',
      message: 'the oci provider cannot move nodes in this version of the SDK',
    });
  });
});

describe('Cluster.open({ provider })', () => {
  const byoConfig = 'name: b\nvirtualIp: 192.0.2.10\nproviders:\n  byo:\n    networkInterface: eth0\n';

  it("makes the instance's provider the default and drives the cluster with it", async () => {
    const made = createByoProvider({ catalog: { repoUrl: 'https://127.0.0.1:1/charts' } });
    const used: string[] = [];
    const cluster = await Cluster.open({
      config: byoConfig,
      home,
      defaults: false,
      env: {},
      provider: {
        ...made,
        start: (context) => {
          used.push(context.config.cluster.name);
          return made.start!(context);
        },
      },
    });
    expect(cluster.provider).toBe('byo');
    expect((await cluster.start()).ignition).toContain('"version":"3.4.0"');
    expect(used).toEqual(['b']);
    // Without an instance, the same configuration takes the default provider.
    const plain = await Cluster.open({ config: byoConfig, home, defaults: false, env: {} });
    expect(plain.provider).toBe('libvirt');
  });

  it('an unknown provider is refused with each provider there is named once', async () => {
    // Registered under its own name (the package's own provider: nothing else changes for later tests)
    // and handed over as an instance: byo would be listed three times.
    registerProvider('byo', async () => byoProvider);
    const error = await Cluster.open({
      config: `provider: nope\n${byoConfig}`,
      home,
      defaults: false,
      provider: createByoProvider(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_CONFIG_INVALID_VALUE' });
    const listed = /expected one of (.*), found "nope"/.exec((error as Error).message)?.[1]?.split(', ');
    expect(listed).toEqual([...new Set(listed)]);
    expect(listed).toEqual(expect.arrayContaining(['libvirt', 'oci', 'byo', 'none', 'olvm']));
  });

  it('refuses a configuration that names another provider', async () => {
    await expect(
      Cluster.open({
        config: `provider: libvirt\n${byoConfig}`,
        home,
        defaults: false,
        provider: createByoProvider(),
      }),
    ).rejects.toMatchObject({
      code: 'OCNE_CONFIG_CONFLICT',
      message: "the configuration's provider is libvirt, but Cluster.open was given the byo provider",
    });
  });
});
