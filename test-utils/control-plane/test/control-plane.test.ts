// The test control planes as integration tests use them: the two the global setup provides
// (`source`, `destination`), checked over plain node:https with the kubeconfig's CA, and extra ones
// started, stopped, aborted and failed here to show that nothing is ever left behind.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { startControlPlane } from '@ocne/test-control-plane';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { TOOL_VERSIONS } from '@ocne/test-tools';
import { describe, expect, inject, test } from 'vitest';
import { parse as parseYaml } from 'yaml';

const { source, destination } = controlPlanesFromInject();

interface Client {
  server: string;
  ca: string;
  token: string;
}

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** Server, CA and token of the kubeconfig's current context, the way kubectl reads them. */
function clientFrom(kubeconfig: string): Client {
  const config = parseYaml(kubeconfig) as Kubeconfig;
  const context = config.contexts.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users.find((u) => u.name === context?.user)?.user;
  if (cluster === undefined || user === undefined)
    throw new Error('kubeconfig has no usable current context');
  return {
    server: cluster.server,
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
    token: user.token,
  };
}

interface Call {
  method?: string;
  body?: unknown;
  /** null: no Authorization header. */
  token?: string | null;
  /** Overrides the CA to trust. */
  ca?: string;
}

/** One request with node:https, verifying the server against the CA (never rejectUnauthorized: false). */
function call(client: Client, path: string, options: Call = {}): Promise<{ status: number; json: unknown }> {
  const { method = 'GET', body, token = client.token, ca = client.ca } = options;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, client.server),
      {
        method,
        ca,
        agent: false,
        headers: {
          accept: 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON (e.g. /readyz)
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** PIDs of processes whose command line contains `text` (Linux /proc; zombies have none). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids.filter((pid) => pid !== process.pid);
}

function tempDirsOf(name: string): string[] {
  return readdirSync(tmpdir()).filter((entry) => entry.startsWith(`ocne-cp-${name}-`));
}

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

describe('the control planes of the global setup', () => {
  test('are provided by name through inject("controlPlanes")', () => {
    expect(inject('controlPlanes')).toEqual({ source, destination });
    expect(source.name).toBe('source');
    expect(destination.name).toBe('destination');
    expect(source.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test.each([
    ['source', source],
    ['destination', destination],
  ])('%s serves /version of the pinned kube-apiserver', async (_name, plane) => {
    const { status, json } = await call(clientFrom(plane.kubeconfig), '/version');
    expect(status).toBe(200);
    expect(json).toMatchObject({ gitVersion: TOOL_VERSIONS['kube-apiserver'], major: '1', minor: '33' });
  });

  test('the admin kubeconfig lists namespaces over verified TLS', async () => {
    expect(source.kubeconfig).not.toMatch(/insecure-skip-tls-verify/);
    const { status, json } = await call(clientFrom(source.kubeconfig), '/api/v1/namespaces');
    expect(status).toBe(200);
    const names = (json as { items: { metadata: { name: string } }[] }).items.map((ns) => ns.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
  });

  test('the kubeconfig file holds the same kubeconfig, readable only by its owner', () => {
    for (const plane of [source, destination]) {
      expect(readFileSync(plane.kubeconfigPath, 'utf8')).toBe(plane.kubeconfig);
      expect(statSync(plane.kubeconfigPath).mode & 0o777).toBe(0o600);
    }
  });

  test("the server certificate is checked: the other control plane's CA is refused", async () => {
    const client = clientFrom(source.kubeconfig);
    await expect(call(client, '/version', { ca: clientFrom(destination.kubeconfig).ca })).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
  });

  test('are two different clusters: a ConfigMap made in one is absent from the other', async () => {
    expect(source.url).not.toBe(destination.url);
    expect(source.pids).not.toEqual(destination.pids);
    const src = clientFrom(source.kubeconfig);
    const dst = clientFrom(destination.kubeconfig);
    const name = uniqueName('only-in-source');
    const created = await call(src, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { where: 'source' } },
    });
    expect(created.status).toBe(201);
    try {
      const here = await call(src, `/api/v1/namespaces/default/configmaps/${name}`);
      expect(here.status).toBe(200);
      expect(here.json).toMatchObject({ data: { where: 'source' } });
      expect((await call(dst, `/api/v1/namespaces/default/configmaps/${name}`)).status).toBe(404);
    } finally {
      await call(src, `/api/v1/namespaces/default/configmaps/${name}`, { method: 'DELETE' });
    }
  });

  test('refuse requests without or with a wrong token', async () => {
    const client = clientFrom(source.kubeconfig);
    const anonymous = await call(client, '/api/v1/namespaces', { token: null });
    expect([401, 403]).toContain(anonymous.status);
    const wrong = await call(client, '/api/v1/namespaces', { token: 'not-the-token' });
    expect(wrong.status).toBe(401);
  });
});

describe('startControlPlane', () => {
  test('starts another control plane and stops it by PID, removing its temp dir', async () => {
    let pids: { etcd: number; apiserver: number };
    let dir: string;
    {
      await using plane = await startControlPlane({ name: uniqueName('extra') });
      pids = { ...plane.pids };
      dir = dirname(plane.kubeconfigPath);
      expect(isRunning(pids.etcd) && isRunning(pids.apiserver)).toBe(true);
      expect(existsSync(dir)).toBe(true);
      const readyz = await call(clientFrom(plane.kubeconfig), '/readyz');
      expect(readyz).toEqual({ status: 200, json: 'ok' });
      await plane.stop();
      // idempotent: the second stop (and the disposal at the end of the block) are no-ops
      await plane.stop();
    }
    expect(isRunning(pids.etcd)).toBe(false);
    expect(isRunning(pids.apiserver)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // the control planes of the global setup are untouched
    expect((await call(clientFrom(source.kubeconfig), '/readyz')).status).toBe(200);
  });

  test('an abort while kube-apiserver starts stops both processes and removes the temp dir', async () => {
    const name = uniqueName('abort');
    const controller = new AbortController();
    let settled = false;
    const outcome = startControlPlane({ name, signal: controller.signal }).then(
      async (plane) => {
        await plane.stop();
        return new Error('the start was not aborted');
      },
      (error: unknown) => error,
    );
    void outcome.finally(() => {
      settled = true;
    });
    // abort once kube-apiserver has been spawned (its flags name the temp dir)
    while (!settled && !processesMentioning(`ocne-cp-${name}-`).some((pid) => isApiserver(pid))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const before = processesMentioning(`ocne-cp-${name}-`);
    expect(before.length).toBe(2);
    controller.abort();
    const error = await outcome;
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(before.filter(isRunning)).toEqual([]);
    expect(processesMentioning(`ocne-cp-${name}-`)).toEqual([]);
    expect(tempDirsOf(name)).toEqual([]);
  });

  test('an already aborted signal throws its reason before anything starts', async () => {
    const name = uniqueName('aborted');
    const reason = new Error('not today');
    await expect(startControlPlane({ name, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(tempDirsOf(name)).toEqual([]);
  });

  test('a kube-apiserver that exits fails the start with the tail of its log', async () => {
    const name = uniqueName('bad-flag');
    const error = await startControlPlane({ name, extraArgs: ['--no-such-flag'] }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/kube-apiserver exited \(code 1\) before \/readyz was ok/);
    expect(error?.message).toMatch(/lines of .*apiserver\.log\n(.*\n)*.*unknown flag: --no-such-flag/);
    expect(error?.message).toMatch(/lines of .*etcd\.log/);
    expect(processesMentioning(`ocne-cp-${name}-`)).toEqual([]);
    expect(tempDirsOf(name)).toEqual([]);
  });

  test('a start that outlasts startTimeoutMs fails with both logs and leaves nothing behind', async () => {
    const name = uniqueName('slow');
    const error = await startControlPlane({ name, startTimeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(new RegExp(`control plane "${name}" was not ready within 300 ms`));
    expect(processesMentioning(`ocne-cp-${name}-`)).toEqual([]);
    expect(tempDirsOf(name)).toEqual([]);
  });
});

function isApiserver(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.includes('kube-apiserver') ?? false;
  } catch {
    return false;
  }
}
