// `ocne cluster template` through the real process: the seven objects of the bundled OCI example
// on stdout, offline; clear failures for what cannot be rendered here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ocne as runOcne } from './cli-process.js';

const home = mkdtempSync(join(tmpdir(), 'ocne-template-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const ocne = (args: string[]) => runOcne(home, args);

describe('ocne cluster template', () => {
  it('prints the seven Cluster API objects of examples/oci/capi.yaml, offline', async () => {
    const run = await ocne(['cluster', 'template', '-c', 'examples/oci/capi.yaml']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const docs = parseAllDocuments(run.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Cluster/demo-oci',
      'OCICluster/demo-oci',
      'KubeadmControlPlane/demo-oci-control-plane',
      'OCIMachineTemplate/demo-oci-control-plane',
      'OCIMachineTemplate/demo-oci-md-0',
      'KubeadmConfigTemplate/demo-oci-md-0',
      'MachineDeployment/demo-oci-md-0',
    ]);
  });

  it('renders the oci template for a file without a provider (the default), and -P wins over the file', async () => {
    const path = join(home, 'noprovider.yaml');
    writeFileSync(
      path,
      'name: np\nproviders:\n  oci:\n    compartment: ocid1.compartment.oc1..aaaaaaaatest\n    images:\n      amd64: ocid1.image.oc1.iad.aaaaaaaaamd\n      arm64: ocid1.image.oc1.iad.aaaaaaaaarm\n',
    );
    const run = await ocne(['cluster', 'template', '-c', path]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('name: np-md-0');
    const byo = await ocne(['cluster', 'template', '-c', 'examples/byo/byo.yaml', '-P', 'oci']);
    expect(byo.stderr).toContain('providers.oci.compartment');
    expect(byo.status).toBe(1);
  });

  it('fails clearly for a provider without templates', async () => {
    const run = await ocne(['cluster', 'template', '-c', 'examples/byo/byo.yaml', '-P', 'byo']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('templates not implemented for provider byo');
  });

  it('says a compartment path needs Oracle Cloud access (an OCI config), and prints nothing', async () => {
    const path = join(home, 'path.yaml');
    writeFileSync(path, 'provider: oci\nname: p\nproviders:\n  oci:\n    compartment: ocne/dev\n');
    const run = await ocne(['--log-format', 'json', 'cluster', 'template', '-c', path]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const error = JSON.parse(run.stderr.trim().split('\n').at(-1)!);
    // The provider now resolves paths in Oracle Cloud; this home has no ~/.oci/config.
    expect(error).toMatchObject({ type: 'error', code: 'OCNE_OCI_CONFIG_INVALID' });
    expect(error.message).toContain('.oci/config');
  });
});
