// Where the Go-built reference tools are, for the tests that run them (scripts/test-tools.sh
// builds them; its versions and these must agree).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// kube-apiserver is v1.33.13, not an earlier 1.33 patch: the Go module proxy here lacks some
// k8s.io staging modules at v0.33.5 (endpointslice, externaljwt, …), and has them all at v0.33.13.
export const TOOL_VERSIONS = {
  'ignition-validate': 'v2.23.0',
  butane: 'v0.25.1',
  etcd: 'v3.5.21',
  'kube-apiserver': 'v1.33.13',
  helm: 'v3.19.2',
} as const;

/** Absolute path of a built tool; throws with the command to run when it is missing. */
export function testTool(name: keyof typeof TOOL_VERSIONS): string {
  const cache = process.env.OCNE_TEST_CACHE ?? join(homedir(), '.cache', 'ocne-test');
  const path = join(cache, 'bin', `${name}-${TOOL_VERSIONS[name]}`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/test-tools.sh (npm test does)`);
  return path;
}
