/**
 * Loading code on first use, as every package does for what only some operations need: an
 * optional peer dependency (`@ocne/kubernetes` for the features that need a live cluster, a
 * provider package) and CommonJS dependencies (`@peculiar/x509`). Call sites keep the literal
 * `import('…')` so bundlers still see and bundle it; these helpers only read what it gave.
 */
import { OcneError } from './errors.js';

/** True when `error` says that `specifier` itself (not something it imports) cannot be found. */
export function isModuleMissing(error: unknown, specifier: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return false;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_LOAD_URL' || code === undefined) &&
    (message.includes(`'${specifier}'`) ||
      message.includes(`url ${specifier} `) ||
      message.includes(`"${specifier}"`))
  );
}

/**
 * Runs `load` (a literal `import('<specifier>')`) for an optional peer dependency. When the package
 * is not installed, throws `OCNE_DEPENDENCY_MISSING` saying which feature needs it and how to add it.
 *
 * @param specifier - The package `load` imports, such as `@ocne/kubernetes`.
 * @param feature - What needs it, starting a sentence: `Automatic token creation`.
 * @throws `OcneError` `OCNE_DEPENDENCY_MISSING` when the package is not installed.
 */
export async function importOptional<T>(
  specifier: string,
  load: () => Promise<T>,
  feature: string,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isModuleMissing(error, specifier)) {
      throw new OcneError(
        'OCNE_DEPENDENCY_MISSING',
        `${feature} needs the package ${specifier}, which is not installed: add it to your dependencies (npm install ${specifier})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The exports of a dynamically imported CommonJS module, wherever they are. Node gives them as
 * named exports; a bundler that splits the module into a chunk of its own (esbuild with
 * `--splitting`) gives only `default`, holding them all. `probe` is an export the module must have.
 *
 * @example
 * ```ts
 * const x509 = commonJsExports(await import('@peculiar/x509'), 'X509CertificateGenerator');
 * ```
 */
export function commonJsExports<T extends object>(loaded: T, probe: keyof T & string): T {
  if (probe in loaded) return loaded;
  const inner = (loaded as { default?: unknown }).default;
  if (typeof inner === 'object' && inner !== null && probe in inner) return inner as T;
  throw new TypeError(`the loaded module has no export ${probe}, neither named nor in its default export`);
}
