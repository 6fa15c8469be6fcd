// Helm releases through the real helm v3.19.2 CLI (scripts/test-tools.sh builds it) against a real
// kube-apiserver + etcd (the integration project's control planes). The test charts of
// test/fixtures/charts are packaged into a chart repository served over http on 127.0.0.1.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EventInput } from '@ocne/core';
import { type ChartRepository, serveChartRepository } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { testTool } from '@ocne/test-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KubeClient } from '../../src/client.js';
import { KubeError } from '../../src/errors.js';
import {
  type HelmOptions,
  helmInstallArgs,
  helmVersion,
  installRelease,
  listReleases,
  uninstallRelease,
} from '../../src/helm.js';

const { source } = controlPlanesFromInject();
const charts = fileURLToPath(new URL('../fixtures/charts/', import.meta.url));
const helmPath = testTool('helm');

let kube: KubeClient;
let work: string;
let repoDir: string;
let repository: ChartRepository | undefined;
let repoUrl: string;
let hangUrl: string;
let n = 0;
const ns = () => `helm-test-${process.pid}-${n++}`;

/** Options for the SDK's helm calls, with a temporary folder of the test's own to look into. */
async function helmOptions(extra: Partial<HelmOptions> = {}): Promise<HelmOptions & { tempDir: string }> {
  const tempDir = await mkdtemp(join(work, 'calls-'));
  return { helmPath, kubeconfig: source.kubeconfigPath, tempDir, ...extra };
}

async function settings(namespace: string, release: string): Promise<Record<string, string> | undefined> {
  const cm = await kube.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace,
    name: `${release}-settings`,
  });
  return cm?.data;
}

async function expectKubeError(promise: Promise<unknown>): Promise<KubeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KubeError);
  return error as KubeError;
}

beforeAll(async () => {
  kube = await connect({ kubeconfigPath: source.kubeconfigPath });
  work = await mkdtemp(join(tmpdir(), 'ocne-helm-test-'));
  repository = await serveChartRepository({
    helmPath,
    charts: ['demo-app', 'demo-app-v2', 'broken'].map((c) => join(charts, c)),
    workDir: work,
  });
  repoDir = join(work, 'repo');
  repoUrl = repository.url;
  hangUrl = repository.hangUrl;
});

