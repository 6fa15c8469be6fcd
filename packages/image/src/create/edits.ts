/**
 * The edits `image create --type oci` (and `olvm`) makes to the files of an OCK boot image, as pure
 * string functions: upstream's `modify-image.sh` does them with `sed`, `grep` and `find`; these
 * reproduce exactly what those commands do to the text, so the disk editors only move bytes.
 *
 * Where upstream's shell would behave surprisingly, the behaviour is kept and the line says so.
 */
import { OcneError } from '@ocne/core';

/** The BLS entry upstream edits, relative to the root of the /boot file system (p2). */
export const BLS_ENTRY_PATH = 'loader/entries/ostree-1-ock.conf';

/** Where upstream looks for `machine-id` files, relative to the root file system (p3). */
export const DEPLOYMENTS_PATH = 'ostree/deploy/ock/deploy';

/** What {@link rewriteBls} needs. */
export interface BlsEditOptions {
  /** The platform id that replaces `qemu` (upstream's `IGNITION_PROVIDER_TYPE`). */
  ignitionProvider: string;
  /** Extra kernel arguments (one string, as upstream's `--kernel-args`); empty or absent for none. */
  kernelArguments?: string | undefined;
  /** The root file system's UUID before the edit, and after it. */
  oldRootUuid: string;
  newRootUuid: string;
  /** The `olvm` script also changes `console=ttyS0` to `console=tty0`. */
  olvmConsole?: boolean;
}

/**
 * The separator upstream's `generateKernelArgsStanza` picks for its sed expression: the first
 * printable ASCII character (`!` to `~`) that does not occur in the arguments.
 *
 * @throws `OcneError` `OCNE_IMAGE_KERNEL_ARGS_INVALID` when the arguments use every one of them
 *   (upstream: "extra kernel arguments use all printable characters"), or when upstream's sed
 *   would reject the expression (the separator would be `$` or `\\`, or the arguments hold a newline).
 */
export function kernelArgumentsSeparator(args: string): string {
  for (let code = 0x21; code <= 0x7e; code++) {
    const candidate = String.fromCharCode(code);
    if (args.includes(candidate)) continue;
    // Upstream's sed cannot use the expression it builds with these: with `$`, `s$$$ <args>$` is an
    // empty pattern whose flags are the arguments (`w <file>` writes a file, `e` runs a command);
    // a backslash cannot delimit; a newline ends the command. Refuse before touching anything.
    if (candidate === '$' || candidate === '\\' || args.includes('\n')) {
      throw new OcneError(
        'OCNE_IMAGE_KERNEL_ARGS_INVALID',
        `extra kernel arguments ${JSON.stringify(args)} make upstream's sed expression invalid (separator ${JSON.stringify(candidate)}${args.includes('\n') ? ', a newline' : ''})`,
      );
    }
    return candidate;
  }
  throw new OcneError(
    'OCNE_IMAGE_KERNEL_ARGS_INVALID',
    'extra kernel arguments use all printable characters',
  );
}

/**
 * Applies a function to every line of a text as sed sees lines: the text split at `\n`, the
 * trailing newline (or its absence) kept.
 */
function mapLines(text: string, fn: (line: string) => string): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  return lines.map(fn).join('\n') + (endsWithNewline ? '\n' : '');
}

/**
 * The BLS entry after upstream's edits, in upstream's order:
 * 1. `s/ignition.platform.id=qemu/ignition.platform.id=<provider>/g`: the dots are sed's "any
 *    character", so `ignitionXplatform.id=qemu` is rewritten as well (to the dotted spelling);
 *    only the value `qemu` (or a value that starts with it) is replaced.
 * 2. (olvm only) `s/console=ttyS0/console=tty0/g`, with the same unescaped-dot-free pattern.
 * 3. With kernel arguments: `/^options / s<sep>$<sep> <args><sep>` appends ` <args>` to every line
 *    that starts with `options `. The arguments are appended as written; upstream's sed would read
 *    `&` and `\` in them as replacement syntax (a documented difference: ours is literal).
 * 4. `s/<old root UUID>/<new root UUID>/g` over the whole file (after the arguments, so an
 *    argument naming the old UUID changes too, as upstream's).
 *
 * @throws `OcneError` `OCNE_IMAGE_KERNEL_ARGS_INVALID` as {@link kernelArgumentsSeparator}.
 */
