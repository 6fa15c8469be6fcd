/**
 * The Ignition 3.4.0 configuration format (coreos/ignition `config/v3_4/types`), as JSON data.
 * Field names are the spec's; every field is optional, as in the spec, and `null` is allowed
 * where the spec allows it. Parts the SDK never generates (disks, RAID, LUKS, filesystems) are
 * typed by their keys only and kept as they are when they come from extra Ignition.
 */

/** The spec version the SDK writes. */
export const IGNITION_VERSION = '3.4.0';

/** A remote or inline resource (`source` is a URL, often a `data:` URL). */
export interface IgnitionResource {
  source?: string | null;
  /** `gzip` or empty. */
  compression?: string | null;
  httpHeaders?: Array<{ name: string; value?: string | null }>;
  verification?: { hash?: string | null };
}

/** Fields files, directories and links share. */
export interface IgnitionNode {
  path: string;
  overwrite?: boolean | null;
  user?: { id?: number | null; name?: string | null };
  group?: { id?: number | null; name?: string | null };
}

/** A file. `mode` is decimal in JSON (0o644 is 420). */
export interface IgnitionFile extends IgnitionNode {
  contents?: IgnitionResource;
  append?: IgnitionResource[];
  mode?: number | null;
}

/** A directory. */
export interface IgnitionDirectory extends IgnitionNode {
  mode?: number | null;
}

/** A symbolic or hard link. */
export interface IgnitionLink extends IgnitionNode {
  target?: string | null;
  hard?: boolean | null;
}

/** A systemd drop-in of a unit. */
export interface IgnitionDropin {
  name: string;
  contents?: string | null;
}

/** A systemd unit. */
export interface IgnitionUnit {
  name: string;
  enabled?: boolean | null;
  mask?: boolean | null;
  contents?: string | null;
  dropins?: IgnitionDropin[];
}

/** A user account. */
export interface IgnitionUser {
  name: string;
  passwordHash?: string | null;
  sshAuthorizedKeys?: string[];
  uid?: number | null;
  gecos?: string | null;
  homeDir?: string | null;
  noCreateHome?: boolean | null;
  primaryGroup?: string | null;
  groups?: string[];
  noUserGroup?: boolean | null;
  noLogInit?: boolean | null;
  shell?: string | null;
  system?: boolean | null;
  shouldExist?: boolean | null;
}

/** A group. */
export interface IgnitionGroup {
  name: string;
  gid?: number | null;
  passwordHash?: string | null;
  system?: boolean | null;
  shouldExist?: boolean | null;
}

/** Storage parts that the SDK passes through: typed by their merge keys only. */
export interface IgnitionDisk {
  device: string;
  [field: string]: unknown;
}
/** A RAID array, passed through. */
export interface IgnitionRaid {
  name: string;
  [field: string]: unknown;
}
/** A LUKS device, passed through. */
export interface IgnitionLuks {
  name: string;
  [field: string]: unknown;
}
/** A filesystem, passed through. */
export interface IgnitionFilesystem {
  device: string;
  [field: string]: unknown;
}

/** The `storage` section. */
export interface IgnitionStorage {
  disks?: IgnitionDisk[];
  raid?: IgnitionRaid[];
  luks?: IgnitionLuks[];
  filesystems?: IgnitionFilesystem[];
  files?: IgnitionFile[];
  directories?: IgnitionDirectory[];
  links?: IgnitionLink[];
}

/** The `ignition` section. */
export interface IgnitionMeta {
  version: string;
  config?: { merge?: IgnitionResource[]; replace?: IgnitionResource };
  timeouts?: { httpResponseHeaders?: number | null; httpTotal?: number | null };
  security?: { tls?: { certificateAuthorities?: IgnitionResource[] } };
  proxy?: { httpProxy?: string | null; httpsProxy?: string | null; noProxy?: string[] };
}

/** A whole Ignition 3.4.0 configuration. */
export interface IgnitionConfig {
  ignition: IgnitionMeta;
  storage?: IgnitionStorage;
  systemd?: { units?: IgnitionUnit[] };
  passwd?: { users?: IgnitionUser[]; groups?: IgnitionGroup[] };
  kernelArguments?: { shouldExist?: string[]; shouldNotExist?: string[] };
}
