/**
 * Reads Ignition configs of spec 3.0.0 to 3.4.0 (JSON) and upgrades them to 3.4.0, which is a
 * superset of the earlier 3.x specs. Pure: text in, config out; every problem is an
 * {@link IgnitionError} with the source, line, column and path of the offending value.
 */
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { IgnitionError } from './errors.js';
import { IGNITION_VERSION, type IgnitionConfig } from './spec.js';

/** The Ignition spec versions that {@link parseIgnition} reads. */
export const READABLE_IGNITION_VERSIONS: readonly string[] = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0'];

type Check = (value: unknown) => string | undefined;
type Shape = { keys: Record<string, Check | string>; item?: never } | { item: string };

const str: Check = (v) => (typeof v === 'string' ? undefined : 'expected a string');
const strOrNull: Check = (v) =>
  v === null || typeof v === 'string' ? undefined : 'expected a string or null';
const boolOrNull: Check = (v) =>
  v === null || typeof v === 'boolean' ? undefined : 'expected true, false or null';
const intOrNull: Check = (v) =>
  v === null || Number.isInteger(v) ? undefined : 'expected a whole number or null';
const absPath: Check = (v) =>
  typeof v === 'string' && v.startsWith('/') ? undefined : 'expected an absolute path (starting with "/")';
const mode: Check = (v) =>
  v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o7777)
    ? undefined
    : 'expected a file mode as a decimal number from 0 to 4095 (0o7777), such as 420 for 0644';
const unitName: Check = (v) =>
  typeof v === 'string' &&
  /^[^/]+\.(service|socket|device|mount|automount|swap|target|path|timer|slice|scope|snapshot)$/.test(v)
    ? undefined
    : 'expected a systemd unit name such as "example.service"';
const dropinName: Check = (v) =>
  typeof v === 'string' && /^[^/]+\.conf$/.test(v) ? undefined : 'expected a drop-in name ending in ".conf"';
const compression: Check = (v) =>
  v === null || v === '' || v === 'gzip' ? undefined : 'expected "gzip", "" or null';
const strings: Check = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'expected a list of strings';
const list: Check = (v) => (Array.isArray(v) ? undefined : 'expected a list');

/** The parts of the spec the SDK reads closely; disks, RAID, LUKS and filesystems pass through. */
const SHAPES: Record<string, Shape> = {
  root: {
    keys: {
      ignition: 'ignition',
      storage: 'storage',
      systemd: 'systemd',
      passwd: 'passwd',
      kernelArguments: 'kargs',
    },
  },
  ignition: {
    keys: {
      version: str,
      config: 'ignitionConfig',
      timeouts: 'timeouts',
      security: 'security',
      proxy: 'proxy',
    },
  },
  ignitionConfig: { keys: { merge: 'resources', replace: 'resource' } },
  timeouts: { keys: { httpResponseHeaders: intOrNull, httpTotal: intOrNull } },
  security: { keys: { tls: 'tls' } },
  tls: { keys: { certificateAuthorities: 'resources' } },
  proxy: { keys: { httpProxy: strOrNull, httpsProxy: strOrNull, noProxy: strings } },
  resources: { item: 'resource' },
  resource: { keys: { source: strOrNull, compression, httpHeaders: list, verification: 'verification' } },
  verification: { keys: { hash: strOrNull } },
  storage: {
    keys: {
      disks: list,
      raid: list,
      luks: list,
      filesystems: list,
      files: 'files',
      directories: 'directories',
      links: 'links',
    },
  },
  files: { item: 'file' },
  directories: { item: 'directory' },
  links: { item: 'link' },
  file: {
    keys: {
      path: absPath,
      overwrite: boolOrNull,
      user: 'owner',
      group: 'owner',
      contents: 'resource',
      append: 'resources',
      mode,
    },
  },
  directory: { keys: { path: absPath, overwrite: boolOrNull, user: 'owner', group: 'owner', mode } },
  link: {
    keys: {
      path: absPath,
      overwrite: boolOrNull,
      user: 'owner',
      group: 'owner',
      target: strOrNull,
      hard: boolOrNull,
    },
  },
  owner: { keys: { id: intOrNull, name: strOrNull } },
  systemd: { keys: { units: 'units' } },
  units: { item: 'unit' },
  unit: {
    keys: { name: unitName, enabled: boolOrNull, mask: boolOrNull, contents: strOrNull, dropins: 'dropins' },
  },
  dropins: { item: 'dropin' },
  dropin: { keys: { name: dropinName, contents: strOrNull } },
  passwd: { keys: { users: 'users', groups: 'groups' } },
  users: { item: 'user' },
  user: {
    keys: {
      name: str,
      passwordHash: strOrNull,
      sshAuthorizedKeys: strings,
      uid: intOrNull,
      gecos: strOrNull,
      homeDir: strOrNull,
      noCreateHome: boolOrNull,
      primaryGroup: strOrNull,
      groups: strings,
      noUserGroup: boolOrNull,
      noLogInit: boolOrNull,
      shell: strOrNull,
      system: boolOrNull,
      shouldExist: boolOrNull,
    },
  },
  groups: { item: 'group' },
  group: {
    keys: { name: str, gid: intOrNull, passwordHash: strOrNull, system: boolOrNull, shouldExist: boolOrNull },
  },
  kargs: { keys: { shouldExist: strings, shouldNotExist: strings } },
};

const REQUIRED: Record<string, string> = {
  file: 'path',
  directory: 'path',
  link: 'path',
  unit: 'name',
  dropin: 'name',
  user: 'name',
  group: 'name',
};

