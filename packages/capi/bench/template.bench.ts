// What rendering the OCI template costs (`pnpm bench`), on examples/oci/capi.yaml: the node
// Ignition alone, the seven objects, and the objects printed as YAML (what `ocne cluster template`
// writes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@ocne/config';
import { group } from '@ocne/test-bench';
import { objectsToYaml, ociAdditionalConfig, ociTemplate } from '../src/templates.ts';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const home = mkdtempSync(join(tmpdir(), 'ocne-bench-'));
try {
  const { cluster } = await loadConfig({
    configPath: join(examples, 'oci/capi.yaml'),
    defaults: false,
    home,
    env: {},
  });
  const template = await ociTemplate(cluster);
  await group('OCI template of examples/oci/capi.yaml', [
    {
      name: 'node Ignition for additionalConfig (ociAdditionalConfig)',
      fn: () => ociAdditionalConfig(cluster),
    },
    { name: 'the seven objects (ociTemplate)', fn: () => ociTemplate(cluster) },
    {
      name: 'the seven objects as YAML (ociTemplate + objectsToYaml)',
      fn: async () => objectsToYaml((await ociTemplate(cluster)).objects),
    },
  ]);
  console.log(
    `  YAML ${objectsToYaml(template.objects).length} bytes; additionalConfig ${template.additionalConfig.length} of 32768 characters`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
