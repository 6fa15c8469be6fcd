/**
 * Butane to Ignition 3.4.0, as coreos/butane v0.25.1 translates it with `--strict` (and Ignition
 * upgrades an older spec's output to 3.4.0), for every spec that makes Ignition 3.4 or older
 * ({@link BUTANE_SPECS}: fcos 1.0.0 to 1.5.0, flatcar, r4e, fiot), and for the part of the spec
 * that ocne users put in `extraIgnition`: files, directories, links, systemd units and drop-ins,
 * users, groups, kernel arguments and the `ignition` section. A field a spec does not have is
 * refused where Butane refuses it. Everything else Butane knows (disks, RAID, LUKS, filesystems,
 * trees, `boot_device`, `grub`, the openshift variant, specs that make Ignition 3.5) is an
 * {@link IgnitionError} naming the field, never dropped.
 *
 * The entry points only; the work is in three modules: `butane/read.ts` reads the YAML as Butane's
 * Go decoder does (and the `local` files, through the injected `readFile`), `butane/check.ts` makes
 * the checks Butane and Ignition's validator make on the subset (what `--strict` turns from a
 * warning into an error is an error), and `butane/translate.ts` builds the Ignition config.
 */
export { parseUnitContents } from './butane/check.js';
export type { ButaneOptions } from './butane/read.js';
export { BUTANE_SPECS, BUTANE_VARIANT, BUTANE_VERSION, isButane } from './butane/read.js';
export { translateButane } from './butane/translate.js';
