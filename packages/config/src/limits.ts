/**
 * The limits of the configuration reader, in one place. A configuration is a few KiB of shallow
 * YAML; each limit is far above what a real one needs and low enough that a hostile or broken
 * file (a merge-key bomb, `/dev/urandom`, a key of a million characters) ends in a located
 * `OCNE_CONFIG_LIMIT` error or a short message within a second, instead of a hang, a crash or
 * megabytes of output. Upstream's Go CLI has none of these limits (yaml.v3 has its own alias
 * budget); the numbers are documented in the catalogue entry of `OCNE_CONFIG_LIMIT`.
 */

/** The limits the configuration reader applies. */
export interface ConfigLimits {
  /**
   * Largest configuration file (cluster or defaults file, or the text given as `config`), in
   * bytes: 1 MiB. Larger resources belong in `clusterDefinition` files, which are not limited.
   */
  readonly maxConfigBytes: number;
  /** Largest cluster cache (`~/.ocne/clusters.yaml`), in bytes: 8 MiB, about 2,000 clusters. */
  readonly maxCacheBytes: number;
  /** Deepest nesting of mappings and lists, counted in the text and through aliases and merge keys: 100. */
  readonly maxDepth: number;
  /** Most values read through aliases and merge keys in one file: 10,000. */
  readonly maxExpandedValues: number;
  /** Most problems of each severity listed for one file; the rest are counted in a last one: 50. */
  readonly maxIssues: number;
  /** Most characters of a value, key or path repeated in a message: 80. */
  readonly maxEcho: number;
  /** Longest unknown key for which a "did you mean" hint is looked for: 64 characters. */
  readonly maxSuggestedKey: number;
}

/** The limits the configuration reader applies (see {@link ConfigLimits}). */
export const CONFIG_LIMITS: ConfigLimits = Object.freeze({
  maxConfigBytes: 1024 * 1024,
  maxCacheBytes: 8 * 1024 * 1024,
  maxDepth: 100,
  maxExpandedValues: 10_000,
  maxIssues: 50,
  maxEcho: 80,
  maxSuggestedKey: 64,
});

/**
 * A value as it may appear in a message: whole when short, else its start and its length, so a
 * megabyte `name` is not printed back. Never splits a surrogate pair.
 */
export function clip(text: string, max: number = CONFIG_LIMITS.maxEcho): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length} characters)`;
}

/** A size in bytes for messages: `1 MiB`, `8 MiB`, `512 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
