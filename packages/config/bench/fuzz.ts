/**
 * A long fuzz run of the configuration loader (not part of `npm test`; the property test
 * `test/hostile.test.ts` runs the same generator 2,000 times there):
 *
 *   node --import ./scripts/source-hooks.mjs packages/config/bench/fuzz.ts [count=10000] [seed=12]
 *
 * Input `i` is the hostile file `hostileInput` generates with seed `seed + i`, loaded with
 * `loadConfig` as the cluster file (and every fourth as the defaults file). Inputs run in a worker
 * thread that is replaced when one takes longer than the watchdog (default 5 s, `OCNE_FUZZ_WATCHDOG_MS`)
 * or exhausts its heap, so a loader that hangs or crashes still gets counted. Prints how many
 * inputs loaded, ended in a typed error (an `OcneError`), in anything else, took over 1 s, or were
 * stopped, with the slowest inputs and a sample of the untyped errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { hostileInput } from '@ocne/test-hostile';
import fc from 'fast-check';

interface Result {
  index: number;
  kind: string;
  size: number;
  outcome: 'loaded' | 'typed' | 'untyped' | 'stopped' | 'crashed';
  ms: number;
  detail: string;
}

/** The input of one index, the same in every process. */
function input(seed: number, index: number) {
  return fc.sample(hostileInput, { numRuns: 1, seed: seed + index })[0]!;
}

async function runWorker(): Promise<void> {
  const { loadConfig } = await import('@ocne/config');
  const { isOcneError } = await import('@ocne/core');
  const { seed } = workerData as { seed: number };
  const home = mkdtempSync(join(tmpdir(), 'ocne-fuzz-'));
  const file = join(home, 'config.yaml');
  parentPort!.on('message', async (index: number) => {
    const { kind, bytes } = input(seed, index);
    writeFileSync(file, bytes);
    const asDefaults = index % 4 === 3;
    const start = performance.now();
    let outcome: Result['outcome'] = 'loaded';
    let detail = '';
    try {
      await (asDefaults
        ? loadConfig({ defaults: file, config: { provider: 'libvirt' }, home, env: {} })
        : loadConfig({ configPath: file, defaults: false, home, env: {} }));
    } catch (error) {
      outcome = isOcneError(error) ? 'typed' : 'untyped';
      detail = isOcneError(error)
        ? error.code
        : `${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`;
    }
    const ms = performance.now() - start;
    parentPort!.postMessage({ index, kind, size: bytes.length, outcome, ms, detail } satisfies Result);
  });
  parentPort!.on('close', () => rmSync(home, { recursive: true, force: true }));
}

async function runMain(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const seed = Number(process.argv[3] ?? 12);
  const watchdogMs = Number(process.env.OCNE_FUZZ_WATCHDOG_MS ?? 5_000);
  const results: Result[] = [];
  let next = 0;
  const started = performance.now();

  while (next < count) {
    // One worker until it finishes the run, hangs or dies; then a new one from the next input.
    await new Promise<void>((done) => {
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { seed },
        resourceLimits: { maxOldGenerationSizeMb: 1024 },
      });
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        void worker.terminate().then(() => done());
      };
      const send = () => {
        if (next >= count) return finish();
        const index = next;
        worker.postMessage(index);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const { kind, bytes } = input(seed, index);
          results.push({
            index,
            kind,
            size: bytes.length,
            outcome: 'stopped',
            ms: watchdogMs,
            detail: 'watchdog',
          });
          next = index + 1;
          finish();
        }, watchdogMs);
      };
      worker.on('message', (r: Result) => {
        results.push(r);
        next = r.index + 1;
        if (results.length % 500 === 0) process.stderr.write(`${results.length}/${count}\n`);
        send();
      });
      worker.on('error', (error) => {
        const index = next;
        const { kind, bytes } = input(seed, index);
        results.push({
          index,
          kind,
          size: bytes.length,
          outcome: 'crashed',
          ms: 0,
          detail: String(error.message).slice(0, 200),
        });
        next = index + 1;
        finish();
      });
      worker.on('online', send);
    });
  }

  const by = (o: Result['outcome']) => results.filter((r) => r.outcome === o).length;
  const slow = results.filter((r) => r.ms > 1000);
  console.log(
    `${results.length} inputs (seed ${seed}) in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(`  loaded:                ${by('loaded')}`);
  console.log(`  typed errors:          ${by('typed')}`);
  console.log(`  untyped exceptions:    ${by('untyped')}`);
  console.log(`  worker crashed (heap): ${by('crashed')}`);
  console.log(`  stopped after ${watchdogMs} ms: ${by('stopped')}`);
  console.log(`  over 1 s (stopped included): ${slow.length}`);
  const kinds = new Map<string, { n: number; bad: number; slow: number }>();
  for (const r of results) {
    const k = kinds.get(r.kind) ?? { n: 0, bad: 0, slow: 0 };
    k.n++;
    if (r.outcome === 'untyped' || r.outcome === 'crashed') k.bad++;
    if (r.ms > 1000) k.slow++;
    kinds.set(r.kind, k);
  }
  console.log('  by kind (inputs / untyped or crashed / over 1 s):');
  for (const [kind, k] of [...kinds].sort()) console.log(`    ${kind}: ${k.n} / ${k.bad} / ${k.slow}`);
  const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log('  slowest:');
  for (const r of slowest)
    console.log(`    #${r.index} ${r.kind}, ${r.size} bytes: ${r.ms.toFixed(0)} ms ${r.outcome} ${r.detail}`);
  const untyped = new Map<string, number>();
  for (const r of results)
    if (r.outcome === 'untyped' || r.outcome === 'crashed') untyped.set(r.detail, r.index);
  if (untyped.size > 0) console.log('  untyped errors (a sample, with one input index each):');
  for (const [detail, index] of [...untyped].slice(0, 10)) console.log(`    #${index}: ${detail}`);
}

if (isMainThread) await runMain();
else await runWorker();
