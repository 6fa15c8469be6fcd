/**
 * Butane (`variant: fcos`, `version: 1.5.0`) to Ignition 3.4.0, as coreos/butane v0.25.1 translates
 * it with `--strict`, for the part of the spec that ocne users put in `extraIgnition`: files,
 * directories, links, systemd units and drop-ins, users, groups, kernel arguments and the
 * `ignition` section. Everything else Butane knows (disks, RAID, LUKS, filesystems, trees,
 * `boot_device`, `grub`, other variants and versions) is an {@link IgnitionError} naming the field,
 * never dropped.
 *
 * The entry points only; the work is in three modules: `butane/read.ts` reads the YAML as Butane's
 * Go decoder does (and the `local` files, through the injected `readFile`), `butane/check.ts` makes
 * the checks Butane and Ignition's validator make on the subset (what `--strict` turns from a
 * warning into an error is an error), and `butane/translate.ts` builds the Ignition config.
 */
export { parseUnitContents } from './butane/check.js';
export type { ButaneOptions } from './butane/read.js';
export { BUTANE_VARIANT, BUTANE_VERSION, isButane } from './butane/read.js';
export { translateButane } from './butane/translate.js';
