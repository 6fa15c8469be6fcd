// KubeClient.rest(): plain REST calls with retries of transient failures, against an HTTP server
// of ours on 127.0.0.1 that answers as an overloaded API server would (or drops the connection
// without an answer); and the pure parts of the retry policy (src/retry.ts).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KubeClient } from '../src/index.js';
import { retryAfterMs, storedAsSent } from '../src/retry.js';

let server: Server;
let kube: KubeClient;
const seen: Array<{ method: string; url: string; type: string | undefined; body: string }> = [];
/** The next answers: status, JSON body and headers; or `drop`: close the connection without an answer. */
let answers: Array<[number, unknown, Record<string, string>?] | 'drop'> = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'], body });
      const answer = answers.shift() ?? [200, {}];
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      const [status, json, headers] = answer;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(json === undefined ? '' : JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  kube = await connect({
    kubeconfig: `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: not-a-real-token\n`,
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const status = (code: number, reason: string) => ({
  kind: 'Status',
  code,
  reason,
  message: `${reason} here`,
});

describe('KubeClient.rest', () => {
  it('retries 429 and 503 with backoff, then answers; sends merge patches with the field manager', async () => {
    seen.length = 0;
    answers = [
      [429, status(429, 'TooManyRequests')],
      [503, status(503, 'ServiceUnavailable')],
      [200, { metadata: { name: 'x' } }],
    ];
    const rest = kube.rest({ fieldManager: 'ocne-test' });
    try {
      const answer = await rest.call('PATCH', '/api/v1/namespaces/a/configmaps/x', {
        body: { data: { k: 'v' } },
        merge: true,
        doing: 'patching x',
      });
      expect(answer).toEqual({ metadata: { name: 'x' } });
      expect(seen.map((s) => s.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
      expect(seen[0]).toMatchObject({
        url: '/api/v1/namespaces/a/configmaps/x?fieldManager=ocne-test',
        type: 'application/merge-patch+json',
        body: '{"data":{"k":"v"}}',
      });
    } finally {
      rest.close();
    }
  });

  it('does not retry a refusal, and names what was being done', async () => {
    seen.length = 0;
    answers = [[422, status(422, 'Invalid')]];
    const rest = kube.rest();
    try {
      await expect(
        rest.call('POST', '/api/v1/namespaces', { body: {}, doing: 'creating namespace a' }),
      ).rejects.toThrow(/^creating namespace a: Invalid \(422\)/);
      expect(seen).toHaveLength(1);
    } finally {
      rest.close();
    }
  });

  it('answers undefined for 404 when asked, and pages through lists', async () => {
    answers = [
      [404, status(404, 'NotFound')],
      [200, { items: [{ metadata: { name: 'a' } }], metadata: { continue: 'next' } }],
      [200, { items: [{ metadata: { name: 'b' } }], metadata: {} }],
    ];
    const rest = kube.rest();
    try {
      expect(
        await rest.call('GET', '/api/v1/namespaces/none', { doing: 'reading', allowNotFound: true }),
      ).toBeUndefined();
      seen.length = 0;
      const items = await rest.list('/api/v1/configmaps', 'v1', 'ConfigMap', 'listing');
      expect(items.map((i) => [i.kind, (i.metadata as { name: string }).name])).toEqual([
        ['ConfigMap', 'a'],
        ['ConfigMap', 'b'],
      ]);
      expect(seen.map((s) => s.url)).toEqual([
        '/api/v1/configmaps?limit=500',
        '/api/v1/configmaps?limit=500&continue=next',
      ]);
    } finally {
      rest.close();
    }
  });

  it('says so when the kubeconfig cannot be used, as a KubeError', async () => {
    const plain = await connect({
      kubeconfig: kube.config
        .exportConfig()
        .replace('"insecure-skip-tls-verify":true', '"insecure-skip-tls-verify":false'),
    });
    const rest = plain.rest();
    try {
      await expect(rest.call('GET', '/api', { doing: 'reading /api' })).rejects.toMatchObject({
        code: 'OCNE_KUBE_INVALID_KUBECONFIG',
        message: expect.stringMatching(/^reading \/api: cannot use the kubeconfig: /),
      });
    } finally {
      rest.close();
    }
  });

  it('stops retrying when the signal aborts, with OCNE_CANCELLED', async () => {
    answers = Array.from({ length: 10 }, () => [503, status(503, 'ServiceUnavailable')] as [number, unknown]);
    const rest = kube.rest({ attempts: 10 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    try {
      await expect(
        rest.call('GET', '/api/v1/namespaces', { doing: 'listing', signal: controller.signal }),
      ).rejects.toMatchObject({ code: 'OCNE_CANCELLED' });
    } finally {
      rest.close();
      answers = [];
    }
  });

  it('waits as long as Retry-After says, in seconds or as an HTTP date, then answers', async () => {
    seen.length = 0;
    // An HTTP date has whole seconds: 3 s from now is at least 2 s from now, 1 s after the first wait.
    const date = new Date(Date.now() + 3000).toUTCString();
    answers = [
      [429, status(429, 'TooManyRequests'), { 'Retry-After': '1' }],
      [503, status(503, 'ServiceUnavailable'), { 'Retry-After': date }],
      [200, { metadata: { name: 'x' } }],
    ];
    const rest = kube.rest();
    const started = performance.now();
    try {
      expect(await rest.call('GET', '/api/v1/namespaces/a/configmaps/x', { doing: 'reading x' })).toEqual({
        metadata: { name: 'x' },
      });
      expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
      expect(seen).toHaveLength(3);
    } finally {
      rest.close();
    }
  });

  it('retries a PUT whose answer was lost; the 409 of the retry is success when the object is stored as sent', async () => {
    const sent = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', namespace: 'a', resourceVersion: '7', labels: { l: '1' }, annotations: {} },
      data: { k: 'v' },
    };
    const stored = {
      ...sent,
      metadata: {
        ...sent.metadata,
        resourceVersion: '8',
        uid: 'u1',
        creationTimestamp: '2026-01-01T00:00:00Z',
      },
      immutable: false,
    };
    seen.length = 0;
    answers = ['drop', [409, status(409, 'Conflict')], [200, stored]];
    const rest = kube.rest();
    try {
      const path = '/api/v1/namespaces/a/configmaps/x';
      expect(await rest.call('PUT', path, { body: sent, doing: 'updating x' })).toEqual(stored);
      expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
        `PUT ${path}?fieldManager=ocne`,
        `PUT ${path}?fieldManager=ocne`,
        `GET ${path}`,
      ]);

      // Someone else's change in between: the conflict stands, with its Kubernetes status.
      answers = ['drop', [409, status(409, 'Conflict')], [200, { ...stored, data: { k: 'theirs' } }]];
      await expect(rest.call('PUT', path, { body: sent, doing: 'updating x' })).rejects.toMatchObject({
        code: 'OCNE_KUBE_API',
        status: { code: 409, reason: 'Conflict' },
        message: expect.stringMatching(/^updating x: Conflict \(409\)/),
      });
      // A conflict on the first attempt is never the call's own write: no reading back.
      seen.length = 0;
      answers = [[409, status(409, 'Conflict')]];
      await expect(rest.call('PUT', path, { body: sent, doing: 'updating x' })).rejects.toMatchObject({
        status: { reason: 'Conflict' },
      });
      expect(seen).toHaveLength(1);
    } finally {
      rest.close();
    }
  });
});

describe('the retry policy', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Sun, 01 Mar 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('takes an object as stored as sent when only what the server sets or defaults differs', () => {
    const sent = {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Cluster',
      metadata: {
        name: 'c',
        namespace: 'n',
        uid: 'u1',
        resourceVersion: '1',
        finalizers: [],
        labels: { a: 'b' },
      },
      spec: { paused: true, clusterNetwork: { pods: { cidrBlocks: ['10.0.0.0/16'] } }, topology: null },
      status: { phase: 'Provisioned' },
    };
    const stored = {
      ...sent,
      metadata: { ...sent.metadata, resourceVersion: '2', generation: 2, managedFields: [{ manager: 'm' }] },
      spec: { ...sent.spec, topology: undefined, controlPlaneEndpoint: { host: '', port: 0 } },
      status: { phase: 'Provisioning' },
    };
    expect(storedAsSent(sent, stored)).toBe(true);
    expect(storedAsSent(sent, { ...stored, spec: { ...stored.spec, paused: false } })).toBe(false);
    expect(storedAsSent(sent, { ...stored, metadata: { ...stored.metadata, uid: 'u2' } })).toBe(false);
    expect(storedAsSent(sent, { ...stored, metadata: { ...stored.metadata, labels: {} } })).toBe(false);
    const pods = { cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'] };
    expect(storedAsSent(sent, { ...stored, spec: { ...stored.spec, clusterNetwork: { pods } } })).toBe(false);
  });

  it('compares the status of a status write when it checks that a PUT landed', () => {
    const sent = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', uid: 'u1', resourceVersion: '1', managedFields: [{ manager: 'source' }] },
      status: { ready: true },
    };
    const stored = { ...sent, metadata: { ...sent.metadata, resourceVersion: '2' } };
    expect(storedAsSent(sent, stored)).toBe(true);
    expect(storedAsSent(sent, stored, { status: true })).toBe(true);
    // A status write that did not land: only the status differs.
    expect(storedAsSent(sent, { ...stored, status: { ready: false } })).toBe(true);
    expect(storedAsSent(sent, { ...stored, status: { ready: false } }, { status: true })).toBe(false);
    // Managed fields sent back as read: the server adds its own entry, which says nothing.
    const other = { ...stored, metadata: { ...stored.metadata, managedFields: [{ manager: 'ocne-move' }] } };
    expect(storedAsSent(sent, other, { status: true })).toBe(true);
  });
});
