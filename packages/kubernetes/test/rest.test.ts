// KubeClient.rest(): plain REST calls with retries of transient failures, against an HTTP server
// of ours on 127.0.0.1 that answers as an overloaded API server would.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KubeClient, KubeErrorCode } from '../src/index.js';

let server: Server;
let kube: KubeClient;
const seen: Array<{ method: string; url: string; type: string | undefined; body: string }> = [];
let answers: Array<[number, unknown]> = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'], body });
      const [status, json] = answers.shift() ?? [200, {}];
      res.writeHead(status, { 'Content-Type': 'application/json' });
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
        code: KubeErrorCode.InvalidKubeconfig,
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
      ).rejects.toMatchObject({ code: KubeErrorCode.Cancelled });
    } finally {
      rest.close();
      answers = [];
    }
  });
});
