/**
 * What the bundle (scripts/bundle.ts) gives commander for `node:child_process`: commander imports
 * it at its top for executable subcommands, which the CLI has none of, and loading it (with `net`
 * and the streams) costs a cold command several milliseconds. `spawn`, commander's only use of
 * the module, loads it when called.
 */
import type { spawn as nodeSpawn } from 'node:child_process';

const lazy: { spawn: typeof nodeSpawn } = {
  spawn: ((...args: Parameters<typeof nodeSpawn>) =>
    process.getBuiltinModule('node:child_process').spawn(...args)) as typeof nodeSpawn,
};
export default lazy;
