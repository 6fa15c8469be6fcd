// The SDK's main job on the bundled examples (`npm run demo` from the repository root):
// 1. load every example cluster file over examples/defaults.yaml, validate it, and print each
//    value that does not come from the built-in defaults with the layer, file and line it came from;
// 2. run the BYO flow on examples/byo/byo.yaml: the first control-plane node's Ignition, a worker's
//    and a control-plane node's join Ignition and the admin kubeconfig, written to out/byo/ and
//    checked (the Ignition reader, and the real ignition-validate when scripts/test-tools.sh built it);
// 3. render the Cluster API resources of examples/oci/capi.yaml (offline: its compartment and
//    images are OCIDs) into out/oci/capi-resources.yaml, as `ocne cluster template` prints them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from '@ocne/cluster';
import { formatIssue, loadConfig, type ValueSource } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { parseIgnition } from '@ocne/ignition';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const examples = [join(here, 'byo/byo.yaml'), join(here, 'oci/capi.yaml')];

function where(source: ValueSource): string {
  const file = source.source.startsWith('<') ? source.source : relative(root, source.source);
  const line = source.line !== undefined ? `:${source.line}:${source.column}` : '';
  return source.layer === 'derived' ? `derived (${source.note})` : `${source.layer} ${file}${line}`;
}

// A throwaway home, so the demo never reads or writes the user's own ~/.ocne or ~/.ssh.
const home = mkdtempSync(join(tmpdir(), 'ocne-demo-'));
let failed = false;
try {
  for (const configPath of examples) {
    process.stdout.write(`\n# ${relative(root, configPath)} (defaults: examples/defaults.yaml)\n`);
    try {
      const resolved = await loadConfig({ configPath, defaults: join(here, 'defaults.yaml'), home });
      const entries = resolved.provenance.entries().filter(([path]) => !/\[\d+\]$/.test(path));
      const builtins = entries.filter(([, source]) => source.layer === 'builtin').length;
      const rows = entries
        .filter(([, source]) => source.layer !== 'builtin')
        .map(([path, source]) => {
          const value = path
            .split(/\.|\[|\]/)
            .filter(Boolean)
            .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], resolved.cluster);
          return [path, JSON.stringify(value), where(source)] as const;
        });
      const w0 = Math.max(...rows.map((r) => r[0].length));
      const w1 = Math.min(60, Math.max(...rows.map((r) => r[1].length)));
      for (const [path, value, source] of rows) {
        process.stdout.write(`  ${path.padEnd(w0)}  ${value.padEnd(w1)}  ${source}\n`);
      }
      process.stdout.write(`  … and ${builtins} more values from the built-in defaults\n`);
      for (const warning of resolved.warnings) process.stdout.write(`  warning: ${formatIssue(warning)}\n`);
      process.stdout.write(
        `  valid: provider ${resolved.cluster.provider}, Kubernetes ${resolved.cluster.kubernetesVersion}\n`,
      );
    } catch (error) {
      failed = true;
      process.stdout.write(
        `  invalid: ${isOcneError(error) ? `${error.code} ${error.message}` : String(error)}\n`,
      );
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}

// 2. The BYO flow, with its own home under out/ so that reruns start afresh.
const out = join(root, 'out', 'byo');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const validator = join(
  process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache', 'ocne-test'),
  'bin',
  'ignition-validate-v2.23.0',
);
process.stdout.write(`\n# BYO flow on examples/byo/byo.yaml -> ${relative(root, out)}/\n`);
try {
  const cluster = await Cluster.open({
    configPath: join(here, 'byo/byo.yaml'),
    home: join(out, 'home'),
    defaults: false,
  });
  const start = await cluster.start();
  const worker = await cluster.join({ workerNodes: 1 });
  const controlPlane = await cluster.join({
    controlPlaneNodes: 1,
    firstControlPlaneNode: 'demo-byo-control-plane-1',
  });
  const files: Array<[string, string]> = [
    ['cluster-init.ign', start.ignition ?? ''],
    ['cluster-join-worker.ign', worker.ignition ?? ''],
    ['cluster-join-control-plane.ign', controlPlane.ignition ?? ''],
  ];
  for (const [name, json] of files) {
    const path = join(out, name);
    writeFileSync(path, json);
    const config = parseIgnition(json, { source: path });
    let checked = '';
    if (existsSync(validator)) {
      execFileSync(validator, [path], { encoding: 'utf8' });
      checked = ', ignition-validate: ok';
    }
    process.stdout.write(
      `  ${name.padEnd(32)} ${String(json.length).padStart(6)} bytes, ${config.storage?.files?.length ?? 0} files, ${config.systemd?.units?.length ?? 0} units${checked}\n`,
    );
  }
  process.stdout.write(`  ${'kubeconfig'.padEnd(32)} ${relative(root, start.kubeconfigPath)} (mode 0600)\n`);
  process.stdout.write(`  before booting the worker:        ${worker.commands.join('; ')}\n`);
  process.stdout.write(`  before booting the control plane: ${controlPlane.commands.join('; ')}\n`);
} catch (error) {
  failed = true;
  process.stdout.write(
    `  failed: ${isOcneError(error) ? `${error.code} ${error.message}` : String(error)}\n`,
  );
}
// 3. The OCI template.
const ociOut = join(root, 'out', 'oci');
rmSync(ociOut, { recursive: true, force: true });
mkdirSync(ociOut, { recursive: true });
process.stdout.write(`\n# Cluster API resources of examples/oci/capi.yaml -> ${relative(root, ociOut)}/\n`);
try {
  const cluster = await Cluster.open({
    configPath: join(here, 'oci/capi.yaml'),
    home: join(ociOut, 'home'),
    defaults: join(here, 'defaults.yaml'),
  });
  const yaml = await cluster.template();
  writeFileSync(join(ociOut, 'capi-resources.yaml'), yaml);
  for (const doc of parseAllDocuments(yaml)) {
    const o = doc.toJS() as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
    };
    process.stdout.write(
      `  ${o.kind.padEnd(22)} ${`${o.metadata.namespace}/${o.metadata.name}`.padEnd(32)} ${o.apiVersion}\n`,
    );
  }
  process.stdout.write(`  capi-resources.yaml: ${yaml.length} bytes\n`);
} catch (error) {
  failed = true;
  process.stdout.write(
    `  failed: ${isOcneError(error) ? `${error.code} ${error.message}` : String(error)}\n`,
  );
}
process.exitCode = failed ? 1 : 0;
