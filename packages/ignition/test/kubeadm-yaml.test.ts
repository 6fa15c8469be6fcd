/**
 * The kubeadm configuration in the Ignition of a BYO node (examples/byo/byo.yaml: the join of a
 * worker and of a control-plane node, and the first node's init) is written by `@ocne/config`'s
 * writer, not `yaml`, and is byte-identical to what `yaml`'s `stringify` wrote before.
 *
 * Each document of `/etc/kubernetes/kubeadm.conf` is read back to its object: the writer must
 * write exactly that text for it (so the join took the fast path: had it fallen back, `yaml`'s
 * text would differ only where the writer declines), and so must `yaml` with the options the
 * kubeadm writer passed it before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, readConfigFiles, writeYaml } from '@ocne/config';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { decodeDataUrlText } from '../src/data-url.js';
import { configFileInputs } from '../src/index.js';
import { clusterNodeInput, initNodeIgnition, joinNodeIgnition } from '../src/node.js';
import type { IgnitionConfig } from '../src/spec.js';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/byo/byo.yaml');
const home = mkdtempSync(join(tmpdir(), 'ocne-kubeadm-yaml-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What yamlDoc passed `yaml` before the writer. */
const OLD_OPTIONS = { indent: 4, indentSeq: true, lineWidth: 0, nullStr: 'null' } as const;
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'b'.repeat(64)}`;

function kubeadmConf(config: IgnitionConfig): string {
  const file = config.storage?.files?.find((f) => f.path === '/etc/kubernetes/kubeadm.conf');
  const source = file?.contents?.source;
  const text =
    typeof source === 'string' ? decodeDataUrlText(source, file?.contents?.compression) : undefined;
  if (text === undefined) throw new Error('no kubeadm.conf');
  return text;
}

async function byoInput() {
  const { cluster } = await loadConfig({ configPath: EXAMPLE, defaults: false, home, env: {} });
  return clusterNodeInput(cluster, configFileInputs(cluster, await readConfigFiles(cluster)));
}

describe('kubeadm.conf of examples/byo/byo.yaml', () => {
  it.each(['worker', 'control-plane', 'init'] as const)(
    '%s: written by our writer, as yaml wrote it',
    async (role) => {
      const input = await byoInput();
      const config =
        role === 'init'
          ? initNodeIgnition({
              ...input,
              caCertPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
              caKeyPem: '-----BEGIN RSA PRIVATE KEY-----\nKEY\n-----END RSA PRIVATE KEY-----\n',
              certificateKey: 'a'.repeat(64),
              expectWorkers: true,
            })
          : joinNodeIgnition({
              ...input,
              role,
              token: TOKEN,
              caCertHashes: [HASH],
              ...(role === 'control-plane' ? { certificateKey: 'a'.repeat(64) } : {}),
            });
      const text = kubeadmConf(config);
      const objects = parseAllDocuments(text).map((d) => d.toJS() as unknown);
      expect(objects.length).toBe(role === 'worker' ? 1 : 2);
      const ours = objects.map((o) => writeYaml(o, { indent: 4, nullStr: 'null' }));
      expect(ours.map((d, i) => (d === undefined ? objects[i] : 'ok'))).toEqual(objects.map(() => 'ok'));
      expect(ours.join('\n---\n')).toBe(text);
      expect(objects.map((o) => stringify(o, OLD_OPTIONS)).join('\n---\n')).toBe(text);
    },
  );
});
