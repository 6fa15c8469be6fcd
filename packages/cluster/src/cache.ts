/**
 * The cluster cache, `~/.ocne/clusters.yaml`, in upstream's format (`pkg/cluster/cache`), so that
 * the Go `ocne` CLI and this SDK see the same clusters.
 *
 * Upstream writes it with yaml.v3 (4-space indentation, every field of its `ClusterConfig`
 * struct, including the plain-bool companions of the tri-state booleans under their dummy keys
 * such as `headlessfake`) and guards it with the PID lock file `~/.ocne/ocne.pid`. This module
 * reads that format tolerantly, writes it atomically, and holds the lock for the whole
 * read-modify-write (upstream locks the read and the write separately, so two CLIs can lose an
 * update).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CONFIG_LIMITS,
  ConfigError,
  type ConfigIssue,
  decodeConfigBytes,
  decodeUpstreamClusterConfigNode,
  encodeUpstreamClusterConfig,
  formatIssue,
  type ParsedYamlDocument,
  parseYamlDocument,
  type ResolvedClusterConfig,
} from '@ocne/config';
import {
  acquirePidLock,
  formatPidLockHolder,
  isOcneError,
  memoized,
  OcneError,
  type PidLock,
  type PidLockHolder,
  pidLockHolder,
  type ReadRegularFileResult,
  readRegularFile,
  writeFileAtomic,
} from '@ocne/core';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  parse as parseYaml,
  Scalar,
  visit,
  YAMLMap,
  type Node as YamlNode,
} from 'yaml';

/** A cluster in the cache. */
export interface CachedCluster {
  /** The cache key: the cluster's name. */
  name: string;
  /** The cluster's configuration as it was when the cluster was started. */
  config: ResolvedClusterConfig;
  /** Path of the cluster's kubeconfig. */
  kubeconfig: string;
}

/** Options of {@link ClusterCache}. */
export interface ClusterCacheOptions {
  /** The home folder that holds `.ocne/`. */
  home: string;
  /** Aborts every operation of this cache (combined with each call's own signal). */
  signal?: AbortSignal | undefined;
  /** How long an operation waits for the lock another process holds. @defaultValue `10000` (upstream's 10 s) */
  lockTimeoutMs?: number;
}

/** Options of each {@link ClusterCache} operation. */
export interface ClusterCacheCallOptions {
  signal?: AbortSignal | undefined;
  /** Called once when another live process holds the cache lock and the wait for it begins. */
  onLockWait?: ((holder: PidLockHolder) => void) | undefined;
}

/**
 * A claim on one cluster name, from {@link ClusterCache.claim}: while it is held, no other claim
 * of that name can be taken, in this process or another. The `Cluster` facade claims a name to
 * start a new cluster or to delete one, so that only one process makes its PKI and writes its
 * kubeconfig, and a delete never removes the kubeconfig of a start that is about to record it.
 */
