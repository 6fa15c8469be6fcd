/**
 * @ocne/cli: the `ocne` command-line interface.
 *
 * The cluster commands arrive with the issues that implement them; today the CLI
 * knows only `--help` and `--version`.
 *
 * @packageDocumentation
 */

export type { MainOptions } from './main.js';
export { main } from './main.js';
