// A small benchmark harness for `pnpm bench`: each case runs for a fixed time after a warm-up,
// and a group prints mean, median and p99 per operation plus the ratio to the group's first case,
// all measured in the same run. No absolute time is ever asserted.
import { appendFileSync } from 'node:fs';

/** One benchmark case. */
export interface BenchCase {
  name: string;
  fn: () => unknown;
}

/** Measured figures of one case, in milliseconds. */
export interface BenchResult {
  name: string;
  runs: number;
  meanMs: number;
  medianMs: number;
  p99Ms: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up and returns its timings. */
export async function measure(c: BenchCase, ms = 1000): Promise<BenchResult> {
  const warmEnd = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmEnd) await c.fn();
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end || times.length < 5) {
    const t0 = performance.now();
    await c.fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    name: c.name,
    runs: times.length,
    meanMs: mean,
    medianMs: times[Math.floor(times.length / 2)]!,
    p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
  };
}

const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);

/** Measures every case of a group in turn and prints a table with ratios to the first case. */
export async function group(title: string, cases: BenchCase[], ms?: number): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of cases) results.push(await measure(c, ms));
  const base = results[0]!.meanMs;
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`\n${title}`);
  console.log(
    `  ${'case'.padEnd(width)}  ${'mean'.padStart(10)}  ${'median'.padStart(10)}  ${'p99'.padStart(10)}  ${'runs'.padStart(7)}  ratio`,
  );
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(width)}  ${fmt(r.meanMs).padStart(10)}  ${fmt(r.medianMs).padStart(10)}  ${fmt(r.p99Ms).padStart(10)}  ${String(r.runs).padStart(7)}  ${(r.meanMs / base).toFixed(2)}x`,
    );
  }
  return results;
}

/**
 * One row of the table `pnpm bench` prints at its end (issue 13's table): what was measured, our
 * side, the peer's side, the ratio and the goal, as the bench that measured them says them.
 */
export interface TableRow {
  what: string;
  ours: string;
  peer: string;
  ratio: string;
  goal: string;
}

/**
 * Hands a row to `scripts/bench.ts` (through the file in `OCNE_BENCH_ROWS`, one JSON line a row),
 * which prints every row of the run together at the end. Outside `pnpm bench` it does nothing.
 */
export function tableRow(row: TableRow): void {
  const file = process.env.OCNE_BENCH_ROWS;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
