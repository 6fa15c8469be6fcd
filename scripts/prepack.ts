// The `prepack` of every published package (each package's manifest runs it from the package's folder,
// so `pnpm pack` and `pnpm publish` run it there): refuses to pack a package whose build is missing or older
// than its sources, or that lacks its license, README or changelog. It never builds: what is packed
// is what the checks tested (`pnpm build` comes first, in `scripts/check.ts` and `pnpm release`).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file path a manifest's entry points name (`main`, `types`, `bin`, `exports`, published or not). */
function entryFiles(manifest: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('./') || value.startsWith('dist/')) found.add(value.replace(/^\.\//, ''));
    } else if (typeof value === 'object' && value !== null) {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  const publishConfig = manifest.publishConfig as Record<string, unknown> | undefined;
  for (const value of [manifest.main, manifest.types, manifest.bin, publishConfig?.exports]) walk(value);
  const exports = manifest.exports;
  // The workspace's own exports also point at the TypeScript sources (`@ocne/source`): not packed.
  if (typeof exports === 'object' && exports !== null) {
    for (const entry of Object.values(exports)) {
      if (typeof entry !== 'object' || entry === null) walk(entry);
      else
        for (const [condition, target] of Object.entries(entry))
          if (condition !== '@ocne/source') walk(target);
    }
  }
  return [...found].sort();
}

/** The newest modification time of the files under a folder (0 when it does not exist). */
function newest(folder: string): { time: number; file: string } {
  let best = { time: 0, file: '' };
  if (!existsSync(folder)) return best;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const time = statSync(file).mtimeMs;
    if (time > best.time) best = { time, file };
  }
  return best;
}

const dir = process.cwd();
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
const name = String(manifest.name);
const problems: string[] = [];
const entries = entryFiles(manifest).filter((file) => !file.endsWith('package.json'));
const missing = entries.filter((file) => !existsSync(join(dir, file)));
if (missing.length > 0) problems.push(`not built: ${missing.join(', ')} missing (run \`pnpm build\` first)`);
else {
  const source = newest(join(dir, 'src'));
  const built = entries.filter((file) => file.startsWith('dist/'));
  const stale = built.filter((file) => statSync(join(dir, file)).mtimeMs < source.time);
  if (stale.length > 0)
    problems.push(`the build is older than ${source.file.slice(dir.length + 1)} (run \`pnpm build\` again)`);
}
for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md'])
  if (!existsSync(join(dir, file))) problems.push(`${file} is missing`);
if (problems.length > 0) {
  process.stderr.write(`prepack ${name}: refusing to pack:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
