/**
 * Builds Ignition 3.4.0 configs the way upstream's `pkg/cluster/ignition` does: every file is
 * `overwrite: true` with its contents as the shortest data URL, units and drop-ins are keyed by
 * name, and other configs merge in with Ignition's rules. Pure: data in, data out.
 */
import { makeDataUrl } from './data-url.js';
import { mergeOwned } from './merge.js';
import {
  IGNITION_VERSION,
  type IgnitionConfig,
  type IgnitionDirectory,
  type IgnitionFile,
  type IgnitionGroup,
  type IgnitionLink,
  type IgnitionUnit,
  type IgnitionUser,
} from './spec.js';

/** Owner of a file, directory or link, by name or id. */
export interface Owner {
  user?: string | number;
  group?: string | number;
}

/** Options of {@link IgnitionBuilder.file}. */
export interface FileOptions extends Owner {
  /** Permission bits, such as `0o644`. @defaultValue 0o644 */
  mode?: number;
  /** Consider gzip for the contents. @defaultValue true */
  compress?: boolean;
}

/** Options of {@link IgnitionBuilder.unit}. */
export interface UnitOptions {
  enabled?: boolean;
  contents?: string;
  mask?: boolean;
  dropins?: ReadonlyArray<{ name: string; contents: string }>;
}

const owner = (o: Owner) => ({
  ...(o.user !== undefined && o.user !== '' && o.user !== 0
    ? { user: typeof o.user === 'number' ? { id: o.user } : { name: o.user } }
    : {}),
  ...(o.group !== undefined && o.group !== '' && o.group !== 0
    ? { group: typeof o.group === 'number' ? { id: o.group } : { name: o.group } }
    : {}),
});

/** An empty Ignition 3.4.0 config. */
export function emptyIgnition(): IgnitionConfig {
  return { ignition: { version: IGNITION_VERSION } };
}

/**
 * Collects files, directories, links, units, drop-ins, users and groups, and merges other
 * configs, into one Ignition config. A later call for the same path or name replaces (files)
 * or merges into (units, users) the earlier one, as Ignition's merge would.
 */
export class IgnitionBuilder {
  #config: IgnitionConfig = emptyIgnition();

  /** Adds a file with the given contents (text or bytes), `overwrite: true`. */
  file(path: string, contents: string | Uint8Array, options: FileOptions = {}): this {
    const url = makeDataUrl(contents, { allowCompression: options.compress ?? true });
    const file: IgnitionFile = {
      path,
      ...owner(options),
      overwrite: true,
      contents: { compression: url.compression, source: url.source },
      mode: options.mode ?? 0o644,
    };
    return this.#add({ ignition: { version: IGNITION_VERSION }, storage: { files: [file] } });
  }

  /**
   * Adds a directory. Never with `overwrite`: for a directory that would delete what the image
   * already has there. Without `mode`, Ignition uses 0755 (or keeps an existing folder's mode).
   */
  directory(path: string, options: Owner & { mode?: number } = {}): this {
    const dir: IgnitionDirectory = {
      path,
      ...owner(options),
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
    };
    return this.#add({ ignition: { version: IGNITION_VERSION }, storage: { directories: [dir] } });
  }

  /** Adds a symbolic link (or a hard link with `hard: true`). */
  link(path: string, target: string, options: Owner & { hard?: boolean } = {}): this {
    const link: IgnitionLink = {
      path,
      ...owner(options),
      overwrite: true,
      target,
      ...(options.hard ? { hard: true } : {}),
    };
    return this.#add({ ignition: { version: IGNITION_VERSION }, storage: { links: [link] } });
  }

  /** Adds or extends a systemd unit. */
  unit(name: string, options: UnitOptions = {}): this {
    const unit: IgnitionUnit = {
      name,
      ...(options.enabled !== undefined ? { enabled: options.enabled } : {}),
      ...(options.mask !== undefined ? { mask: options.mask } : {}),
      ...(options.contents !== undefined ? { contents: options.contents } : {}),
      ...(options.dropins !== undefined ? { dropins: options.dropins.map((d) => ({ ...d })) } : {}),
    };
    return this.#add({ ignition: { version: IGNITION_VERSION }, systemd: { units: [unit] } });
  }

  /** Adds a drop-in to a unit (the unit is created, neither enabled nor with contents, when new). */
  dropin(unit: string, name: string, contents: string): this {
    return this.unit(unit, { dropins: [{ name, contents }] });
  }

  /** Adds or extends a user. */
  user(user: IgnitionUser): this {
    return this.#add({ ignition: { version: IGNITION_VERSION }, passwd: { users: [structuredClone(user)] } });
  }

  /** Adds or extends a group. */
  group(group: IgnitionGroup): this {
    return this.#add({
      ignition: { version: IGNITION_VERSION },
      passwd: { groups: [structuredClone(group)] },
    });
  }

  /** Merges another config in, as an Ignition child config (it wins). */
  merge(child: IgnitionConfig): this {
    return this.#add(structuredClone(child));
  }

  #add(child: IgnitionConfig): this {
    this.#config = mergeOwned(this.#config, child);
    return this;
  }

  /** The config built so far (a copy). */
  build(): IgnitionConfig {
    return structuredClone(this.#config);
  }
}

/** Serializes a config as compact JSON, as upstream prints it. */
export function serializeIgnition(config: IgnitionConfig): string {
  return JSON.stringify(config);
}
