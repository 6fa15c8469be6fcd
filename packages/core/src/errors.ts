/**
 * The SDK's one error type. Every package throws {@link OcneError} (or a subclass) with a code
 * from the catalogue ({@link OcneErrorCode}, `codes.ts`); errors from dependencies are wrapped,
 * with `cause` set.
 */
import type { OcneErrorCode } from './codes.js';

const brand: unique symbol = Symbol.for('@ocne/error');

/** Options of {@link OcneError}. */
export interface OcneErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
}

/** The base class of every error the SDK throws on purpose. */
export class OcneError extends Error {
  /** A stable code from the catalogue, such as `OCNE_CONFIG_INVALID_VALUE`. */
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
