/**
 * Where the `ocne` bin keeps Node's compile cache (`module.enableCompileCache`): the code V8
 * compiled in one run, reused by the next, so a cold command does not compile its modules again.
 * It lives in the user's cache folder and may be deleted at any time; Node makes it again, and
 * checks every entry against the file it came from, so a new build never runs stale code.
 */
import { join } from 'node:path';

/**
 * `$XDG_CACHE_HOME/ocne/node-compile-cache`, else `~/.cache/ocne/node-compile-cache`, or
 * `undefined` without either (Node's own default would be a shared temporary folder).
 */
export function compileCacheDirectory(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : env.HOME ? join(env.HOME, '.cache') : undefined;
  return base === undefined ? undefined : join(base, 'ocne', 'node-compile-cache');
}
