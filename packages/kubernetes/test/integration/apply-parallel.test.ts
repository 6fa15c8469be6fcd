// Server-side apply in parallel within one ordering rank, against the real kube-apiserver of the
// `source` control plane, seen through a small HTTP proxy of this test on 127.0.0.1 that holds
// each write 25 ms and records when it began and ended: the writes of one rank overlap (at most
// `concurrency` at a time), and no write of a rank begins before every write of the ranks before
// it has been answered (CRDs, then namespaces, then the rest), nor a custom object before its CRD
// is established.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  type AddressInfo,
  connect as connectTcp,
  createServer as createTcpServer,
  type Server as TcpServer,
} from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyKubeconfig } from './via-proxy.js';

const { source } = controlPlanesFromInject();

/** A write the proxy passed on: its path and when it began and was answered. */
interface Write {
  path: string;
  start: number;
  end: number;
}

let proxy: Server;
let kube: KubeClient;
const writes: Write[] = [];
let inFlight = 0;
let maxInFlight = 0;
let n = 0;

/**
 * Passes a request on to the API server and streams its answer back (watches too); writes wait
 * 25 ms first and are recorded when their answer has ended.
 */
async function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const write = req.method === 'PATCH' || req.method === 'POST';
  const record: Write = { path: (req.url ?? '').split('?')[0] ?? '', start: performance.now(), end: 0 };
  if (write) {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(25);
  }
  const upstream = new URL(source.url);
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
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => {
        if (!write) return;
        inFlight--;
        record.end = performance.now();
        writes.push(record);
      });
    },
  );
  out.on('error', () => req.socket.destroy());
  out.end(body);
}

beforeAll(async () => {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      forward(req, Buffer.concat(chunks), res).catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  kube = await connect({ kubeconfig: proxyKubeconfig(port, source.token) });
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

/** A CRD of kind Gadget in `group`. */
const crd = (group: string): KubernetesObject =>
  ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `gadgets.${group}` },
    spec: {
      group,
      names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  }) as KubernetesObject;

/** Custom objects, config maps and two namespaces of a run, listed in the worst order. */
function manifests(): { objects: KubernetesObject[]; namespaces: string[]; group: string } {
  const id = `apply-par-${process.pid}-${n++}`;
  const namespaces = [`${id}-a`, `${id}-b`];
  const group = `${id}.example.com`;
  const objects: KubernetesObject[] = [];
  for (let i = 0; i < 30; i++) {
    const namespace = namespaces[i % 2] as string;
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace } });
    if (i % 10 === 0)
      objects.push({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: `g${i}`, namespace } });
  }
  objects.push(...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
  objects.push(crd(group));
  return { objects, namespaces, group };
}

/** The ordering rank of a write's path: the CRD, a namespace, or a namespaced object. */
const rankOf = (path: string): number =>
  path.includes('/customresourcedefinitions/') ? 0 : /^\/api\/v1\/namespaces\/[^/]+$/.test(path) ? 1 : 2;

describe('server-side apply of many objects', () => {
  it('writes the objects of one rank in parallel, each rank after the ones before it', async () => {
    const { objects, group, namespaces } = manifests();
    writes.length = 0;
    maxInFlight = 0;
    const applied = await kube.apply(objects);
    // Every object, in the order of the ranks and, within one, of the input.
    expect(applied.map((a) => a.ref.kind)).toEqual([
      'CustomResourceDefinition',
      'Namespace',
      'Namespace',
      ...objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Gadget').map((o) => o.kind),
    ]);
    expect(applied.every((a) => a.result === 'applied')).toBe(true);
    expect(writes).toHaveLength(objects.length);
    // In parallel, bounded by the default concurrency of 16.
    expect(maxInFlight).toBeGreaterThan(4);
    expect(maxInFlight).toBeLessThanOrEqual(16);
    // No write of a rank before the ranks before it were answered.
    for (const later of [1, 2]) {
      const lastEnd = Math.max(...writes.filter((w) => rankOf(w.path) < later).map((w) => w.end));
      const firstStart = Math.min(...writes.filter((w) => rankOf(w.path) === later).map((w) => w.start));
      expect(firstStart, `rank ${later}`).toBeGreaterThanOrEqual(lastEnd);
    }
    // The custom objects exist: their CRD was established before they were written.
    const gadgets = await kube.list(`${group}/v1`, 'Gadget', { namespace: namespaces[0] as string });
    expect(gadgets.items.map((g) => g.metadata?.name)).toEqual(['g0', 'g10', 'g20']);
  });

  it('with concurrency 1 writes one object after the other', async () => {
    const { objects } = manifests();
    writes.length = 0;
    maxInFlight = 0;
    await kube.apply(objects, { concurrency: 1 });
    expect(writes).toHaveLength(objects.length);
    expect(maxInFlight).toBe(1);
  });

  it('a failing object fails the apply with its own error, the first in the input order', async () => {
    const { namespaces } = manifests();
    const namespace = namespaces[0] as string;
    await expect(
      kube.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        ...Array.from({ length: 10 }, (_, i) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: i === 3 || i === 7 ? `Bad_${i}` : `ok-${i}`, namespace },
        })),
      ]),
    ).rejects.toThrow(`applying ConfigMap ${namespace}/Bad_3:`);
  });
});

describe('connections', () => {
  let tunnel: TcpServer;
  let connections = 0;

  beforeAll(async () => {
    // A TCP tunnel to the API server (TLS passes through it untouched) that counts connections.
    const upstream = new URL(source.url);
    tunnel = createTcpServer((socket) => {
      connections++;
      const out = connectTcp(Number(upstream.port), upstream.hostname);
      socket.pipe(out).pipe(socket);
      socket.on('error', () => out.destroy());
      out.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => tunnel.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => tunnel.close(() => resolve()));
  });

  it('one client keeps its TLS connections open for its next requests', async () => {
    const port = (tunnel.address() as AddressInfo).port;
    const viaTunnel = await connect({
      kubeconfig: source.kubeconfig.replace(source.url, `https://127.0.0.1:${port}`),
    });
    const { objects } = manifests();
    connections = 0;
    await viaTunnel.apply(objects, { concurrency: 1 });
    await viaTunnel.apply(objects, { concurrency: 1 });
    // 68 writes and a few reads, one after the other: one connection (client-node alone opened one each).
    expect(connections).toBeLessThanOrEqual(3);
  });
});