/** A YAML/JSON document with a way to locate a value by path. */
export interface LocatedDocument {
  doc: Document;
  lines: LineCounter;
  source: string;
}

/** Line and column of the value at `path` (field names and list indexes), if known. */
export function locate(
  located: LocatedDocument,
  path: ReadonlyArray<string | number>,
): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = located.doc.getIn(path.slice(0, n), true) as
      | { range?: [number, number, number] }
      | undefined;
    const offset = node?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = located.lines.linePos(offset);
      return { line, column: col };
    }
  }
  return {};
}

/** Line and column of the key at the end of `path` (for unknown keys), if known. */
export function locateKey(
  located: LocatedDocument,
  path: ReadonlyArray<string | number>,
): { line?: number; column?: number } {
  const parent = located.doc.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1));
    const offset = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = located.lines.linePos(offset);
      return { line, column: col };
    }
  }
  return locate(located, path);
}

/** Formats a path such as `storage.files[2].mode`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Parses JSON or YAML text with positions. Syntax errors become an {@link IgnitionError} with
 * the line and column.
 */
export function parseLocated(text: string, source: string): { value: unknown; located: LocatedDocument } {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
  });
  const error = doc.errors[0];
  if (error !== undefined) {
    const { line, col } = lines.linePos(error.pos[0]);
    throw new IgnitionError(
      'OCNE_IGNITION_INVALID',
      `not valid JSON or YAML: ${error.message.split('\n')[0]}`,
      {
        source,
        line,
        column: col,
      },
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new IgnitionError(
      'OCNE_IGNITION_INVALID',
      `not valid JSON or YAML: ${(e as Error).message}`,
      { source },
      { cause: e },
    );
  }
  return { value, located: { doc, lines, source } };
}

function check(
  value: unknown,
  shapeName: string,
  path: Array<string | number>,
  located: LocatedDocument,
): void {
  const fail = (p: Array<string | number>, message: string, at = locate(located, p)): never => {
    throw new IgnitionError('OCNE_IGNITION_INVALID', message, {
      source: located.source,
      ...at,
      path: formatPath(p),
    });
  };
  const shape = SHAPES[shapeName]!;
  if ('item' in shape && shape.item !== undefined) {
    if (!Array.isArray(value)) fail(path, 'expected a list');
    (value as unknown[]).forEach((item, i) => {
      check(item, shape.item!, [...path, i], located);
    });
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'expected an object');
  const obj = value as Record<string, unknown>;
  const required = REQUIRED[shapeName];
  if (required !== undefined && !(required in obj)) fail(path, `"${required}" is required`);
  for (const [key, child] of Object.entries(obj)) {
    const rule = shape.keys![key];
    if (rule === undefined) {
      fail(
        [...path, key],
        `unknown key "${key}" (allowed here: ${Object.keys(shape.keys!).join(', ')})`,
        locateKey(located, [...path, key]),
      );
    }
    if (typeof rule === 'string') {
      if (child !== null) check(child, rule, [...path, key], located);
    } else {
      const problem = rule!(child);
      if (problem !== undefined) fail([...path, key], problem);
    }
  }
}

/** Checks duplicate paths among files, directories and links, which Ignition rejects. */
function checkDuplicates(config: IgnitionConfig, located: LocatedDocument): void {
  const seen = new Map<string, string>();
  for (const list of ['files', 'directories', 'links'] as const) {
    (config.storage?.[list] ?? []).forEach((node, i) => {
      const before = seen.get(node.path);
      if (before !== undefined) {
        const p = ['storage', list, i];
        throw new IgnitionError('OCNE_IGNITION_INVALID', `path ${node.path} is also used by ${before}`, {
          source: located.source,
          ...locate(located, p),
          path: formatPath(p),
        });
      }
      seen.set(node.path, `storage.${list}[${i}]`);
    });
  }
}

/**
 * Checks a parsed value as an Ignition config of a readable spec and returns it upgraded to
 * 3.4.0. `located` gives the positions for errors.
 */
export function ignitionFromValue(value: unknown, located: LocatedDocument): IgnitionConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isMap(located.doc.contents)) {
    throw new IgnitionError(
      'OCNE_IGNITION_INVALID',
      'expected an Ignition config: a JSON object with "ignition": {"version": ...}',
      {
        source: located.source,
        ...locate(located, []),
      },
    );
  }
  const version = (value as { ignition?: { version?: unknown } }).ignition?.version;
  if (typeof version !== 'string') {
    throw new IgnitionError(
      'OCNE_IGNITION_INVALID',
      'expected "ignition.version", the spec version such as "3.4.0"',
      {
        source: located.source,
        ...locate(located, ['ignition']),
        path: 'ignition.version',
      },
    );
  }
  if (!READABLE_IGNITION_VERSIONS.includes(version)) {
    throw new IgnitionError(
      'OCNE_IGNITION_UNSUPPORTED_VERSION',
      `Ignition spec ${version} is not supported: expected one of ${READABLE_IGNITION_VERSIONS.join(', ')}`,
      { source: located.source, ...locate(located, ['ignition', 'version']), path: 'ignition.version' },
    );
  }
  check(value, 'root', [], located);
  const config = value as IgnitionConfig;
  checkDuplicates(config, located);
  config.ignition.version = IGNITION_VERSION;
  return config;
}

/** Parses an Ignition config (JSON) of spec 3.0.0 to 3.4.0 and upgrades it to 3.4.0. */
export function parseIgnition(text: string, options: { source: string }): IgnitionConfig {
  const { value, located } = parseLocated(text, options.source);
  return ignitionFromValue(value, located);
}
