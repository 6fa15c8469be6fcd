// The default ports of the oci start: which management cluster (upstream's order, an ephemeral one
// last, deleted after a self-managed start unless kept), the OCI configuration file, and what the
// controllers' objects say (error conditions, terminal failures).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import type { LibvirtProviderOptions } from '@ocne/provider-libvirt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultManagementCluster,
  type EphemeralClusterApi,
  type EphemeralClusterPort,
  type EphemeralClusterRequest,
  type EphemeralLibvirtOptions,
  errorConditions,
  fileCredentials,
  libvirtEphemeralCluster,
  type OciPortRequest,
  terminalFailure,
} from '../src/index.js';

const homes: string[] = [];
afterEach(async () => {
  for (const dir of homes.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function request(
  env: Record<string, string>,
  options: { defaults?: string } = {},
): Promise<OciPortRequest> {
  const home = await mkdtemp(join(tmpdir(), 'ocne-oci-ports-'));
  homes.push(home);
  await writeFile(join(home, 'defaults.yaml'), options.defaults ?? '');
  const config = await loadConfig({
    config: `provider: oci\nname: ports\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..ports\n`,
    home,
    env: { ...env, OCNE_DEFAULTS: join(home, 'defaults.yaml') },
  });
  return { config, home, env, emit: () => {}, signal: new AbortController().signal };
}

function fakeEphemeral(): EphemeralClusterPort & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async ensure() {
      log.push('ensure');
      return { kubeconfigPath: '/ephemeral/kubeconfig' };
    },
    async delete() {
      log.push('delete');
    },
  };
}

describe('defaultManagementCluster', () => {
  it('takes providers.oci.kubeconfig of the defaults, then TEST_KUBECONFIG, then KUBECONFIG', async () => {
    const port = defaultManagementCluster();
    const all = { TEST_KUBECONFIG: '/t', KUBECONFIG: '/k1:/k2' };
    expect(
      await port.ensure(
        await request(all, { defaults: 'providers:\n  oci:\n    kubeconfig: /from/defaults\n' }),
      ),
    ).toEqual({ kubeconfigPath: '/from/defaults', source: 'config' });
    expect(await port.ensure(await request(all))).toEqual({
      kubeconfigPath: '/t',
      source: 'TEST_KUBECONFIG',
    });
    expect(await port.ensure(await request({ KUBECONFIG: '/k1:/k2' }))).toEqual({
      kubeconfigPath: '/k1',
      source: 'KUBECONFIG',
    });
  });

  it('never falls back to ~/.kube/config: without a name or an ephemeral port it is a typed error', async () => {
    const error = await defaultManagementCluster()
      .ensure(await request({ HOME: '/home/someone' }))
      .catch((e: unknown) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_OCI_MANAGEMENT_CLUSTER_REQUIRED');
  });

  it('starts an ephemeral cluster last, and release deletes it unless it is kept', async () => {
    const ephemeral = fakeEphemeral();
    const port = defaultManagementCluster({ ephemeral });
    const req = await request({});
    const cluster = await port.ensure(req);
    expect(cluster).toEqual({ kubeconfigPath: '/ephemeral/kubeconfig', source: 'ephemeral' });
    await port.release(req, cluster);
    await port.release(req, { kubeconfigPath: '/k', source: 'KUBECONFIG' });
    expect(ephemeral.log).toEqual(['ensure', 'delete']);

    const kept = fakeEphemeral();
    const keeping = defaultManagementCluster({ ephemeral: kept, keepEphemeral: true });
    await keeping.release(req, await keeping.ensure(req));
    expect(kept.log).toEqual(['ensure']);
  });
});

describe('fileCredentials', () => {
  it('reads the profile of <home>/.oci/config with its key file, as upstream parses it', async () => {
    const req = await request({});
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(req.home, '.oci'));
    await writeFile(join(req.home, '.oci', 'key.pem'), 'PEM');
    await writeFile(
      join(req.home, '.oci', 'config'),
      '# comment\n[DEFAULT]\nuser=u0\n\n[OTHER]\n  user = ocid1.user.oc1..x \nfingerprint=f\ntenancy=t\nregion=r\nkey_file=~/.oci/key.pem\npassphrase=p\n',
    );
    expect(await fileCredentials().read({ ...req, profile: 'OTHER' })).toEqual({
      user: 'ocid1.user.oc1..x',
      fingerprint: 'f',
      tenancy: 't',
      region: 'r',
      key: 'PEM',
      passphrase: 'p',
    });
    const missing = await fileCredentials()
      .read({ ...req, profile: 'NOPE' })
      .catch((e: unknown) => e);
    expect(isOcneError(missing) && missing.code).toBe('OCNE_OCI_CONFIG_INVALID');
    expect((missing as Error).message).toContain('no NOPE section found in OCI configuration file');
  });
});

describe('what the controllers report', () => {
  it('turns error conditions into texts and failure fields or a Failed machine into a terminal failure', () => {
    const machine = {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Machine',
      metadata: { name: 'm', namespace: 'ns' },
      status: {
        phase: 'Provisioning',
        conditions: [
          {
            type: 'InfrastructureReady',
            status: 'False',
            severity: 'Error',
            reason: 'LaunchFailed',
            message: 'quota',
          },
          { type: 'BootstrapReady', status: 'False', severity: 'Info', reason: 'Waiting' },
        ],
      },
    };
    expect(errorConditions(machine)).toEqual(['Machine ns/m: InfrastructureReady LaunchFailed: quota']);
    expect(terminalFailure(machine)).toBeUndefined();
    expect(terminalFailure({ ...machine, status: { phase: 'Failed' } })).toBe(
      'Machine ns/m failed (phase Failed)',
    );
    expect(
      terminalFailure({
        ...machine,
        kind: 'Cluster',
        status: { failureReason: 'InvalidConfiguration', failureMessage: 'bad' },
      }),
    ).toBe('Cluster ns/m failed: InvalidConfiguration: bad');
  });
});

describe('libvirtEphemeralCluster', () => {
  it("is the libvirt provider's exported ephemeral API (typed against it, so a change there fails here)", async () => {
    const api: EphemeralClusterApi = await import('@ocne/provider-libvirt');
    expect(typeof api.ensureEphemeralCluster).toBe('function');
    expect(typeof api.deleteEphemeralCluster).toBe('function');
  });

  it('hands the request and the catalog to the loaded API, and returns its kubeconfig', async () => {
    const calls: string[] = [];
    const port = libvirtEphemeralCluster({
      catalog: { repoUrl: 'http://127.0.0.1:1/catalog' },
      load: async () => ({
        async ensureEphemeralCluster(options) {
          calls.push(`ensure ${options.home} ${options.provider?.catalog?.repoUrl}`);
          return { kubeconfigPath: '/eph/kubeconfig' };
        },
        async deleteEphemeralCluster(options) {
          calls.push(`delete ${options.home}`);
        },
      }),
    });
    const r = await request({});
    expect(await port.ensure(r)).toEqual({ kubeconfigPath: '/eph/kubeconfig' });
    await port.delete(r);
    expect(calls).toEqual([`ensure ${r.home} http://127.0.0.1:1/catalog`, `delete ${r.home}`]);
  });

  it("passes the libvirt provider options through, its own catalog and helm winning (typed to fit the provider's)", async () => {
    const given: EphemeralClusterRequest[] = [];
    const bootImage = async () => '/boot.qcow2';
    const passthrough: EphemeralLibvirtOptions = {
      bootImage,
      serialLogDir: '/logs',
      kubernetes: { kubeconfigPath: '/elsewhere', timeoutMs: 5 },
      catalog: { repoUrl: 'http://127.0.0.1:1/theirs' },
    };
    // What the port hands on is what the libvirt provider takes (a change there fails here).
    const fits: LibvirtProviderOptions = passthrough;
    const port = libvirtEphemeralCluster({
      catalog: { repoUrl: 'http://127.0.0.1:1/catalog' },
      helmPath: '/helm',
      provider: fits,
      load: async () => ({
        async ensureEphemeralCluster(options) {
          given.push(options);
          return { kubeconfigPath: '/elsewhere' };
        },
        async deleteEphemeralCluster() {},
      }),
    });
    expect(await port.ensure(await request({}))).toEqual({ kubeconfigPath: '/elsewhere' });
    expect(given[0]?.provider).toEqual({
      bootImage,
      serialLogDir: '/logs',
      kubernetes: { kubeconfigPath: '/elsewhere', timeoutMs: 5 },
      catalog: { repoUrl: 'http://127.0.0.1:1/catalog' },
      helmPath: '/helm',
    });
  });
});
