/**
 * The SDK's one error type. Every package throws {@link OcneError} (or a subclass) with a
 * string {@link OcneErrorCode}; errors from dependencies are wrapped, with `cause` set.
 */

const brand: unique symbol = Symbol.for('@ocne/error');

/** Codes of the errors this package raises. Later packages add their own codes. */
export const ConfigErrorCode = {
  /** A file could not be read. */
  ReadFailed: 'OCNE_CONFIG_READ_FAILED',
  /** The YAML is not well formed. */
  Syntax: 'OCNE_CONFIG_SYNTAX',
  /** A value has the wrong type (a list where a string was expected, ...). */
  Type: 'OCNE_CONFIG_TYPE',
  /** A key the format does not have (an error in the defaults file, a warning in the cluster file). */
  UnknownKey: 'OCNE_CONFIG_UNKNOWN_KEY',
  /** A value has the right type but is not acceptable (bad CIDR, bad OCID, bad size, ...). */
  InvalidValue: 'OCNE_CONFIG_INVALID_VALUE',
  /** Two settings that exclude each other are both set. */
  Conflict: 'OCNE_CONFIG_CONFLICT',
  /** A setting the chosen provider needs is missing. */
  Missing: 'OCNE_CONFIG_MISSING',
  /** The Kubernetes version is not one this release supports. */
  UnsupportedVersion: 'OCNE_CONFIG_UNSUPPORTED_VERSION',
} as const;

/** A config error code. */
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/** Any SDK error code: those of this package, and the `OCNE_*` codes other packages define. */
export type OcneErrorCode = ConfigErrorCode | `OCNE_${string}`;

/** Options of {@link OcneError}. */
export interface OcneErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
}

/** The base class of every error the SDK throws on purpose. */
export class OcneError extends Error {
  /** A stable string code, such as `OCNE_CONFIG_INVALID_VALUE`. */
  readonly code: OcneErrorCode;

  constructor(code: OcneErrorCode, message: string, options: OcneErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }

  override get name(): string {
    return 'OcneError';
  }
}

/**
 * True for errors made by any copy of the SDK (even a second copy in another
 * `node_modules`), where `instanceof` would fail.
 */
export function isOcneError(value: unknown): value is OcneError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Where in a configuration source a problem is. Lines and columns count from 1. */
export interface SourceLocation {
  /** Absolute path of the file, or a label such as `<inline cluster config>`. */
  file: string;
  line?: number;
  column?: number;
  /** YAML path of the value, such as `providers.oci.compartment` or `applications[1].name`. */
  path?: string;
}

/** One problem found in configuration. */
export interface ConfigIssue extends Partial<SourceLocation> {
  code: ConfigErrorCode;
  /** What is wrong and what was expected, without the location. */
  message: string;
  /** `warning` issues are reported as events and do not fail loading. */
  severity: 'error' | 'warning';
}

/** Formats an issue as `file:line:column: path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file ?? '';
  if (issue.line !== undefined)
    where += `:${issue.line}${issue.column !== undefined ? `:${issue.column}` : ''}`;
  const path = issue.path ? `${issue.path}: ` : '';
  return `${where ? `${where}: ` : ''}${path}${issue.message}`;
}

/**
 * Configuration that cannot be used. Its `code`, `file`, `line`, `column` and `path` are those
 * of the first error; `issues` lists every error found (all are reported at once).
 */
export class ConfigError extends OcneError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;

  constructor(issues: readonly ConfigIssue[], options: OcneErrorOptions = {}) {
    const errors = issues.filter((i) => i.severity === 'error');
    const first = errors[0] ?? issues[0];
    if (first === undefined) throw new TypeError('ConfigError needs at least one issue');
    const rest = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super(first.code, `${formatIssue(first)}${rest}`, options);
    this.issues = errors.length > 0 ? errors : issues;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.path = first.path;
  }

  override get name(): string {
    return 'ConfigError';
  }

  /** Every issue, one per line. */
  describe(): string {
    return this.issues.map(formatIssue).join('\n');
  }
}
