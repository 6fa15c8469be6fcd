import { OcneError, type OcneErrorCode } from '@ocne/core';

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
  /** What is wrong, without the location (the message is `source:line:column: path: detail`). */
  readonly detail: string;

  constructor(
    code: OcneErrorCode,
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
    this.detail = message;
  }

  override get name(): string {
    return 'IgnitionError';
  }
}
