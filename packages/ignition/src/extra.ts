/**
 * Extra Ignition from the cluster configuration: `extraIgnition` (a file, or a folder of files)
 * and `extraIgnitionInline` (text). Each may be Ignition JSON (spec 3.0.0 to 3.4.0) or Butane
 * YAML (a spec of `BUTANE_SPECS`, such as `variant: fcos`, `version: 1.5.0`). Pure: the files come in as read by `@ocne/config`'s
 * `readConfigFiles`, and Butane `local:` files through the `readLocalFile` it provides.
 */
import { join } from 'node:path';
import {
  type ConfigFileKey,
  type ConfigFileSettings,
  type ConfigFiles,
  configFileContents,
  type ExtraIgnitionFiles,
  type InlineTextOrigin,
  type ResolvedClusterConfig,
} from '@ocne/config';
import { isButane, translateButane } from './butane.js';
import { IgnitionError } from './errors.js';
import { mergeIgnition } from './merge.js';
import { ignitionFromValue, parseLocated } from './parse.js';
import type { IgnitionConfig } from './spec.js';

/** Options of {@link parseExtraIgnition}. */
export interface ParseExtraOptions {
  /** File path or label, for errors. */
  source: string;
  /** Folder that Butane `local:` contents are read from; without it `local:` is an error. */
  filesDir?: string;
  /** Reads a `local:` file by absolute path (`ConfigFiles.readLocalFile`). */
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
        'OCNE_IGNITION_CONFLICT',
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

/** The label of `extraIgnitionInline` text whose place in the configuration is not known. */
const INLINE = '<extraIgnitionInline>';

/**
 * An error inside `extraIgnitionInline`, moved to where the text stands in the configuration: the
 * file's line and column when the text's lines stand there one to one (a literal block), else the
 * setting's own position with the text's line and column in the message.
 */
function inConfiguration(error: IgnitionError, origin: InlineTextOrigin): IgnitionError {
  const at = error.line !== undefined ? origin.lines?.[error.line - 1] : undefined;
  const path = error.path !== undefined ? { path: error.path } : {};
  if (at !== undefined) {
    return new IgnitionError(
      error.code,
      `${error.detail} (in ${origin.path})`,
      { source: origin.source, line: at.line, column: at.column + (error.column ?? 1) - 1, ...path },
      { cause: error },
    );
  }
  const inText =
    error.line !== undefined ? `, line ${error.line}, column ${error.column ?? 1} of the text` : '';
  return new IgnitionError(
    error.code,
    `${error.detail} (in ${origin.path}${inText})`,
    {
      source: origin.source,
      ...(origin.line !== undefined ? { line: origin.line, column: origin.column ?? 1 } : {}),
      ...path,
    },
    { cause: error },
  );
}

/** Input of {@link mergeExtraIgnition}. */
export interface ExtraIgnitionInput {
  /** `extraIgnition`, as `readConfigFiles` read it. */
  files?: ExtraIgnitionFiles;
  /** `extraIgnitionInline`. */
  inline?: string;
  /**
   * Where `inline` stands in the configuration (`ConfigFiles.extraIgnitionInline`): a problem
   * inside it is then reported at the configuration file's line and column, not the text's own.
   */
  inlineOrigin?: InlineTextOrigin;
  /** The configuration's `directory`: Butane `local:` paths of the inline text resolve against it. */
  directory?: string;
  /** Reads Butane `local:` files by absolute path (`ConfigFiles.readLocalFile`). */
  readLocalFile?: (absolutePath: string) => Uint8Array;
}

/**
 * Parses and merges `extraIgnition` (its file, or every Ignition or Butane file of its folder in
 * name order) and then `extraIgnitionInline`, in that order. Returns `undefined` when neither is set.
 */
export function mergeExtraIgnition(input: ExtraIgnitionInput): IgnitionConfig | undefined {
  const readFile = input.readLocalFile ? { readFile: input.readLocalFile } : {};
  const parts: ExtraSource[] = [];
  if (input.files !== undefined) {
    const { path, folder, files } = input.files;
    const merged = mergeSiblings(
      files.map((file) => ({
        source: file.path,
        config: parseExtraIgnition(file.text, {
          source: file.path,
          filesDir: folder ? path : join(file.path, '..'),
          ...readFile,
        }),
      })),
    );
    if (merged !== undefined) parts.push({ source: path, config: merged });
  }
  if (input.inline !== undefined && input.inline !== '') {
    const filesDir = input.directory;
    const options = { source: INLINE, ...(filesDir !== undefined ? { filesDir } : {}), ...readFile };
    let config: IgnitionConfig;
    try {
      config = parseExtraIgnition(input.inline, options);
    } catch (error) {
      if (error instanceof IgnitionError && error.source === INLINE && input.inlineOrigin !== undefined) {
        throw inConfiguration(error, input.inlineOrigin);
      }
      throw error;
    }
    parts.push({ source: INLINE, config });
  }
  return parts.reduce<IgnitionConfig | undefined>(
    (acc, p) => (acc === undefined ? p.config : mergeIgnition(acc, p.config)),
    undefined,
  );
}

/**
 * The configuration files a node's Ignition uses ({@link configFileInputs}): what to read, with
 * `readConfigFiles`'s `keys`, for an operation that makes node Ignition and nothing else.
 */
export const NODE_FILE_KEYS: readonly ConfigFileKey[] = ['sshPublicKeyPath', 'extraIgnition'];

/** What a node's Ignition takes from the files a configuration names (see {@link configFileInputs}). */
export interface ConfigFileInputs {
  /** The key text of `sshPublicKeyPath`, when `sshPublicKey` is empty and a path is set. */
  sshPublicKey?: string;
  /** The merged extra Ignition (`extraIgnition`, then `extraIgnitionInline`), when either is set. */
  extra?: IgnitionConfig[];
}

/**
 * The node inputs that come from files (`sshPublicKeyPath`, `extraIgnition`) and extra Ignition
 * text, for `clusterNodeInput` and `capiNodeInput`. Throws `OCNE_CONFIG_FILE_NOT_READ` when the
 * configuration names a file that `files` does not hold, and the errors of {@link mergeExtraIgnition}.
 */
export function configFileInputs(
  cluster: ConfigFileSettings & Pick<ResolvedClusterConfig, 'extraIgnitionInline'>,
  files: ConfigFiles | undefined,
): ConfigFileInputs {
  const extraFiles = configFileContents(cluster, files, 'extraIgnition');
  const extra = mergeExtraIgnition({
    ...(extraFiles ? { files: extraFiles } : {}),
    inline: cluster.extraIgnitionInline,
    ...(files?.extraIgnitionInline ? { inlineOrigin: files.extraIgnitionInline } : {}),
    directory: cluster.directory,
    ...(files?.readLocalFile ? { readLocalFile: files.readLocalFile } : {}),
  });
  const key = configFileContents(cluster, files, 'sshPublicKeyPath')?.text;
  return { ...(key ? { sshPublicKey: key } : {}), ...(extra ? { extra: [extra] } : {}) };
}
