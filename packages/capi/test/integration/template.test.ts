// Rendered templates against a real kube-apiserver with the CAPI and CAPOCI CRDs installed: a
// server-side apply with dry run accepts every object, and the object the server would store is
// the object we sent (nothing pruned as unknown, nothing rejected by the CRD schemas).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadConfig } from '@ocne/config';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociTemplate } from '../../src/templates.js';
import { installCapiCrds } from '../crds.ts';

const { destination } = controlPlanesFromInject();
const home = mkdtempSync(join(tmpdir(), 'ocne-template-it-'));
let kube: KubeClient;
const namespace = `tpl-${Date.now().toString(36)}`;

beforeAll(async () => {
  kube = await connect({ kubeconfigPath: destination.kubeconfigPath });
  await installCapiCrds(kube);
  await kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
});
afterAll(async () => {
  await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, { wait: false });
  rmSync(home, { recursive: true, force: true });
});

const base = `provider: oci\nname: dry\nsshPublicKey: ssh-ed25519 AAAAC3NzaTEST ocne@test\nproviders:\n  oci:\n    namespace: ${namespace}\n    compartment: ocid1.compartment.oc1..aaaaaaaatest\n    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaamd\n      arm64: ocid1.image.oc1.iad.aaaaaaaaarm\n`;

/** Drops what the server adds (metadata it owns, defaulted fields) so the sent object compares. */
function sentPart(sent: unknown, stored: unknown): unknown {
  if (Array.isArray(sent)) return (stored as unknown[]).map((s, i) => sentPart(sent[i], s));
  if (sent === null || typeof sent !== 'object' || stored === null || typeof stored !== 'object')
    return stored;
  return Object.fromEntries(
    Object.keys(sent).map((k) => [
      k,
      sentPart((sent as Record<string, unknown>)[k], (stored as Record<string, unknown>)[k]),
    ]),
  );
}

describe.each([
  ['defaults (1.33, arm64 control plane, amd64 workers)', base],
  [
    '1.30, proxy, cipher suites, extra Ignition, five control-plane nodes',
    `${base}kubernetesVersion: "1.30"\ncontrolPlaneNodes: 5\ncipherSuites: TLS_AES_128_GCM_SHA256\nproxy:\n  httpsProxy: http://proxy.example.com:3128\nextraIgnitionInline: |\n  variant: fcos\n  version: 1.5.0\n  storage:\n    files:\n      - path: /etc/motd\n        contents:\n          inline: hello\n`,
  ],
])('the template for %s', (_name, yaml) => {
  it('is accepted by the API server as sent (server-side apply, dry run)', async () => {
    const { cluster } = await loadConfig({ config: yaml, defaults: false, home, env: {} });
    const t = await ociTemplate(cluster);
    const results = await kube.apply(t.objects as unknown as KubernetesObject[], { dryRun: true });
    expect(results.map((r) => r.result)).toEqual(Array(7).fill('applied'));
    for (const [i, sent] of t.objects.entries()) {
      const stored = results[i]!.object as unknown as Record<string, unknown>;
      expect(stored.metadata).toMatchObject({ name: sent.metadata.name, namespace });
      // The spec the server would store holds every field we sent, unchanged.
      expect(sentPart(sent.spec, stored.spec), sent.kind).toEqual(sent.spec);
    }
    // Dry run: nothing was stored.
    expect((await kube.list('cluster.x-k8s.io/v1beta1', 'Cluster', { namespace })).items).toEqual([]);
  });
});

it('rejects a template with a field of the wrong type, so the dry run above is a real check', async () => {
  const { cluster } = await loadConfig({ config: base, defaults: false, home, env: {} });
  const t = await ociTemplate(cluster);
  const broken = structuredClone(t.objects[6]) as unknown as Record<string, Record<string, unknown>>;
  broken.spec!.replicas = 'three';
  await expect(kube.apply([broken as unknown as KubernetesObject], { dryRun: true })).rejects.toThrow(
    /replicas/,
  );
});
