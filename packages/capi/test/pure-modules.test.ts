// `@ocne/capi/templates` and `@ocne/ignition` are pure: no module they are made of reads files.
// The import graph is walked from the sources (static and dynamic imports, re-exports, built-ins
// taken with process.getBuiltinModule), following
// relative imports and workspace packages; `@ocne/config` and `@ocne/core` are where the walk stops,
// as they hold the edges on purpose (`load.ts`, `files.ts`; atomic writes and the lock).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const FILE_SYSTEM = new Set(['node:fs', 'node:fs/promises', 'fs', 'fs/promises']);
/**
 * Workspace packages the walk does not enter: the configuration package (its file reader is the one
 * edge on purpose) and the core (its atomic writes and PID lock serve the facade; the pure modules
 * import only `OcneError` and event types from it).
 */
const EDGE_PACKAGES = new Set(['@ocne/config', '@ocne/core']);

/** The source file of a workspace package entry (`@ocne/capi/templates`), from its `@ocne/source` export. */
function workspaceEntry(specifier: string): string | undefined {
  const match = /^@ocne\/([^/]+)(\/.+)?$/.exec(specifier);
  if (match === null) return undefined;
  const dir = join(root, 'packages', match[1]!);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports: Record<string, { '@ocne/source'?: string }>;
  };
  const source = manifest.exports[`.${match[2] ?? ''}`]?.['@ocne/source'];
  return source === undefined ? undefined : join(dir, source);
}

/** Every module reachable from `entries`, with what each imports. */
function importGraph(entries: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (graph.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    // Built-ins read when used (`process.getBuiltinModule('node:fs')`) are imports too.
    const builtins = [...text.matchAll(/getBuiltinModule\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
      (m) => m[1] as string,
    );
    const specifiers = [...importedFiles.map((f) => f.fileName), ...builtins];
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) queue.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!EDGE_PACKAGES.has(specifier)) {
        const entry = workspaceEntry(specifier);
        if (entry !== undefined) queue.push(entry);
      }
    }
  }
  return graph;
}

/** `module → file-system import` for every module of the graph that reads files. */
function fileSystemImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, specifiers]) =>
    specifiers.filter((s) => FILE_SYSTEM.has(s)).map((s) => `${relative(root, file)} → ${s}`),
  );
}

const ignitionSources = readdirSync(join(root, 'packages/ignition/src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(root, 'packages/ignition/src', f));

describe('pure modules', () => {
  const graph = importGraph([join(root, 'packages/capi/src/templates.ts'), ...ignitionSources]);

  it('walks the templates entry, its modules and @ocne/ignition', () => {
    const files = [...graph.keys()].map((f) => relative(root, f));
    for (const expected of [
      'packages/capi/src/template.ts',
      'packages/capi/src/resources.ts',
      'packages/capi/src/network.ts',
      'packages/ignition/src/index.ts',
      'packages/ignition/src/extra.ts',
    ]) {
      expect(files).toContain(expected);
    }
    // The main entry of @ocne/capi (Kubernetes access) is not part of it.
    expect(files).not.toContain('packages/capi/src/index.ts');
  });

  it('no module of @ocne/capi/templates or @ocne/ignition imports node:fs', () => {
    expect(fileSystemImports(graph)).toEqual([]);
  });

  it('the check sees file-system imports where they are (the configuration edge)', () => {
    expect(fileSystemImports(importGraph([join(root, 'packages/config/src/files.ts')]))).toEqual([
      'packages/config/src/files.ts → node:fs',
      'packages/config/src/files.ts → node:fs/promises',
    ]);
  });
});
