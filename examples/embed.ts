// Embedding the SDK: a TypeScript program that drives a BYO cluster through the `Cluster`
// facade, prints every event as a JSON line, and writes the Ignition files. Type-checked in CI;
// run it with `node examples/embed.ts <output-folder>` after `npm run demo` has built the packages.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, type Operation } from '@ocne/cluster';
import { isOcneError, type OcneEvent } from '@ocne/core';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'ocne-embed-out-'));
mkdirSync(out, { recursive: true });

// A private home: the program never touches the user's ~/.ocne or ~/.kube.
const home = mkdtempSync(join(tmpdir(), 'ocne-embed-home-'));

async function follow<T>(name: string, operation: Operation<T>): Promise<T> {
  for await (const event of operation)
    console.log(JSON.stringify({ operation: name, ...event } satisfies OcneEvent & { operation: string }));
  return operation;
}

try {
  const cluster = await Cluster.open({ configPath: join(here, 'byo/byo.yaml'), home, defaults: false });
  const started = await follow('start', cluster.start());
  writeFileSync(join(out, 'cluster-init.ign'), started.ignition ?? '');
  const worker = await follow('join', cluster.join({ workerNodes: 1 }));
  writeFileSync(join(out, 'cluster-join.ign'), worker.ignition ?? '');
  console.error(
    `wrote ${out}/cluster-init.ign and ${out}/cluster-join.ign; before booting the worker run: ${worker.commands.join(' && ')}`,
  );
  await follow('delete', cluster.delete());
} catch (error) {
  console.error(isOcneError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
