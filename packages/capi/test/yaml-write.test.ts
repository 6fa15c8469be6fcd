/**
 * The OCI template of examples/oci/capi.yaml, as `ocne cluster template` prints it, takes the
 * writer of `@ocne/config` (no fallback to `yaml`) and is byte-identical to what `yaml`'s
 * `stringify` wrote before, with the options `objectsToYaml` passed it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, readConfigFiles, writeYaml } from '@ocne/config';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ociCcmSecrets } from '../src/index.js';
import { objectsToYaml, ociTemplate } from '../src/templates.js';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/oci/capi.yaml');
const home = mkdtempSync(join(tmpdir(), 'ocne-yaml-write-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What objectsToYaml called before the writer. */
const OLD_OPTIONS = {
  version: '1.1',
  lineWidth: 0,
  blockQuote: 'literal',
  aliasDuplicateObjects: false,
} as const;

describe('objectsToYaml on the template of examples/oci/capi.yaml', () => {
  it('writes every object itself, byte-identical to yaml', async () => {
    const { cluster } = await loadConfig({ configPath: EXAMPLE, defaults: false, home, env: {} });
    const { objects } = await ociTemplate(cluster, { files: await readConfigFiles(cluster) });
    expect(objects).toHaveLength(7);
    for (const object of objects) {
      const ours = writeYaml(object, { version: '1.1', blockQuote: 'literal', aliasDuplicateObjects: false });
      expect(ours).toBeDefined();
      expect(ours).toBe(stringify(object, OLD_OPTIONS));
    }
    expect(objectsToYaml(objects)).toBe(objects.map((o) => stringify(o, OLD_OPTIONS)).join('---\n'));
  });
});

describe('ociCcmSecrets', () => {
  it('writes the settings itself, byte-identical to yaml', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const [secret] = ociCcmSecrets({
      credentials: {
        region: 'us-ashburn-1',
        tenancy: 'ocid1.tenancy.oc1..aaaa',
        user: 'ocid1.user.oc1..aaaa',
        fingerprint: '12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0',
        key,
        passphrase: 'yes',
      },
      compartmentId: 'ocid1.compartment.oc1..aaaa',
      settings: {
        vcn: 'ocid1.vcn.oc1.iad.aaaa',
        loadBalancer: { subnet1: 'ocid1.subnet.oc1.iad.a', subnet2: '' },
      },
    });
    const text = Buffer.from(secret?.data['cloud-provider.yaml'] ?? '', 'base64').toString('utf8');
    // The document read back is the settings object: the writer writes it, as yaml did.
    const settings: unknown = parse(text);
    expect(writeYaml(settings, { indent: 4 })).toBe(text);
    expect(stringify(settings, { indent: 4, lineWidth: 0 })).toBe(text);
    expect(text).toContain('passphrase: yes\n');
  });
});