export function rewriteBls(text: string, options: BlsEditOptions): string {
  let out = mapLines(text, (line) =>
    line.replace(/ignition.platform.id=qemu/g, () => `ignition.platform.id=${options.ignitionProvider}`),
  );
  if (options.olvmConsole) out = mapLines(out, (line) => line.replace(/console=ttyS0/g, 'console=tty0'));
  const args = options.kernelArguments ?? '';
  if (args !== '') {
    // Upstream fails before editing anything when no separator exists; so do we.
    kernelArgumentsSeparator(args);
    out = mapLines(out, (line) => (line.startsWith('options ') ? `${line} ${args}` : line));
  }
  if (options.oldRootUuid !== '') out = out.split(options.oldRootUuid).join(options.newRootUuid);
  return out;
}

/**
 * The deployment path named by the BLS entry, as upstream computes it:
 * `grep -o 'ostree=[^ ]*' | cut -d= -f2`, i.e. the text after `ostree=` up to the next space or `=`.
 * Upstream would go on with a broken path when there is no match or several different ones; that
 * is a layout error here.
 *
 * @throws `OcneError` `OCNE_IMAGE_LAYOUT_INVALID` unless the entry names exactly one path.
 */
export function deployPathFromBls(text: string): string {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    for (const match of line.matchAll(/ostree=[^ ]*/g)) found.add(match[0].split('=')[1] ?? '');
  }
  const paths = [...found];
  if (paths.length !== 1 || paths[0] === '' || !paths[0]!.startsWith('/')) {
    throw new OcneError(
      'OCNE_IMAGE_LAYOUT_INVALID',
      `the boot entry ${BLS_ENTRY_PATH} must name one absolute ostree= deployment path, found ${
        paths.length === 0 ? 'none' : paths.map((p) => JSON.stringify(p)).join(', ')
      }`,
    );
  }
  return paths[0]!;
}

/** What {@link rewriteFstab} needs. */
export interface FstabEditOptions {
  rootUuid: string;
  bootUuid: string;
}

/**
 * The deployment's `/etc/fstab` after upstream's two seds:
 * `s|UUID=[a-zA-z0-9-]* /[ \t]|UUID=<root> / |g` and `s|UUID=[a-zA-z0-9-]* /boot[ \t]|UUID=<boot> /boot |g`.
 * `A-z` is upstream's typo and is kept: it also matches `[ \ ] ^ _` and the backtick. The patterns
 * are not anchored, and the space or tab after the mount point becomes one space. `/boot/efi`
 * lines do not match either pattern.
 */
export function rewriteFstab(text: string, options: FstabEditOptions): string {
  return mapLines(text, (line) =>
    line
      .replace(/UUID=[a-zA-z0-9-]* \/[ \t]/g, () => `UUID=${options.rootUuid} / `)
      .replace(/UUID=[a-zA-z0-9-]* \/boot[ \t]/g, () => `UUID=${options.bootUuid} /boot `),
  );
}

/** True for a file name upstream's `find -iname machine-id` deletes (case-insensitive, exact). */
export function isMachineIdName(name: string): boolean {
  return name.toLowerCase() === 'machine-id';
}

/**
 * The mode a file has after upstream's `cp` and `chmod +x` (umask 022): a new file takes the mode
 * of its source, the ConfigMap's 0500, and becomes 0511 (r-x--x--x); an existing file keeps its mode and gains
 * the three execute bits.
 */
export function modeAfterCopy(existingMode: number | undefined): number {
  return ((existingMode ?? 0o500) & 0o7777) | 0o111;
}