afterAll(async () => {
  if (repository) {
    await repository.close();
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe('helm', () => {
  it('reports the version of the helm binary', async () => {
    expect(await helmVersion({ helmPath })).toBe('v3.19.2');
  });

  it('installs from an http repository with values, skips it the second time, upgrades it on request', async () => {
    const namespace = ns();
    const options = await helmOptions();
    const events: string[] = [];
    const emit = (e: EventInput) => {
      if (e.type === 'step') events.push(`${e.step}: ${e.status}`);
      if (e.type === 'log') events.push(e.message);
    };
    const spec = {
      release: 'demo',
      namespace,
      chart: { chart: 'demo-app', repoUrl, version: '0.1.0' },
      values: {
        greeting: 'hello from ocne',
        apiServer: { host: '10.0.0.10', port: 6444 },
        config: { mode: 'ipvs' },
        args: ['--ip-masq', '--kube-subnet-mgr', '--iface=enp1s0'],
      },
    };

    const installed = await installRelease(spec, { ...options, emit });
    expect(installed).toEqual({
      release: 'demo',
      namespace,
      action: 'installed',
      revision: 1,
      chartVersion: '0.1.0',
    });
    expect(await settings(namespace, 'demo')).toEqual({
      greeting: 'hello from ocne',
      apiServer: '10.0.0.10:6444',
      mode: 'ipvs',
      args: '--ip-masq --kube-subnet-mgr --iface=enp1s0',
      chartVersion: '0.1.0',
    });
    expect(events).toEqual([
      `Installing demo into ${namespace}: started`,
      `Installing demo into ${namespace}: succeeded`,
    ]);

    events.length = 0;
    const again = await installRelease(
      { ...spec, chart: { ...spec.chart, version: '0.2.0' }, values: { greeting: 'ignored' } },
      { ...options, emit },
    );
    expect(again).toEqual({
      release: 'demo',
      namespace,
      action: 'skipped',
      revision: 1,
      chartVersion: '0.1.0',
    });
    expect(events).toEqual([
      `Installing demo into ${namespace}: started`,
      `Release demo in ${namespace} already exists (deployed): skipped`,
      `Installing demo into ${namespace}: succeeded`,
    ]);
    expect((await settings(namespace, 'demo'))?.greeting).toBe('hello from ocne');

    const upgraded = await installRelease(
      { ...spec, chart: { chart: 'demo-app', repoUrl, version: '0.2.0' }, values: { greeting: 'upgraded' } },
      { ...options, upgrade: true },
    );
    expect(upgraded).toEqual({
      release: 'demo',
      namespace,
      action: 'upgraded',
      revision: 2,
      chartVersion: '0.2.0',
    });
    // --reset-values: the release holds the chart's defaults plus exactly the values given.
    expect(await settings(namespace, 'demo')).toEqual({
      greeting: 'upgraded',
      apiServer: ':6443',
      mode: 'iptables',
      args: '',
      chartVersion: '0.2.0',
      upgraded: 'true',
    });

    const releases = await listReleases({ ...options, namespace });
    expect(releases).toEqual([
      {
        name: 'demo',
        namespace,
        status: 'deployed',
        chart: 'demo-app-0.2.0',
        revision: 2,
        appVersion: '2.0.0',
      },
    ]);
    const everywhere = await listReleases(options);
    expect(everywhere.filter((r) => r.namespace === namespace).map((r) => r.name)).toEqual(['demo']);
    // Every call's temporary folder (values file, helm homes) is gone.
    expect(await readdir(options.tempDir)).toEqual([]);
  });

  it('a release an interrupted install left pending-install is installed again, not skipped', async () => {
    const namespace = ns();
    const options = await helmOptions();
    const spec = {
      release: 'demo',
      namespace,
      chart: { chart: 'demo-app', repoUrl, version: '0.1.0' },
      values: { greeting: 'first' },
    };
    await installRelease(spec, options);
    // What `helm install` records before it makes the objects, as a killed install leaves it: the
    // release's Secret says pending-install (its label and the gzipped record), its objects are gone.
    const name = 'sh.helm.release.v1.demo.v1';
    const secret = await kube.get<{ apiVersion: string; kind: string; data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace,
      name,
    });
    const record = JSON.parse(
      gunzipSync(Buffer.from(Buffer.from(secret!.data!.release!, 'base64').toString(), 'base64')).toString(),
    ) as { info: { status: string } };
    record.info.status = 'pending-install';
    const encoded = Buffer.from(gzipSync(JSON.stringify(record)).toString('base64')).toString('base64');
    await kube.rest().call('PATCH', `/api/v1/namespaces/${namespace}/secrets/${name}`, {
      merge: true,
      body: { metadata: { labels: { status: 'pending-install' } }, data: { release: encoded } },
      doing: 'marking the release pending-install',
    });
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'demo-settings' });
    expect((await listReleases({ ...options, namespace })).map((r) => r.status)).toEqual(['pending-install']);

    const logs: string[] = [];
    const again = await installRelease(
      { ...spec, values: { greeting: 'second' } },
      { ...options, emit: (e) => e.type === 'log' && logs.push(e.message) },
    );
    expect(again).toMatchObject({ release: 'demo', namespace, action: 'installed', revision: 1 });
    expect(logs).toEqual([`Release demo in ${namespace} is pending-install: installing it again`]);
    expect((await settings(namespace, 'demo'))?.greeting).toBe('second');
    expect((await listReleases({ ...options, namespace })).map((r) => r.status)).toEqual(['deployed']);
  });

  it('upgrade: true installs a release that does not exist yet', async () => {
    const namespace = ns();
    const result = await installRelease(
      { release: 'fresh', namespace, chart: { chart: 'demo-app', repoUrl } },
      { ...(await helmOptions()), upgrade: true },
    );
    // No version: the newest in the repository.
    expect(result).toEqual({
      release: 'fresh',
      namespace,
      action: 'installed',
      revision: 1,
      chartVersion: '0.2.0',
    });
  });

  it('installs from a local chart folder and from a file:// repository', async () => {
    const namespace = ns();
    const options = await helmOptions();
    const local = await installRelease(
      {
        release: 'local',
        namespace,
        chart: { chart: join(charts, 'demo-app') },
        values: { greeting: 'from a folder' },
      },
      options,
    );
    expect(local).toMatchObject({ action: 'installed', revision: 1, chartVersion: '0.1.0' });
    expect((await settings(namespace, 'local'))?.greeting).toBe('from a folder');

    const fromFile = await installRelease(
      {
        release: 'from-file',
        namespace,
        chart: { chart: 'demo-app', repoUrl: pathToFileURL(repoDir).href, version: '0.1.0' },
        values: { greeting: 'from file://' },
      },
      options,
    );
    expect(fromFile).toMatchObject({ action: 'installed', chartVersion: '0.1.0' });
    expect((await settings(namespace, 'from-file'))?.chartVersion).toBe('0.1.0');

    const missing = await expectKubeError(
      installRelease(
        {
          release: 'nope',
          namespace,
          chart: { chart: 'demo-app', repoUrl: pathToFileURL(repoDir).href, version: '9.9.9' },
        },
        options,
      ),
    );
    expect(missing.code).toBe('OCNE_HELM_FAILED');
    expect(missing.message).toBe(
      `installing nope into ${namespace}: chart demo-app version 9.9.9 is not in the repository ${pathToFileURL(repoDir).href}`,
    );
    expect((await listReleases({ ...options, namespace })).map((r) => r.name).sort()).toEqual([
      'from-file',
      'local',
    ]);
  });

  it('a chart whose template fails: OCNE_HELM_FAILED naming the release and the error, no release, no temp files', async () => {
    const namespace = ns();
    const options = await helmOptions();
    const events: EventInput[] = [];
    const error = await expectKubeError(
      installRelease(
        { release: 'broken-one', namespace, chart: { chart: 'broken', repoUrl }, values: { password: 'x' } },
        { ...options, emit: (e) => events.push(e) },
      ),
    );
    expect(error.code).toBe('OCNE_HELM_FAILED');
    expect(error.message).toMatch(
      new RegExp(
        `^installing broken-one into ${namespace}: INSTALLATION FAILED: execution error at \\(broken/templates/configmap\\.yaml:\\d+:\\d+\\): the broken chart refuses to render release broken-one$`,
      ),
    );
    expect((error.cause as { exitCode?: number }).exitCode).toBe(1);
    expect(events.at(-1)).toMatchObject({
      type: 'step',
      step: `Installing broken-one into ${namespace}`,
      status: 'failed',
      error: { code: 'OCNE_HELM_FAILED' },
    });
    expect(await readdir(options.tempDir)).toEqual([]);
    expect(await listReleases({ ...options, namespace })).toEqual([]);
  });

  it('values never reach the command line: helm reads them from a 0600 file that is removed afterwards', async () => {
    const secret = 'SECRET-KEY-MATERIAL-do-not-leak';
    const spec = {
      release: 'capoci',
      namespace: 'cluster-api-provider-oci-system',
      chart: { chart: 'oci-capi', repoUrl: 'https://example.com/charts', version: '0.21.0' },
      values: { authConfig: { key: secret, passphrase: secret }, proxy: {} },
      wait: true,
    };
    const args = helmInstallArgs(spec, {
      kubeconfig: '/k/config',
      valuesFile: '/tmp/x/values.json',
      timeoutMs: 90_500,
    });
    expect(args).toEqual([
      'install',
      '--kubeconfig',
      '/k/config',
      '--namespace',
      'cluster-api-provider-oci-system',
      '--create-namespace',
      '--values',
      '/tmp/x/values.json',
      '--output',
      'json',
      '--repo',
      'https://example.com/charts',
      '--version',
      '0.21.0',
      '--wait',
      '--timeout',
      '91s',
      '--',
      'capoci',
      'oci-capi',
    ]);
    expect(
      helmInstallArgs(
        { ...spec, createNamespace: false, wait: false },
        { kubeconfig: '/k', valuesFile: '/v', upgrade: true },
      ).slice(0, 3),
    ).toEqual(['upgrade', '--install', '--reset-values']);

    // And for real: a helm wrapper records its argv and the values file it is handed, then runs helm.
    const spyDir = await mkdtemp(join(work, 'spy-'));
    const log = join(spyDir, 'calls.jsonl');
    const spy = join(spyDir, 'helm');
    const execaUrl = pathToFileURL(createRequire(import.meta.url).resolve('execa')).href;
    await writeFile(
      spy,
      [
        `#!${process.execPath}`,
        `const { appendFileSync, readFileSync, statSync } = require('node:fs');`,
        `const args = process.argv.slice(2);`,
        `const i = args.indexOf('--values');`,
        `const file = i >= 0 ? args[i + 1] : undefined;`,
        `const values = file && { path: file, mode: statSync(file).mode & 0o777, text: readFileSync(file, 'utf8') };`,
        `appendFileSync(process.env.HELM_SPY_LOG, JSON.stringify({ args, values, cache: process.env.HELM_CACHE_HOME }) + '\\n');`,
        `import(${JSON.stringify(execaUrl)})`,
        `  .then(({ execa }) => execa(${JSON.stringify(helmPath)}, args, { stdio: 'inherit', reject: false }))`,
        `  .then((r) => process.exit(r.exitCode ?? 1));`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const namespace = ns();
    const options = await helmOptions({ helmPath: spy, env: { HELM_SPY_LOG: log } });
    const result = await installRelease(
      {
        release: 'secretive',
        namespace,
        chart: { chart: 'demo-app', repoUrl },
        values: { greeting: secret, authConfig: { key: secret } },
      },
      options,
    );
    expect(result.action).toBe('installed');
    expect((await settings(namespace, 'secretive'))?.greeting).toBe(secret);
    const calls = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            args: string[];
            values?: { path: string; mode: number; text: string };
            cache: string;
          },
      );
    expect(calls.map((c) => c.args[0])).toEqual(['list', 'install']);
    for (const call of calls) {
      expect(call.args.join(' ')).not.toContain(secret);
      expect(call.cache.startsWith(options.tempDir)).toBe(true);
    }
    const install = calls[1]!;
    expect(install.values?.mode).toBe(0o600);
    expect(JSON.parse(install.values?.text ?? '{}')).toEqual({
      greeting: secret,
      authConfig: { key: secret },
    });
    await expect(stat(install.values!.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(options.tempDir)).toEqual([]);
  });

  it('the caller signal stops helm: OCNE_CANCELLED; timeoutMs: OCNE_KUBE_TIMEOUT', async () => {
    const namespace = ns();
    const options = await helmOptions();
    const spec = { release: 'stuck', namespace, chart: { chart: 'demo-app', repoUrl: hangUrl } };

    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 500);
    const cancelled = await expectKubeError(installRelease(spec, { ...options, signal: controller.signal }));
    expect(cancelled.code).toBe('OCNE_CANCELLED');
    expect(cancelled.message).toBe(`installing stuck into ${namespace}: cancelled`);
    expect(Date.now() - started).toBeLessThan(10_000);

    const already = await expectKubeError(installRelease(spec, { ...options, signal: AbortSignal.abort() }));
    expect(already.code).toBe('OCNE_CANCELLED');

    const timedOut = await expectKubeError(installRelease(spec, { ...options, timeoutMs: 1_000 }));
    expect(timedOut.code).toBe('OCNE_KUBE_TIMEOUT');
    expect(timedOut.message).toBe(`installing stuck into ${namespace}: timed out after 1000 ms`);

    expect(await readdir(options.tempDir)).toEqual([]);
    expect(await listReleases({ ...options, namespace })).toEqual([]);
  });

  it('a helm binary that does not exist: OCNE_DEPENDENCY_MISSING naming it', async () => {
    const missing = join(work, 'no-such-dir', 'helm');
    const error = await expectKubeError(
      installRelease(
        { release: 'x', namespace: ns(), chart: { chart: 'demo-app', repoUrl } },
        await helmOptions({ helmPath: missing }),
      ),
    );
    expect(error.code).toBe('OCNE_DEPENDENCY_MISSING');
    expect(error.message).toContain(missing);
    const version = await expectKubeError(helmVersion({ helmPath: missing }));
    expect(version.code).toBe('OCNE_DEPENDENCY_MISSING');
  });

  it('uninstalls a release and its objects; uninstalling it again is not an error', async () => {
    const namespace = ns();
    const options = await helmOptions();
    await installRelease({ release: 'gone', namespace, chart: { chart: 'demo-app', repoUrl } }, options);
    expect(await settings(namespace, 'gone')).toBeDefined();
    const events: string[] = [];
    await uninstallRelease('gone', namespace, {
      ...options,
      emit: (e) => {
        if (e.type === 'step') events.push(`${e.step}: ${e.status}`);
      },
    });
    expect(events).toEqual([
      `Uninstalling gone from ${namespace}: started`,
      `Uninstalling gone from ${namespace}: succeeded`,
    ]);
    expect(await listReleases({ ...options, namespace })).toEqual([]);
    expect(await settings(namespace, 'gone')).toBeUndefined();
    await uninstallRelease('gone', namespace, options);
  });
});
