// Where the Go-built reference tools are (see scripts/test-tools.sh, which builds them).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const TOOL_VERSIONS = { 'ignition-validate': 'v2.23.0', butane: 'v0.25.1' } as const;

/** Absolute path of a built tool; throws with the command to run when it is missing. */
export function testTool(name: keyof typeof TOOL_VERSIONS): string {
  const cache = process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache', 'ocne-test');
  const path = join(cache, 'bin', `${name}-${TOOL_VERSIONS[name]}`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/test-tools.sh (npm test does)`);
  return path;
}
