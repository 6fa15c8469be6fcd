// Where the reference tools and schemas the tests compare against are: the Go-built tools and the
// schemas fetched from Go modules that scripts/test-tools.sh puts in the test cache, and the few
// schemas kept in this package. versions.json pins them all, for the script and for this module.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pins from '../versions.json' with { type: 'json' };

/** The version of each Go-built reference tool (kube-apiserver's is explained in scripts/test-tools.sh). */
export const TOOL_VERSIONS: Readonly<typeof pins.tools> = pins.tools;

/** Where scripts/test-tools.sh keeps what it builds and fetches: `$OCNE_TEST_CACHE`, else ~/.cache/ocne-test. */
const testCache = (): string => process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache', 'ocne-test');

/** The folder of the fetched reference schemas, one `<module>@<version>` folder per pinned module. */
export const REFERENCE_SCHEMAS: string = join(testCache(), 'schemas');

const KEPT = join(dirname(fileURLToPath(import.meta.url)), '../reference');

/** Absolute path of a built tool; throws with the command to run when it is missing. */
export function testTool(name: keyof typeof TOOL_VERSIONS): string {
  const path = join(testCache(), 'bin', `${name}-${TOOL_VERSIONS[name]}`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/test-tools.sh (npm test does)`);
  return path;
}

/**
 * Absolute path of a file of a pinned reference module: `module` is `<module path>@<version>` as
 * versions.json names it, `path` the file's path inside that module (as upstream lays it out).
 * Throws on a module that is not pinned, and with the command to run when a fetched file is missing.
 */
export function referenceSchema(module: string, path: string): string {
  if (Object.hasOwn(pins.keptSchemas, module)) {
    const kept = join(KEPT, module, path);
    if (!existsSync(kept))
      throw new Error(`${kept} is missing: ${module} keeps only what versions.json lists`);
    return kept;
  }
  if (!Object.hasOwn(pins.schemas, module))
    throw new Error(`${module} is not a reference module pinned in test-utils/tools/versions.json`);
  const fetched = join(REFERENCE_SCHEMAS, module, path);
  if (existsSync(fetched)) return fetched;
  throw new Error(
    existsSync(join(REFERENCE_SCHEMAS, module))
      ? `${fetched} is missing: add its folder to ${module} in test-utils/tools/versions.json`
      : `${fetched} is missing: run scripts/test-tools.sh schemas (npm test does)`,
  );
}
