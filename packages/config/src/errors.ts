/**
 * Configuration errors: every problem found in configuration as a located {@link ConfigIssue},
 * and {@link ConfigError}, the `OcneError` that carries them.
 */
import { OcneError, type OcneErrorCode, type OcneErrorOptions } from '@ocne/core';

/** The codes of configuration problems (see the catalogue in `@ocne/core`). */
export type ConfigErrorCode = Extract<OcneErrorCode, `OCNE_CONFIG_${string}`>;

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
