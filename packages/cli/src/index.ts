/**
 * @ocne/cli: the `ocne` command-line interface.
 *
 * `ocne cluster start | join | show | list | delete | template` over the `@ocne/cluster` facade,
 * with upstream's flags, logrus-style log lines or `--log-format json` events on stderr, and exit
 * codes 0 (ok), 1 (the operation failed) and 2 (usage error). {@link main} runs it with its own
 * argv and streams; the `ocne` bin runs it for the process.
 *
 * @packageDocumentation
 */

export type { MainOptions } from './main.js';
export { main } from './main.js';
