// The pure parts of Kubernetes access: manifests, apply order, endpoints, error wrapping.
import { isOcneError } from '@ocne/core';
import {
  applyOrder,
  hasReason,
  KubeError,
  parseManifests,
  splitHostPort,
  wrapKubeError,
} from '@ocne/kubernetes';
import { describe, expect, it } from 'vitest';

describe('manifests', () => {
  it('parses multi-document YAML, skipping empty documents', () => {
    const objects = parseManifests(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n',
    );
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ConfigMap']);
  });
  it('rejects documents without kind and broken YAML, naming the document', () => {
    expect(() => parseManifests('apiVersion: v1\nmetadata: {}\n', 'x.yaml')).toThrow(
      /x.yaml: document 1 has no apiVersion and kind/,
    );
    expect(() => parseManifests('kind: [\n', 'y.yaml')).toThrow(/y.yaml: document 1:/);
  });
  it('orders CRDs, then namespaces, then the rest in their order', () => {
    const k = (kind: string, name: string) => ({ apiVersion: 'v1', kind, metadata: { name } });
    const ordered = applyOrder([
      k('Deployment', 'd'),
      k('Namespace', 'n'),
      k('ConfigMap', 'c'),
      k('CustomResourceDefinition', 'crd'),
      k('Namespace', 'm'),
    ]);
    expect(ordered.map((o) => o.metadata?.name)).toEqual(['crd', 'n', 'm', 'd', 'c']);
  });
});

describe('endpoints', () => {
  it.each([
    ['192.168.1.10:6443', '192.168.1.10', 6443],
    ['lb.example.com:7443', 'lb.example.com', 7443],
    ['[fd00::10]:6443', 'fd00::10', 6443],
    ['fd00::10', 'fd00::10', 6443],
    ['lb.example.com', 'lb.example.com', 6443],
  ])('splitHostPort(%s)', (endpoint, host, port) => {
    expect(splitHostPort(endpoint)).toEqual({ host, port });
  });
});

describe('errors', () => {
  it('keeps the API Status, never the raw body', () => {
    const body = JSON.stringify({
      kind: 'Status',
      reason: 'AlreadyExists',
      code: 409,
      message: 'configmaps "x" already exists',
    });
    const e = wrapKubeError(
      Object.assign(new Error('HTTP-Code: 409'), { code: 409, body }),
      'applying ConfigMap default/x',
    );
    expect(e).toBeInstanceOf(KubeError);
    expect(e).toMatchObject({ code: 'OCNE_KUBE_API', status: { code: 409, reason: 'AlreadyExists' } });
    expect(e.message).toBe(
      'applying ConfigMap default/x: AlreadyExists (409): configmaps "x" already exists',
    );
    expect(hasReason(e, 'AlreadyExists')).toBe(true);
  });
  it('401 and 403 are credential errors; network errors say the server is unreachable', () => {
    expect(wrapKubeError(Object.assign(new Error(''), { code: 401, body: '' }), 'x').code).toBe(
      'OCNE_KUBE_UNAUTHORIZED',
    );
    const net = wrapKubeError(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      'listing Node',
    );
    expect(isOcneError(net) && net.code).toBe('OCNE_KUBE_UNREACHABLE');
    expect(net.message).toContain('ECONNREFUSED');
  });
});
