// The retry policy (src/retry.ts) of both ways this package talks to an API server, KubeClient's
// methods (client-node) and KubeClient.rest(), against the real kube-apiserver of the `source`
// control plane, through a small HTTP proxy of this test on 127.0.0.1. The proxy forwards every
// request, unless a fault is queued for it: answer 429/503 with Retry-After, forward and then drop
// the answer (the write lands, the client never hears of it), or hold the request unanswered.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { connect, type KubeClient, type KubeRestClient } from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { proxyKubeconfig } from './via-proxy.js';

const { source } = controlPlanesFromInject();

/** What the proxy does with the next request that matches. */
type Fault =
  | { method: string; path: string; answer: 429 | 503; retryAfter: string }
  | { method: string; path: string; drop: true; meanwhile?: () => Promise<void> }
  | { method: string; path: string; hold: true };

/** A request the proxy saw, and what became of it. */
interface Seen {
  method: string;
  path: string;
  outcome: number | 'dropped' | 'held';
  /** The API server's answer (also when the client never got it). */
  answer?: { resourceVersion?: string };
}

let proxy: Server;
let faults: Fault[] = [];
const seen: Seen[] = [];
/** Connects to the proxy. */
let viaProxy: KubeClient;
/** Connects to the API server directly: someone else, and the test's own checks. */
let direct: KubeClient;
let n = 0;

/** Forwards a request to the API server; resolves with its whole answer. */
function forward(
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  const upstream = new URL(source.url);
  return new Promise((resolve, reject) => {
    const out = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        ca: source.ca,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const method = req.method ?? '';
  const path = (req.url ?? '').split('?')[0] ?? '';
  const index = faults.findIndex((f) => f.method === method && f.path === path);
  const fault = index < 0 ? undefined : faults.splice(index, 1)[0];
  if (fault && 'answer' in fault) {
    seen.push({ method, path, outcome: fault.answer });
    const reason = fault.answer === 429 ? 'TooManyRequests' : 'ServiceUnavailable';
    res.writeHead(fault.answer, { 'Content-Type': 'application/json', 'Retry-After': fault.retryAfter });
    res.end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code: fault.answer }),
    );
    return;
  }
  if (fault && 'hold' in fault) {
    // Never answered; the client gives up (the socket closes).
    seen.push({ method, path, outcome: 'held' });
    return;
  }
  const answer = await forward(req, body);
  const parsed = JSON.parse(answer.body.toString() || '{}') as { metadata?: { resourceVersion?: string } };
  const record: Seen = { method, path, outcome: answer.status, answer: { ...parsed.metadata } };
  seen.push(record);
  if (fault && 'drop' in fault) {
    record.outcome = 'dropped';
    await fault.meanwhile?.();
    req.socket.destroy();
    return;
  }
  const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = answer.headers;
  res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

beforeAll(async () => {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  viaProxy = await connect({ kubeconfig: proxyKubeconfig(port, source.token) });
  direct = await connect({ kubeconfig: source.kubeconfig });
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

afterEach(() => {
  // A fault left over would hit the next test.
  expect(faults).toEqual([]);
  faults = [];
});

type ConfigMap = KubernetesObject & { data?: Record<string, string> };

/** ConfigMap `name` of a namespace with `data.v`. */
const configMapOf = (namespace: string, v: string, name = 'c'): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { v },
});

/** An object as the API server sends it (JSON, not client-node's models), read directly. */
async function raw(path: string): Promise<ConfigMap> {
  const rest = direct.rest();
  try {
    return (await rest.call<ConfigMap>('GET', path, { doing: `reading ${path}` }))!;
  } finally {
    rest.close();
  }
}

/** A namespace of its own with ConfigMap `c`, created directly; the proxy's log starts empty. */
async function setUp(): Promise<{ namespace: string; path: string; configMap: ConfigMap }> {
  const namespace = `retry-test-${process.pid}-${n++}`;
  await direct.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    configMapOf(namespace, '0'),
  ]);
  const path = `/api/v1/namespaces/${namespace}/configmaps/c`;
  const stored = await raw(path);
  seen.length = 0;
  return { namespace, path, configMap: stored };
}

const log = () => seen.map((s) => `${s.method} ${s.outcome}`);

async function withRest<T>(fn: (rest: KubeRestClient) => Promise<T>): Promise<T> {
  const rest = viaProxy.rest();
  try {
    return await fn(rest);
  } finally {
    rest.close();
  }
}

