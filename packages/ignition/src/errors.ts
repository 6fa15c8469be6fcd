import { OcneError } from '@ocne/core';

/** Codes of the errors this package raises. */
export const IgnitionErrorCode = {
  /** Not JSON/YAML, or not a valid Ignition config or Butane file. */
  Invalid: 'OCNE_IGNITION_INVALID',
  /** An Ignition spec version the SDK does not read (Butane variants and versions: `OCNE_BUTANE_UNSUPPORTED`). */
  UnsupportedVersion: 'OCNE_IGNITION_UNSUPPORTED_VERSION',
  /** Two extra configs set the same path or unit differently. */
  Conflict: 'OCNE_IGNITION_CONFLICT',
  /** A Butane variant, version or field outside the supported subset. */
  ButaneUnsupported: 'OCNE_BUTANE_UNSUPPORTED',
  /**
   * A Butane `local:` file could not be read, or lies outside the files folder. (Files the cluster
   * configuration names are read by `@ocne/config`'s `readConfigFiles`, with its own codes.)
   */
  ReadFailed: 'OCNE_IGNITION_READ_FAILED',
} as const;

/** An Ignition error code. */
export type IgnitionErrorCode = (typeof IgnitionErrorCode)[keyof typeof IgnitionErrorCode];

/** Where in an Ignition or Butane source a problem is. */
export interface IgnitionErrorLocation {
  /** File path, or a label such as `<extraIgnitionInline>`. */
  source: string;
  line?: number;
  column?: number;
  /** Path of the value, such as `storage.files[2].mode`. */
  path?: string;
}

/** An Ignition or Butane input that cannot be used, with where the problem is. */
export class IgnitionError extends OcneError {
  readonly source: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;

  constructor(
    code: IgnitionErrorCode,
    message: string,
    location: IgnitionErrorLocation,
    options: { cause?: unknown } = {},
  ) {
    const where = `${location.source}${location.line !== undefined ? `:${location.line}:${location.column ?? 1}` : ''}`;
    super(code, `${where}: ${location.path ? `${location.path}: ` : ''}${message}`, options);
    this.source = location.source;
    this.line = location.line;
    this.column = location.column;
    this.path = location.path;
  }

  override get name(): string {
    return 'IgnitionError';
  }
}