export interface ClusterClaim {
  /** The claimed name. */
  readonly name: string;
  /** The cluster's cache entry when the claim was taken; `undefined` when there was none. */
  readonly cached: CachedCluster | undefined;
  /** Adds the cluster, as {@link ClusterCache.add} does, and gives the claim up in the same locked step. */
  add(cluster: NewCachedCluster, options?: ClusterCacheCallOptions): Promise<void>;
  /** Removes the cluster's entry, as {@link ClusterCache.delete} does, and gives the claim up in the same locked step. */
  delete(options?: ClusterCacheCallOptions): Promise<boolean>;
  /** Gives the claim up. Idempotent. */
  release(): Promise<void>;
  /** {@link ClusterClaim.release}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What {@link ClusterCache.add} stores. */
export interface NewCachedCluster {
  /** The configuration; its `name` is the cache key. */
  config: ResolvedClusterConfig;
  /** Path of the cluster's kubeconfig. */
  kubeconfig: string;
}

/** File name of the cache inside `~/.ocne` (upstream's `ClusterCacheFilename`). */
export const CLUSTER_CACHE_FILE = 'clusters.yaml';
/** File name of the lock inside `~/.ocne` (upstream's `pidlock.PidFile`). */
export const PID_LOCK_FILE = 'ocne.pid';

/**
 * File name of the claim on a cluster name inside `~/.ocne`: a PID lock file of its own, which
 * upstream neither writes nor reads. Never `ocne.pid`, whatever the name (the default cluster is
 * named `ocne`).
 */
const claimFileName = (name: string): string => `cluster-${encodeURIComponent(name)}.pid`;

/** yaml.v3's layout: 4-space indentation, no folding of long strings. */
const TO_STRING_OPTIONS = { indent: 4, indentSeq: true, lineWidth: 0, minContentWidth: 0 } as const;

// ---------------------------------------------------------------------------------------------
// Writing: a resolved config as upstream's struct would marshal it.

/** The cache entry of a cluster, in upstream's layout. */
function encodeEntry(cluster: NewCachedCluster): Record<string, unknown> {
  return { config: encodeUpstreamClusterConfig(cluster.config), kubeconfig: cluster.kubeconfig };
}

/**
 * Quotes strings that a YAML 1.1 reader (yaml.v3 for `interface{}` values, many other tools)
 * would take for something else (`yes`, `on`, `1_000`, `2024-01-01`), as yaml.v3 itself does.
 * Multi-line strings are written as block scalars, which no reader misreads.
 */
function quoteAmbiguous(node: YamlNode): void {
  visit(node, {
    Scalar(_, scalar) {
      if (typeof scalar.value !== 'string' || scalar.value.includes('\n')) return;
      let read: unknown;
      try {
        read = parseYaml(scalar.value, { version: '1.1', logLevel: 'silent' });
      } catch {
        read = undefined;
      }
      if (read !== scalar.value) scalar.type = Scalar.QUOTE_DOUBLE;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Reading: tolerant like yaml.v3 (unknown keys ignored), but never a raw exception.

interface ParsedCache {
  /** The document, kept to edit it in place: entries we do not touch stay as they are. */
  doc: Document;
  /** The clusters by name. */
  clusters: Map<string, CachedCluster>;
  /** The `clusters` mapping, when the file has one. */
  map: YAMLMap | undefined;
  /** The name of each item of `map`, by index. */
  names: string[];
}

/** The cache is not valid: an `OcneError` whose cause is a `ConfigError` with the location. */
function invalid(file: string, issue: Omit<ConfigIssue, 'file' | 'severity'>, cause?: unknown): OcneError {
  const located: ConfigIssue = { ...issue, file, severity: 'error' };
  return new OcneError('OCNE_CACHE_INVALID', `The cluster cache is not valid: ${formatIssue(located)}`, {
    cause: cause ?? new ConfigError([located]),
  });
}

/** The text of a scalar as written (a key such as `1.10` is the string `1.10`, as in Go). */
function scalarText(text: string, node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  if (node.range) return text.slice(node.range[0], node.range[1]).trim();
  return String(node.value);
}

/**
 * Each entry's configuration is read again from its own text; an alias makes an entry read the
 * text of another. This is how much text all of them may read together: twice the file (so an
 * alias or two is fine), never the file times the number of aliases.
 */
const snippetBudget = (text: string): number => 2 * text.length + 4096;

function readEntryConfig(
  parsed: ParsedYamlDocument,
  file: string,
  name: string,
  entry: YAMLMap,
  budget: { left: number },
): ResolvedClusterConfig {
  const { lines } = parsed;
  const configIn = entry.get('config', true);
  const yamlPath = `clusters.${name}.config`;
  const node = isAlias(configIn) ? parsed.resolveAlias(configIn) : configIn;
  const range = (node as YamlNode | undefined)?.range;
  if (!isMap(node) || !range) {
    const at = ((configIn ?? entry) as YamlNode | undefined)?.range;
    const pos = at ? lines.linePos(at[0]) : undefined;
    const found =
      configIn === undefined
        ? 'no "config"'
        : isScalar(node) && node.value === null
          ? 'null'
          : 'another value';
    throw invalid(file, {
      code: 'OCNE_CONFIG_TYPE',
      path: yamlPath,
      message: `expected the cluster configuration as a mapping, found ${found}`,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
    });
  }
  budget.left -= range[1] - range[0];
  if (budget.left < 0) {
    const { line, col } = lines.linePos(range[0]);
    throw invalid(file, {
      code: 'OCNE_CONFIG_LIMIT',
      path: yamlPath,
      line,
      column: col,
      message: 'aliases make the cluster configurations read far more text than the file holds',
    });
  }
  // Read from the document already parsed, as its own text would read (aliases to anchors
  // outside it unknown): the entry's text is not parsed again.
  try {
    return decodeUpstreamClusterConfigNode(parsed, node, { file, path: yamlPath });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw invalid(file, error.issues[0] as ConfigIssue, error);
  }
}

/** Parses the cache text. Throws `OCNE_CACHE_INVALID` for anything upstream could not read or we could not keep. */
function parseCache(input: string, file: string): ParsedCache {
  let parsed: ParsedYamlDocument;
  try {
    // The configuration reader's parser: its limits, and a table of aliases instead of a search
    // of the document for each one.
    parsed = parseYamlDocument(input, { file, maxBytes: CONFIG_LIMITS.maxCacheBytes });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw invalid(file, error.issues[0] as ConfigIssue, error);
  }
  const { doc, lines, text } = parsed;
  const budget = { left: snippetBudget(text) };
  const clusters = new Map<string, CachedCluster>();
  const names: string[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null))
    return { doc, clusters, map: undefined, names };
  const where = (node: unknown): { line?: number; column?: number } => {
    const at = (node as YamlNode | undefined)?.range;
    if (!at) return {};
    const { line, col } = lines.linePos(at[0]);
    return { line, column: col };
  };
  if (!isMap(root)) {
    throw invalid(file, {
      code: 'OCNE_CONFIG_TYPE',
      message: 'expected a mapping with a "clusters" key',
      ...where(root),
    });
  }
  const map = root.get('clusters', true);
  if (map === undefined || (isScalar(map) && map.value === null))
    return { doc, clusters, map: undefined, names };
  if (!isMap(map)) {
    throw invalid(file, {
      code: 'OCNE_CONFIG_TYPE',
      path: 'clusters',
      message: 'expected a mapping of clusters by name',
      ...where(map),
    });
  }
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
      throw invalid(file, {
        code: 'OCNE_CONFIG_TYPE',
        path: 'clusters',
        message: 'expected a cluster name as key',
        ...where(key),
      });
    }
    const name = scalarText(text, key);
    names.push(name);
    const entry = isAlias(pair.value) ? parsed.resolveAlias(pair.value) : pair.value;
    if (!isMap(entry)) {
      throw invalid(file, {
        code: 'OCNE_CONFIG_TYPE',
        path: `clusters.${name}`,
        message: 'expected a mapping with "config" and "kubeconfig"',
        ...where(pair.value ?? key),
      });
    }
    const kubeconfigNode = entry.get('kubeconfig', true);
    let kubeconfig = '';
    if (isScalar(kubeconfigNode)) {
      if (kubeconfigNode.value !== null) kubeconfig = scalarText(text, kubeconfigNode);
    } else if (kubeconfigNode !== undefined) {
      throw invalid(file, {
        code: 'OCNE_CONFIG_TYPE',
        path: `clusters.${name}.kubeconfig`,
        message: 'expected a path',
        ...where(kubeconfigNode),
      });
    }
    const config = readEntryConfig(parsed, file, name, entry, budget);
    clusters.set(name, { name, config, kubeconfig });
  }
  return { doc, clusters, map, names };
}

/** The cache key of a cluster to add, checked. */
function nameOf(cluster: NewCachedCluster): string {
  const name = cluster.config.name;
  if (typeof name !== 'string' || name === '') {
    throw new OcneError('OCNE_CLUSTER_NAME_REQUIRED', 'A cluster needs a name to be cached');
  }
  if (typeof cluster.kubeconfig !== 'string') {
    throw new OcneError(
      'OCNE_CACHE_INVALID_INPUT',
      'The kubeconfig path of a cached cluster must be a string',
    );
  }
  return name;
}

const byName = (a: CachedCluster, b: CachedCluster): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

// ---------------------------------------------------------------------------------------------

/**
 * The cluster cache of a home folder, `<home>/.ocne/clusters.yaml`, shared with upstream's Go
 * CLI. Every operation holds the PID lock `<home>/.ocne/ocne.pid` from the read to the write,
 * writes atomically with mode 0600, and creates `<home>/.ocne` with 0700. A missing file is an
 * empty cache. A malformed file is never overwritten: every operation fails with
 * `OCNE_CACHE_INVALID`, naming the file and line, until someone repairs or removes it.
 *
 * @example
 * ```ts
 * const cache = new ClusterCache({ home: os.homedir() });
 * for (const c of await cache.list()) console.log(c.name, c.config.provider, c.kubeconfig);
 * ```
 */
export class ClusterCache {
  /** `<home>/.ocne/clusters.yaml`. */
  readonly path: string;
  /** `<home>/.ocne/ocne.pid`. */
  readonly lockPath: string;
  readonly #folder: string;
  readonly #signal: AbortSignal | undefined;
  readonly #lockTimeoutMs: number;

  constructor(options: ClusterCacheOptions) {
    this.#folder = join(resolve(options.home), '.ocne');
    this.path = join(this.#folder, CLUSTER_CACHE_FILE);
    this.lockPath = join(this.#folder, PID_LOCK_FILE);
    this.#signal = options.signal;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /** Every cached cluster, sorted by name. */
  async list(options: ClusterCacheCallOptions = {}): Promise<CachedCluster[]> {
    const parsed = await this.#readOnly(options);
    return [...(parsed?.clusters.values() ?? [])].sort(byName);
  }

  /** The cached cluster of that name, or `undefined`. */
  async get(name: string, options: ClusterCacheCallOptions = {}): Promise<CachedCluster | undefined> {
    const parsed = await this.#readOnly(options);
    return parsed?.clusters.get(name);
  }

  /**
   * Adds a cluster under `config.name`.
   *
   * @throws `OcneError` `OCNE_CLUSTER_EXISTS` (`A cluster named <name> already exists`);
   *   `OCNE_CACHE_INVALID` when the file is malformed (it is left as it is);
   *   `OCNE_LOCK_TIMEOUT`; `OCNE_FILE_WRITE_FAILED`.
   */
  async add(cluster: NewCachedCluster, options: ClusterCacheCallOptions = {}): Promise<void> {
    const name = nameOf(cluster);
    const signal = this.#combine(options.signal);
    await this.#locked(signal, options.onLockWait, () => this.#addEntry(name, cluster, signal));
  }

  /** The body of {@link ClusterCache.add}, under the lock. */
  async #addEntry(name: string, cluster: NewCachedCluster, signal: AbortSignal | undefined): Promise<void> {
    const parsed = await this.#read(signal);
    if (parsed.clusters.has(name)) {
      throw new OcneError('OCNE_CLUSTER_EXISTS', `A cluster named ${name} already exists`);
    }
    const { doc } = parsed;
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as YAMLMap as typeof doc.contents;
    const root = doc.contents as unknown as YAMLMap;
    let map = parsed.map;
    if (map === undefined) {
      map = new YAMLMap();
      root.set('clusters', map);
    }
    const key = doc.createNode(name);
    const value = doc.createNode(encodeEntry(cluster), { aliasDuplicateObjects: false });
    quoteAmbiguous(key);
    quoteAmbiguous(value);
    map.add(doc.createPair(key, value));
    // yaml.v3 writes Go maps sorted by key.
    const names = new Map(
      map.items.map((pair, i) => [pair, i === map.items.length - 1 ? name : parsed.names[i]]),
    );
    map.items.sort((a, b) => {
      const x = names.get(a) ?? '';
      const y = names.get(b) ?? '';
      return x < y ? -1 : x > y ? 1 : 0;
    });
    await this.#write(doc, signal);
  }

  /**
   * Removes a cluster. Returns false (and writes nothing) when there is none of that name.
   *
   * @throws `OcneError` `OCNE_CACHE_INVALID` when the file is malformed (it is left as it
   *   is); `OCNE_LOCK_TIMEOUT`; `OCNE_FILE_WRITE_FAILED`.
   */
  async delete(name: string, options: ClusterCacheCallOptions = {}): Promise<boolean> {
    const signal = this.#combine(options.signal);
    signal?.throwIfAborted();
    if (!this.#folderExists()) return false;
    return this.#locked(signal, options.onLockWait, () => this.#deleteEntry(name, signal));
  }

  /** The body of {@link ClusterCache.delete}, under the lock. */
  async #deleteEntry(name: string, signal: AbortSignal | undefined): Promise<boolean> {
    const parsed = await this.#read(signal);
    const index = parsed.names.indexOf(name);
    if (index < 0 || parsed.map === undefined) return false;
    parsed.map.items.splice(index, 1);
    await this.#write(parsed.doc, signal);
    return true;
  }

  /** `<home>/.ocne/cluster-<name>.pid`, the claim file of a cluster name. */
  claimPath(name: string): string {
    return join(this.#folder, claimFileName(name));
  }

  /**
   * Claims a cluster name: under the cache lock, reads the cluster's entry and takes the name's
   * claim file, so that what the claimant does next (make a cluster's PKI, write its kubeconfig,
   * delete it) is decided on an entry no other claimant can change meanwhile. A claim whose
   * process is gone (killed) is taken over. Give it up with {@link ClusterClaim.release} (or
   * `await using`), or with the `add`/`delete` that ends the work.
   *
   * @throws `OcneError` `OCNE_CLUSTER_BUSY` naming the process that holds the claim (it does not
   *   wait: that process is starting or deleting the cluster now); `OCNE_CACHE_INVALID`;
   *   `OCNE_LOCK_TIMEOUT`.
   */
  async claim(name: string, options: ClusterCacheCallOptions = {}): Promise<ClusterClaim> {
    const signal = this.#combine(options.signal);
    const path = this.claimPath(name);
    return this.#locked(signal, options.onLockWait, async () => {
      const parsed = await this.#read(signal);
      let lock: PidLock;
      try {
        lock = await acquirePidLock(path, { timeoutMs: 0, signal });
      } catch (error) {
        if (!isOcneError(error) || error.code !== 'OCNE_LOCK_TIMEOUT') throw error;
        const holder = await pidLockHolder(path);
        throw new OcneError(
          'OCNE_CLUSTER_BUSY',
          `the cluster ${name} is being started or deleted by ${holder ? formatPidLockHolder(holder) : 'another process'}: wait for it to finish${holder ? `; if that process is not an ocne command, remove ${path}` : ''}`,
          { cause: error },
        );
      }
      return this.#claimOf(name, parsed.clusters.get(name), lock);
    });
  }

  #claimOf(name: string, cached: CachedCluster | undefined, lock: PidLock): ClusterClaim {
    // The entry is written and the claim given up under one hold of the cache lock: a claimant
    // that comes next sees the entry, never a name that is neither claimed nor recorded.
    const finish = async <T>(
      options: ClusterCacheCallOptions,
      work: (signal?: AbortSignal) => Promise<T>,
    ) => {
      const signal = this.#combine(options.signal);
      return this.#locked(signal, options.onLockWait, async () => {
        const result = await work(signal);
        await lock.release();
        return result;
      });
    };
    return {
      name,
      cached,
      add: async (cluster, options = {}) => {
        if (nameOf(cluster) !== name) {
          throw new OcneError(
            'OCNE_CACHE_INVALID_INPUT',
            `the claim is on the cluster ${name}, not ${cluster.config.name}`,
          );
        }
        return finish(options, (signal) => this.#addEntry(name, cluster, signal));
      },
      delete: (options = {}) => finish(options, (signal) => this.#deleteEntry(name, signal)),
      release: () => lock.release(),
      [Symbol.asyncDispose]: () => lock.release(),
    };
  }

  #combine(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (signal === undefined) return this.#signal;
    if (this.#signal === undefined) return signal;
    return AbortSignal.any([this.#signal, signal]);
  }

  /** A synchronous `stat`: microseconds, where an asynchronous one waits for the thread pool. */
  #folderExists(): boolean {
    try {
      return statSync(this.#folder, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }

  /**
   * Reads under the lock; without a `.ocne` folder there is no cache, and nothing is created.
   * Only the entries: a program that turned on the parse memo (the CLI) gets them without parsing
   * a file it read before.
   */
  async #readOnly(
    options: ClusterCacheCallOptions,
  ): Promise<{ clusters: Map<string, CachedCluster> } | undefined> {
    const signal = this.#combine(options.signal);
    signal?.throwIfAborted();
    if (!this.#folderExists()) return undefined;
    return this.#locked(signal, options.onLockWait, async () => {
      const text = await this.#readText(signal);
      const clusters = memoized(`cluster-cache\0${this.path}`, text, () => this.#parse(text).clusters);
      return { clusters };
    });
  }

  async #locked<T>(
    signal: AbortSignal | undefined,
    onWait: ((holder: PidLockHolder) => void) | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    const lock = await acquirePidLock(this.lockPath, {
      timeoutMs: this.#lockTimeoutMs,
      signal,
      ...(onWait ? { onWait } : {}),
    });
    let result: T;
    try {
      result = await run();
    } catch (error) {
      await lock.release().catch(() => {});
      throw error;
    }
    await lock.release();
    return result;
  }

  async #read(signal: AbortSignal | undefined): Promise<ParsedCache> {
    return this.#parse(await this.#readText(signal));
  }

  /** The cache's text: empty when there is no file. */
  async #readText(signal: AbortSignal | undefined): Promise<string> {
    // A regular file of a bounded size only: a pipe or a device in its place must not hang or
    // fill memory.
    const maxBytes = CONFIG_LIMITS.maxCacheBytes;
    let read: ReadRegularFileResult;
    try {
      read = await readRegularFile(this.path, { maxBytes, signal });
    } catch (error) {
      signal?.throwIfAborted();
      if ((error as { code?: unknown }).code === 'ENOENT') return '';
      throw new OcneError(
        'OCNE_CACHE_READ_FAILED',
        `Could not read the cluster cache ${this.path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (read.kind === 'not-a-file') {
      throw new OcneError(
        'OCNE_CACHE_READ_FAILED',
        `Could not read the cluster cache ${this.path}: it is a ${read.type === 'directory' ? 'folder' : read.type}, not a regular file`,
      );
    }
    if (read.kind === 'too-large') {
      throw invalid(this.path, {
        code: 'OCNE_CONFIG_LIMIT',
        message: `larger than ${maxBytes / (1024 * 1024)} MiB, the most the cluster cache may have`,
      });
    }
    const decoded = decodeConfigBytes(read.bytes, this.path);
    if ('issue' in decoded) throw invalid(this.path, decoded.issue);
    return decoded.text;
  }

  #parse(text: string): ParsedCache {
    try {
      return parseCache(text, this.path);
    } catch (error) {
      if (isOcneError(error)) throw error;
      throw new OcneError(
        'OCNE_CACHE_INVALID',
        `The cluster cache is not valid: ${this.path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async #write(doc: Document, signal: AbortSignal | undefined): Promise<void> {
    const text = doc.toString(TO_STRING_OPTIONS);
    // Never replace a readable file with one we could not read back.
    parseCache(text, this.path);
    await writeFileAtomic(this.path, text, { mode: 0o600, signal });
  }
}
