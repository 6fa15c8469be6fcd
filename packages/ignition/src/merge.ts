/**
 * Ignition's own merge of a child config into a parent (coreos/ignition `config/merge`). Pure.
 *
 * - Objects merge field by field: a field the child sets (neither `undefined` nor `null`, which
 *   Ignition reads as an unset pointer) replaces the parent's, recursing into objects.
 * - Lists of objects are keyed: files, directories and links by `path` (one key space for the
 *   three: a child's link at a path replaces the parent's file there), units, drop-ins, users,
 *   groups, RAID and LUKS devices by `name`, disks and filesystems by `device`, HTTP headers by
 *   `name`, `ignition.config.merge` and CA lists by `source`. An entry with the parent's key merges
 *   into it; a new one is appended, in the child's order.
 * - Lists of strings (`sshAuthorizedKeys`, `groups`, kernel arguments, `noProxy`) are keyed by
 *   value: the union, parent's order first, without duplicates.
 * - `ignition.version` is the child's. File `append` lists concatenate (parent first).
 */
import type { IgnitionConfig } from './spec.js';

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Key of an entry of the list at `path` (a dotted path of field names), or undefined when unkeyed. */
function keyOf(path: string): ((item: Obj) => string | undefined) | undefined {
  const field = (name: string) => (item: Obj) =>
    typeof item[name] === 'string' ? (item[name] as string) : undefined;
  switch (path) {
    case 'storage.files':
    case 'storage.directories':
    case 'storage.links':
      return field('path');
    case 'storage.disks':
    case 'storage.filesystems':
      return field('device');
    case 'storage.disks.partitions':
      return (item) =>
        typeof item.label === 'string' ? `label:${item.label}` : `number:${String(item.number ?? 0)}`;
    case 'storage.raid':
    case 'storage.luks':
    case 'systemd.units':
    case 'systemd.units.dropins':
    case 'passwd.users':
    case 'passwd.groups':
      return field('name');
    case 'ignition.config.merge':
    case 'ignition.security.tls.certificateAuthorities':
      return field('source');
    default:
      if (path.endsWith('.httpHeaders')) return field('name');
      return undefined;
  }
}

function mergeList(parent: Json[], child: Json[], path: string): Json[] {
  if (path.endsWith('.append')) return [...parent, ...child];
  const key = keyOf(path);
  if (key === undefined) {
    // Lists of scalars are keyed by value.
    if ([...parent, ...child].every((v) => !isObject(v))) {
      const out = [...parent];
      for (const v of child) if (!out.includes(v)) out.push(v);
      return out;
    }
    return child;
  }
  const out = [...parent];
  const index = new Map<string, number>();
  out.forEach((item, i) => {
    const k = isObject(item) ? key(item) : undefined;
    if (k !== undefined) index.set(k, i);
  });
  for (const item of child) {
    const k = isObject(item) ? key(item) : undefined;
    const at = k === undefined ? undefined : index.get(k);
    if (at === undefined) {
      if (k !== undefined) index.set(k, out.length);
      out.push(item);
    } else {
      out[at] = mergeValue(out[at], item, path);
    }
  }
  return out;
}

function mergeValue(parent: Json, child: Json, path: string): Json {
  if (child === undefined) return parent;
  if (Array.isArray(parent) && Array.isArray(child)) return mergeList(parent, child, path);
  if (isObject(parent) && isObject(child)) {
    const out: Obj = { ...parent };
    for (const [k, v] of Object.entries(child)) {
      if (v === undefined || v === null) continue;
      out[k] = k in parent ? mergeValue(parent[k], v, path === '' ? k : `${path}.${k}`) : v;
    }
    return out;
  }
  return child;
}

/** Paths of the storage nodes: files, directories and links share one key space. */
const NODE_LISTS = ['files', 'directories', 'links'] as const;

/**
 * Merges `child` into `parent` by Ignition's rules and returns a new config (neither input is
 * changed). The result has the child's version.
 */
export function mergeIgnition(parent: IgnitionConfig, child: IgnitionConfig): IgnitionConfig {
  return mergeOwned(structuredClone(parent), structuredClone(child));
}

/**
 * {@link mergeIgnition} for inputs the caller owns: the result may share objects with them, so
 * neither may be used afterwards. Saves the copies when building a config piece by piece.
 */
export function mergeOwned(parent: IgnitionConfig, child: IgnitionConfig): IgnitionConfig {
  const merged = mergeValue(parent, child, '') as IgnitionConfig;
  // A path the child defines in one list leaves the parent's entries with that path in the others.
  const storage = merged.storage;
  const childStorage = child.storage;
  if (storage !== undefined && childStorage !== undefined) {
    for (const list of NODE_LISTS) {
      const childPaths = new Set((childStorage[list] ?? []).map((n) => n.path));
      for (const other of NODE_LISTS) {
        if (other === list || storage[other] === undefined) continue;
        const kept = (storage[other] as Array<{ path: string }>).filter(
          (n) => !childPaths.has(n.path) || (childStorage[other] ?? []).some((c) => c.path === n.path),
        );
        (storage as Record<string, unknown>)[other] = kept;
      }
    }
  }
  // shouldExist and shouldNotExist share one key space: the child's choice for an argument wins.
  const kargs = merged.kernelArguments;
  if (kargs !== undefined && child.kernelArguments !== undefined) {
    const yes = new Set(child.kernelArguments.shouldExist ?? []);
    const no = new Set(child.kernelArguments.shouldNotExist ?? []);
    if (kargs.shouldExist) kargs.shouldExist = kargs.shouldExist.filter((a) => !no.has(a));
    if (kargs.shouldNotExist) kargs.shouldNotExist = kargs.shouldNotExist.filter((a) => !yes.has(a));
  }
  merged.ignition = { ...merged.ignition, version: child.ignition.version };
  return merged;
}