describe('429 and 503 with Retry-After', () => {
  it('KubeClient waits as long as the server asks, then reads and applies', async () => {
    const { namespace, path } = await setUp();
    faults = [
      { method: 'GET', path, answer: 429, retryAfter: '1' },
      { method: 'GET', path, answer: 503, retryAfter: '1' },
    ];
    const started = performance.now();
    const read = await viaProxy.get<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'c' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1950);
    expect(read?.data).toEqual({ v: '0' });
    expect(seen.filter((s) => s.path === path).map((s) => s.outcome)).toEqual([429, 503, 200]);

    faults = [{ method: 'PATCH', path, answer: 503, retryAfter: '1' }];
    const applyStarted = performance.now();
    const [applied] = await viaProxy.apply([configMapOf(namespace, '1')]);
    expect(performance.now() - applyStarted).toBeGreaterThanOrEqual(950);
    expect(applied?.result).toBe('applied');
    expect((await raw(path)).data).toEqual({ v: '1' });
  });

  it('KubeRestClient waits as long as the server asks, then answers', async () => {
    const { path } = await setUp();
    faults = [
      { method: 'GET', path, answer: 503, retryAfter: '1' },
      { method: 'GET', path, answer: 429, retryAfter: '1' },
    ];
    const started = performance.now();
    const read = await withRest((rest) => rest.call<ConfigMap>('GET', path, { doing: 'reading c' }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(1950);
    expect(read?.data).toEqual({ v: '0' });
    expect(log()).toEqual(['GET 503', 'GET 429', 'GET 200']);
  });

  it('stops at once when the signal aborts, while waiting or while a request is unanswered', async () => {
    const { namespace, path } = await setUp();
    const cm = configMapOf(namespace, '2');
    for (const fault of [
      { method: 'PATCH', path, answer: 429, retryAfter: '30' } as const,
      { method: 'PATCH', path, hold: true } as const,
    ]) {
      faults = [fault];
      const started = performance.now();
      const error = await viaProxy.apply([cm], { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OCNE_CANCELLED' });
      expect(performance.now() - started).toBeLessThan(3000);
    }
    faults = [{ method: 'GET', path, answer: 503, retryAfter: '30' }];
    const started = performance.now();
    const error = await withRest((rest) =>
      rest.call('GET', path, { doing: 'reading c', signal: AbortSignal.timeout(300) }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_CANCELLED', message: 'reading c: cancelled' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await raw(path)).data).toEqual({ v: '0' });
  });
});

describe('a write whose answer is lost', () => {
  it('a retried PUT that meets its own write (409) succeeds, and the object is stored once', async () => {
    const { path, configMap } = await setUp();
    faults = [{ method: 'PUT', path, drop: true }];
    const written = await withRest((rest) =>
      rest.call<ConfigMap>('PUT', path, { body: { ...configMap, data: { v: 'mine' } }, doing: 'updating c' }),
    );
    expect(log()).toEqual(['PUT dropped', 'PUT 409', 'GET 200']);
    // The object as the first (lost) answer had it: the retry did not write again.
    expect(written?.data).toEqual({ v: 'mine' });
    expect(written?.metadata?.resourceVersion).toBe(seen[0]?.answer?.resourceVersion);
    expect((await raw(path)).metadata?.resourceVersion).toBe(seen[0]?.answer?.resourceVersion);
  });

  it('a retried server-side apply lands once; a create is not repeated after a lost answer, but after a 429', async () => {
    const { namespace, path } = await setUp();
    faults = [{ method: 'PATCH', path, drop: true }];
    const [applied] = await viaProxy.apply([configMapOf(namespace, 'applied')]);
    expect(log()).toEqual(['PATCH dropped', 'PATCH 200']);
    expect(applied?.object.metadata?.resourceVersion).toBe(seen[0]?.answer?.resourceVersion);

    seen.length = 0;
    const collection = `/api/v1/namespaces/${namespace}/configmaps`;
    faults = [{ method: 'POST', path: collection, drop: true }];
    const error = await viaProxy
      .apply([configMapOf(namespace, '1', 'd')], { mode: 'create' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_KUBE_UNREACHABLE' });
    expect(log()).toEqual(['POST dropped']);
    expect(await direct.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'd' })).toBeDefined();

    seen.length = 0;
    faults = [{ method: 'POST', path: collection, answer: 429, retryAfter: '0' }];
    const [created] = await viaProxy.apply([configMapOf(namespace, '1', 'e')], { mode: 'create' });
    expect(created?.result).toBe('created');
    expect(log()).toEqual(['POST 429', 'POST 201']);
  });
});

describe('a genuine conflict', () => {
  it('fails with the Kubernetes Conflict, also when the retry of a lost PUT finds someone else’s change', async () => {
    const { namespace, path, configMap } = await setUp();
    // Someone else changed it after it was read: the PUT carries a stale resourceVersion.
    await direct.apply([configMapOf(namespace, 'theirs')]);
    const stale = await withRest((rest) =>
      rest
        .call('PUT', path, { body: { ...configMap, data: { v: 'mine' } }, doing: 'updating c' })
        .catch((e: unknown) => e),
    );
    expect(stale).toMatchObject({
      code: 'OCNE_KUBE_API',
      status: { code: 409, reason: 'Conflict' },
      message: expect.stringMatching(/^updating c: Conflict \(409\)/),
    });
    expect(log()).toEqual(['PUT 409']);

    // The first PUT lands, its answer is lost, and someone else writes before the retry.
    const current = await raw(path);
    seen.length = 0;
    faults = [
      {
        method: 'PUT',
        path,
        drop: true,
        meanwhile: async () => {
          await direct.apply([configMapOf(namespace, 'later')]);
        },
      },
    ];
    const lost = await withRest((rest) =>
      rest
        .call('PUT', path, { body: { ...current, data: { v: 'mine' } }, doing: 'updating c' })
        .catch((e: unknown) => e),
    );
    expect(lost).toMatchObject({ code: 'OCNE_KUBE_API', status: { code: 409, reason: 'Conflict' } });
    expect(log()).toEqual(['PUT dropped', 'PUT 409', 'GET 200']);
    expect((await raw(path)).data).toEqual({ v: 'later' });
  });
});
