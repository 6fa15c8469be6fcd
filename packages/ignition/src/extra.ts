/**
 * Extra Ignition from the cluster configuration: `extraIgnition` (a file, or a folder of files)
 * and `extraIgnitionInline` (text). Each may be Ignition JSON (spec 3.0.0 to 3.4.0) or Butane
 * YAML (`variant: fcos`, `version: 1.5.0`). The parsing is pure; {@link loadExtraIgnition} is the
 * file-system edge.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { isButane, translateButane } from './butane.js';
import { IgnitionError, IgnitionErrorCode } from './errors.js';
import { mergeIgnition } from './merge.js';
import { ignitionFromValue, parseLocated } from './parse.js';
import type { IgnitionConfig } from './spec.js';

/** Options of {@link parseExtraIgnition}. */
export interface ParseExtraOptions {
  /** File path or label, for errors. */
  source: string;
  /** Folder that Butane `local:` contents are read from; without it `local:` is an error. */
  filesDir?: string;
  /** Reads a `local:` file; the edge passes `fs.readFileSync`. */
  readFile?: (path: string) => Uint8Array;
}

/** Reads extra Ignition text: Butane when it has a `variant`, Ignition JSON otherwise. */
export function parseExtraIgnition(text: string, options: ParseExtraOptions): IgnitionConfig {
  const { value, located } = parseLocated(text, options.source);
  if (isButane(value)) {
    return translateButane(text, {
      source: options.source,
      ...(options.filesDir !== undefined ? { filesDir: options.filesDir } : {}),
      ...(options.readFile !== undefined ? { readFile: options.readFile } : {}),
    });
  }
  return ignitionFromValue(value, located);
}

/** File name endings read from an `extraIgnition` folder; other files (a README, say) are skipped. */
export const EXTRA_IGNITION_EXTENSIONS: readonly string[] = [
  '.ign',
  '.json',
  '.bu',
  '.yaml',
  '.yml',
  '.butane',
];

/** One parsed extra config and where it came from. */
export interface ExtraSource {
  source: string;
  config: IgnitionConfig;
}

/**
 * Merges extra configs in order. Sibling configs from one folder must not disagree: two that set
 * the same path, unit contents or drop-in differently are an {@link IgnitionError}
 * (`OCNE_IGNITION_CONFLICT`), since which one wins would depend on file names.
 */
export function mergeSiblings(sources: readonly ExtraSource[]): IgnitionConfig | undefined {
  const owners = new Map<string, { source: string; value: string }>();
  const claim = (key: string, value: unknown, source: string) => {
    const json = JSON.stringify(value);
    const before = owners.get(key);
    if (before !== undefined && before.value !== json) {
      throw new IgnitionError(
        IgnitionErrorCode.Conflict,
        `${key} is set differently by ${before.source} and ${source}: keep it in one file`,
        { source },
      );
    }
    owners.set(key, { source, value: json });
  };
  let merged: IgnitionConfig | undefined;
  for (const { source, config } of sources) {
    for (const list of ['files', 'directories', 'links'] as const) {
      for (const node of config.storage?.[list] ?? []) claim(`path ${node.path}`, { list, node }, source);
    }
    for (const unit of config.systemd?.units ?? []) {
      if (unit.contents !== undefined) claim(`unit ${unit.name}`, unit.contents, source);
      for (const d of unit.dropins ?? []) claim(`drop-in ${unit.name}/${d.name}`, d.contents, source);
    }
    merged = merged === undefined ? config : mergeIgnition(merged, config);
  }
  return merged;
}

/** Options of {@link loadExtraIgnition}. */
export interface LoadExtraOptions {
  /** `extraIgnition`: a file or folder; relative paths resolve against `directory`. */
  path?: string;
  /** `extraIgnitionInline`. */
  inline?: string;
  /** The cluster configuration's `directory`. */
  directory?: string;
  signal?: AbortSignal;
}

async function read(path: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (error) {
    if ((error as { name?: string }).name === 'AbortError') throw error;
    throw new IgnitionError(
      IgnitionErrorCode.ReadFailed,
      `cannot read extra Ignition: ${(error as Error).message}`,
      { source: path },
      { cause: error },
    );
  }
}

/**
 * Reads `extraIgnition` (file or folder: every Ignition or Butane file in it, by name) and then
 * `extraIgnitionInline`, and merges them in that order. Returns `undefined` when neither is set.
 */
export async function loadExtraIgnition(options: LoadExtraOptions): Promise<IgnitionConfig | undefined> {
  const { signal } = options;
  const parts: ExtraSource[] = [];
  if (options.path !== undefined && options.path !== '') {
    const path = isAbsolute(options.path)
      ? options.path
      : join(options.directory ?? process.cwd(), options.path);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new IgnitionError(
        IgnitionErrorCode.ReadFailed,
        `cannot read extra Ignition: ${(error as Error).message}`,
        { source: path },
        { cause: error },
      );
    }
    const files = info.isDirectory()
      ? (await readdir(path))
          .filter((f) => EXTRA_IGNITION_EXTENSIONS.includes(extname(f).toLowerCase()))
          .sort()
          .map((f) => join(path, f))
      : [path];
    const siblings: ExtraSource[] = [];
    for (const file of files) {
      signal?.throwIfAborted();
      const text = await read(file, signal);
      const filesDir = info.isDirectory() ? path : join(file, '..');
      siblings.push({
        source: file,
        config: parseExtraIgnition(text, { source: file, filesDir, readFile: readFileSync }),
      });
    }
    const merged = mergeSiblings(siblings);
    if (merged !== undefined) parts.push({ source: path, config: merged });
  }
  if (options.inline !== undefined && options.inline !== '') {
    const filesDir = options.directory;
    parts.push({
      source: '<extraIgnitionInline>',
      config: parseExtraIgnition(options.inline, {
        source: '<extraIgnitionInline>',
        ...(filesDir !== undefined ? { filesDir } : {}),
        readFile: readFileSync,
      }),
    });
  }
  return parts.reduce<IgnitionConfig | undefined>(
    (acc, p) => (acc === undefined ? p.config : mergeIgnition(acc, p.config)),
    undefined,
  );
}
