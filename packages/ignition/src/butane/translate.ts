/**
 * Translation of a Butane document to Ignition 3.4.0, section by section as butane
 * `base/v0_<n>/translate.go` does for the document's spec (base 1, fcos 1.0.0, writes inline text
 * as it is and has no `local`), then upgraded to 3.4.0 as Ignition upgrades older specs: snake_case fields to Ignition's camelCase, `inline` and `local`
 * contents to data URLs, `contents_local` and `ssh_authorized_keys_local` to their text, and
 * unset fields and empty lists left out (Go's `omitempty`). Each field is read with `./read.js`
 * and checked with `./check.js` as it is translated, in the order Butane reports problems.
 */
import { makeDataUrl } from '../data-url.js';
import {
  IGNITION_VERSION,
  type IgnitionConfig,
  type IgnitionDirectory,
  type IgnitionDropin,
  type IgnitionFile,
  type IgnitionGroup,
  type IgnitionLink,
  type IgnitionMeta,
  type IgnitionNode,
  type IgnitionResource,
  type IgnitionUnit,
  type IgnitionUser,
} from '../spec.js';
import {
  type CheckedUnit,
  checkCompression,
  checkDropinName,
  checkDups,
  checkEnabledUnit,
  checkHardLinkOwners,
  checkHeader,
  checkIgnitionConfig,
  checkInstanceUnits,
  checkKeysLocal,
  checkMode,
  checkNodePath,
  checkOnlyOne,
  checkOverwrite,
  checkOwner,
  checkProxyUrl,
  checkResourceSource,
  checkSourceUrl,
  checkStorage,
  checkUnitContents,
  checkUnitName,
  checkVariantRefused,
  ignitionRefused,
  rootUnsupported,
  storageUnsupported,
  variantRefused,
} from './check.js';
import {
  type At,
  type ButaneOptions,
  type Ctx,
  type Placed,
  readBool,
  readButane,
  readBytes,
  readInt,
  readList,
  readLocal,
  readLocalText,
  readMap,
  readString,
  readStrings,
  required,
} from './read.js';

/** Drops unset fields and empty lists, as Go's `omitempty` does; undefined when nothing is left. */
function compact<T extends object>(fields: { [K in keyof T]?: T[K] | undefined }): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

/** Translates every item of a list field, keeping where each came from. */
function placeEach<T>(ctx: Ctx, at: At | undefined, translate: (item: At) => T): Array<Placed<T>> {
  return readList(ctx, at).map((item) => ({ at: item, value: translate(item) }));
}

type ResourceKind = 'contents' | 'append' | 'merge' | 'replace' | 'ca';

/** Resource fields that base 2 (Ignition 3.1) added. */
const RESOURCE_LATER = { local: 2, http_headers: 2 };

/** `source`, `inline` or `local` as a resource whose `source` is a data URL (Butane's MakeDataURL). */
function translateResource(ctx: Ctx, at: At, kind: ResourceKind): IgnitionResource | undefined {
  // Base 1 (Ignition 3.0) has file contents with inline text, and bare references for merged
  // configs and CAs; base 2 makes them all one resource with local files and HTTP headers.
  const contents = kind === 'contents' || kind === 'append';
  const f = contents
    ? readMap(ctx, at, ['source', 'inline', 'compression', 'verification'], {}, {}, RESOURCE_LATER)
    : readMap(ctx, at, ['source', 'verification'], {}, {}, { inline: 2, compression: 2, ...RESOURCE_LATER });
  const base1 = ctx.spec.base === 1;
  checkOnlyOne(
    ctx,
    f,
    // Base 1 reports the clash at inline, later bases at the last of local, inline, source.
    base1 ? ['source', 'inline'] : ['local', 'inline', 'source'],
    (given) =>
      `only one of the following can be set: ${base1 ? 'inline, source' : 'inline, local, source'} (got ${given.join(' and ')})`,
  );
  let source = readString(ctx, f.get('source'));
  let compression = readString(ctx, f.get('compression'));
  const headers = placeEach(ctx, f.get('http_headers'), (item) => {
    const h = readMap(ctx, item, ['name', 'value']);
    const name = readString(ctx, h.get('name')) ?? '';
    const value = readString(ctx, h.get('value'));
    checkHeader(ctx, item, h, name, value);
    return compact<{ name: string; value?: string }>({ name, value })!;
  });
  const verification = readMap(ctx, f.get('verification'), ['hash']);
  const hash = readString(ctx, verification.get('hash'));
  checkCompression(ctx, f.get('compression'), compression);

  const inlineAt = f.get('inline');
  const localAt = f.get('local');
  let bytes: Uint8Array | undefined;
  let bytesAt: At | undefined;
  const local = readString(ctx, localAt);
  if (local !== undefined) {
    bytes = readLocal(ctx, localAt!, local);
    bytesAt = localAt;
  }
  const inline = readBytes(ctx, inlineAt);
  if (inline !== undefined) {
    bytes = inline;
    bytesAt = inlineAt;
  }
  if (bytes !== undefined) {
    // Butane checks the raw bytes as an Ignition config even when compression is set.
    if (kind === 'merge' || kind === 'replace')
      checkIgnitionConfig(ctx, bytesAt!, inline !== undefined ? at : undefined, bytes);
    if (base1) {
      // Base 1 writes inline text as it is and leaves compression to the user.
      source = makeDataUrl(bytes, { allowCompression: false }).source;
    } else if (compression === undefined || compression === '') {
      const url = makeDataUrl(bytes);
      source = url.source;
      compression = url.compression;
    } else {
      // Contents the user compressed: choose an encoding, never compress again.
      source = makeDataUrl(bytes, { allowCompression: false }).source;
    }
  } else if (source !== undefined && source !== '') {
    checkSourceUrl(ctx, f.get('source')!, source);
  }

  checkResourceSource(ctx, at, {
    source,
    sourceRequired: kind === 'merge' || kind === 'ca',
    hash,
    hashAt: verification.get('hash'),
    headers,
    headersAt: f.get('http_headers'),
  });
  return compact<IgnitionResource>({
    source,
    compression,
    httpHeaders: headers.map((h) => h.value),
    verification: compact({ hash }),
  });
}

function translateOwner(ctx: Ctx, at: At | undefined): { id?: number; name?: string } | undefined {
  if (at === undefined) return undefined;
  const f = readMap(ctx, at, ['id', 'name']);
  const id = readInt(ctx, f.get('id'));
  const name = readString(ctx, f.get('name'));
  checkOwner(ctx, at, id, name);
  return compact({ id, name });
}

const NODE_FIELDS = ['path', 'overwrite', 'user', 'group'] as const;

function translateNode(ctx: Ctx, item: At, f: Map<string, At>): IgnitionNode {
  const path = checkNodePath(ctx, f.get('path') ?? item, readString(ctx, f.get('path')));
  return compact<IgnitionNode>({
    path,
    overwrite: readBool(ctx, f.get('overwrite')),
    user: translateOwner(ctx, f.get('user')),
    group: translateOwner(ctx, f.get('group')),
  })!;
}

function translateMode(ctx: Ctx, at: At | undefined, directory: boolean): number | undefined {
  const mode = readInt(ctx, at);
  checkMode(ctx, at, mode, directory);
  return mode;
}

function translateFile(ctx: Ctx, item: At): IgnitionFile {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'mode', 'contents', 'append']);
  const node = translateNode(ctx, item, f);
  const mode = translateMode(ctx, f.get('mode'), false);
  const contents = f.has('contents') ? translateResource(ctx, f.get('contents')!, 'contents') : undefined;
  const append = readList(ctx, f.get('append')).map((a) => translateResource(ctx, a, 'append') ?? {});
  checkOverwrite(ctx, f, node.overwrite, contents);
  return compact<IgnitionFile>({ ...node, contents, append, mode })!;
}

function translateDirectory(ctx: Ctx, item: At): IgnitionDirectory {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'mode']);
  const node = translateNode(ctx, item, f);
  return compact<IgnitionDirectory>({ ...node, mode: translateMode(ctx, f.get('mode'), true) })!;
}

function translateLink(ctx: Ctx, item: At): IgnitionLink {
  const f = readMap(ctx, item, [...NODE_FIELDS, 'target', 'hard']);
  const node = translateNode(ctx, item, f);
  const target = readString(ctx, f.get('target'));
  const hard = readBool(ctx, f.get('hard'));
  required(ctx, target, f.get('target') ?? item, 'link target is required');
  if (hard === true) checkHardLinkOwners(ctx, f);
  return compact<IgnitionLink>({ ...node, target, hard })!;
}

/** `contents` or `contents_local` of a unit or drop-in, checked as a unit file. */
function unitContents(
  ctx: Ctx,
  f: Map<string, At>,
): { contents: string | undefined; at: At | undefined; sections: string[] } {
  checkOnlyOne(
    ctx,
    f,
    ['contents', 'contents_local'],
    () => 'only one of the following can be set: contents, contents_local',
  );
  let contents = readString(ctx, f.get('contents'));
  let at = f.get('contents');
  const local = readString(ctx, f.get('contents_local'));
  if (local !== undefined && local !== '') {
    at = f.get('contents_local')!;
    contents = readLocalText(ctx, at, local);
  }
  return { contents, at, sections: checkUnitContents(ctx, at, contents) };
}

function translateDropin(ctx: Ctx, item: At): IgnitionDropin {
  const f = readMap(ctx, item, ['name', 'contents'], {}, {}, { contents_local: 5 });
  const name = readString(ctx, f.get('name'));
  required(ctx, name, f.get('name') ?? item, 'drop-in name is required');
  checkDropinName(ctx, f.get('name')!, name);
  const { contents } = unitContents(ctx, f);
  return compact<IgnitionDropin>({ name, contents })!;
}

function translateUnit(ctx: Ctx, item: At): CheckedUnit {
  const f = readMap(
    ctx,
    item,
    ['name', 'enabled', 'mask', 'contents', 'dropins'],
    {},
    {},
    { contents_local: 5 },
  );
  const name = readString(ctx, f.get('name'));
  required(ctx, name, f.get('name') ?? item, 'unit name is required');
  checkUnitName(ctx, f.get('name')!, name);
  const enabled = readBool(ctx, f.get('enabled'));
  const mask = readBool(ctx, f.get('mask'));
  const { contents, at, sections } = unitContents(ctx, f);
  checkEnabledUnit(ctx, at, { name, enabled, contents, sections });
  const dropins = placeEach(ctx, f.get('dropins'), (d) => translateDropin(ctx, d));
  checkDups(ctx, dropins, (d) => d.value.name, 'drop-in');
  const unit = compact<IgnitionUnit>({
    name,
    enabled,
    mask,
    contents,
    dropins: dropins.map((d) => d.value),
  })!;
  return { unit, contentsAt: at, sections };
}

function translateUser(
  ctx: Ctx,
  item: At,
): { user: IgnitionUser; keys: Array<Placed<string>>; groups: Array<Placed<string>> } {
  const f = readMap(
    ctx,
    item,
    [
      'name',
      'password_hash',
      'ssh_authorized_keys',
      'uid',
      'gecos',
      'home_dir',
      'no_create_home',
      'primary_group',
      'groups',
      'no_user_group',
      'no_log_init',
      'shell',
      'system',
    ],
    {},
    {},
    { should_exist: 3, ssh_authorized_keys_local: 5 },
  );
  const name = readString(ctx, f.get('name'));
  required(ctx, name, f.get('name') ?? item, 'user name is required');
  const keys = readStrings(ctx, f.get('ssh_authorized_keys'));
  const localAt = f.get('ssh_authorized_keys_local');
  const locals = readStrings(ctx, localAt);
  checkKeysLocal(ctx, localAt, locals.length);
  for (const local of locals) {
    const text = readLocalText(ctx, local.at, local.value);
    for (const line of text.split(/\r?\n/)) if (line !== '') keys.push({ value: line, at: local.at });
  }
  const groups = readStrings(ctx, f.get('groups'));
  const user = compact<IgnitionUser>({
    name,
    passwordHash: readString(ctx, f.get('password_hash')),
    sshAuthorizedKeys: keys.map((k) => k.value),
    uid: readInt(ctx, f.get('uid')),
    gecos: readString(ctx, f.get('gecos')),
    homeDir: readString(ctx, f.get('home_dir')),
    noCreateHome: readBool(ctx, f.get('no_create_home')),
    primaryGroup: readString(ctx, f.get('primary_group')),
    groups: groups.map((g) => g.value),
    noUserGroup: readBool(ctx, f.get('no_user_group')),
    noLogInit: readBool(ctx, f.get('no_log_init')),
    shell: readString(ctx, f.get('shell')),
    system: readBool(ctx, f.get('system')),
    shouldExist: readBool(ctx, f.get('should_exist')),
  })!;
  return { user, keys, groups };
}

function translateGroup(ctx: Ctx, item: At): IgnitionGroup {
  const f = readMap(ctx, item, ['name', 'gid', 'password_hash', 'system'], {}, {}, { should_exist: 3 });
  const name = readString(ctx, f.get('name'));
  required(ctx, name, f.get('name') ?? item, 'group name is required');
  return compact<IgnitionGroup>({
    name,
    gid: readInt(ctx, f.get('gid')),
    passwordHash: readString(ctx, f.get('password_hash')),
    system: readBool(ctx, f.get('system')),
    shouldExist: readBool(ctx, f.get('should_exist')),
  })!;
}

function translateIgnition(ctx: Ctx, at: At | undefined): IgnitionMeta {
  const f = readMap(ctx, at, ['config', 'timeouts', 'security'], {}, ignitionRefused(ctx), { proxy: 2 });
  const config = readMap(ctx, f.get('config'), ['merge', 'replace']);
  const merge = placeEach(ctx, config.get('merge'), (m) => translateResource(ctx, m, 'merge') ?? {});
  checkDups(ctx, merge, (m) => m.value.source ?? '', 'merged config source');
  const replace = config.has('replace')
    ? translateResource(ctx, config.get('replace')!, 'replace')
    : undefined;
  const timeouts = readMap(ctx, f.get('timeouts'), ['http_response_headers', 'http_total']);
  const security = readMap(ctx, f.get('security'), ['tls']);
  const tls = readMap(ctx, security.get('tls'), ['certificate_authorities']);
  const cas = placeEach(
    ctx,
    tls.get('certificate_authorities'),
    (c) => translateResource(ctx, c, 'ca') ?? {},
  );
  checkDups(ctx, cas, (c) => c.value.source ?? '', 'certificate authority source');
  const proxy = readMap(ctx, f.get('proxy'), ['http_proxy', 'https_proxy', 'no_proxy']);
  const httpProxy = readString(ctx, proxy.get('http_proxy'));
  const httpsProxy = readString(ctx, proxy.get('https_proxy'));
  checkProxyUrl(ctx, proxy.get('http_proxy'), httpProxy, false);
  checkProxyUrl(ctx, proxy.get('https_proxy'), httpsProxy, true);
  const noProxy = readStrings(ctx, proxy.get('no_proxy'));
  checkDups(ctx, noProxy, (n) => n.value, 'no_proxy entry');
  return compact<IgnitionMeta>({
    version: IGNITION_VERSION,
    config: compact({ merge: merge.map((m) => m.value), replace }),
    timeouts: compact({
      httpResponseHeaders: readInt(ctx, timeouts.get('http_response_headers')),
      httpTotal: readInt(ctx, timeouts.get('http_total')),
    }),
    security: compact({ tls: compact({ certificateAuthorities: cas.map((c) => c.value) }) }),
    proxy: compact({ httpProxy, httpsProxy, noProxy: noProxy.map((n) => n.value) }),
  })!;
}

/**
 * Translates a Butane config (a variant and version of {@link BUTANE_SPECS}, such as
 * `variant: fcos`, `version: 1.5.0`) to an Ignition 3.4.0 config, as
 * `butane --strict --files-dir <filesDir>` v0.25.1 does, followed by Ignition's upgrade of older
 * specs to 3.4.0. Throws an {@link IgnitionError} with the
 * source, line, column and path of the first problem: `OCNE_IGNITION_INVALID` for YAML, type,
 * unknown-key and validation errors, `OCNE_BUTANE_UNSUPPORTED` for Butane fields, variants and
 * versions outside the supported subset, `OCNE_IGNITION_READ_FAILED` for local files that cannot
 * be read or lie outside `filesDir`.
 */
export function translateButane(text: string, options: ButaneOptions): IgnitionConfig {
  const { ctx, root } = readButane(text, options);
  const f = readMap(
    ctx,
    root,
    ['variant', 'version', 'ignition', 'storage', 'systemd', 'passwd'],
    rootUnsupported(ctx),
    {},
    { kernel_arguments: 4 },
  );
  checkVariantRefused(ctx, f, '');
  const ignition = translateIgnition(ctx, f.get('ignition'));

  const storage = readMap(
    ctx,
    f.get('storage'),
    ['files', 'directories', 'links', ...variantRefused(ctx, 'storage')],
    storageUnsupported(ctx),
    {},
    { trees: 2, luks: 3 },
  );
  checkVariantRefused(ctx, storage, 'storage');
  const files = placeEach(ctx, storage.get('files'), (at) => translateFile(ctx, at));
  const directories = placeEach(ctx, storage.get('directories'), (at) => translateDirectory(ctx, at));
  const links = placeEach(ctx, storage.get('links'), (at) => translateLink(ctx, at));

  const systemd = readMap(ctx, f.get('systemd'), ['units']);
  const units = readList(ctx, systemd.get('units')).map((at) => ({ at, ...translateUnit(ctx, at) }));
  checkDups(ctx, units, (u) => u.unit.name, 'unit');
  checkInstanceUnits(ctx, units);
  checkStorage(ctx, { directories, files, links }, units);

  const passwd = readMap(ctx, f.get('passwd'), ['users', 'groups']);
  const users = readList(ctx, passwd.get('users')).map((at) => ({ at, ...translateUser(ctx, at) }));
  checkDups(ctx, users, (u) => u.user.name, 'user');
  for (const u of users) {
    checkDups(ctx, u.keys, (k) => k.value, 'SSH key');
    checkDups(ctx, u.groups, (g) => g.value, 'group');
  }
  const groups = placeEach(ctx, passwd.get('groups'), (at) => translateGroup(ctx, at));
  checkDups(ctx, groups, (g) => g.value.name, 'group');

  const kargs = readMap(ctx, f.get('kernel_arguments'), ['should_exist', 'should_not_exist']);
  const shouldExist = readStrings(ctx, kargs.get('should_exist'));
  const shouldNotExist = readStrings(ctx, kargs.get('should_not_exist'));
  checkDups(ctx, [...shouldExist, ...shouldNotExist], (k) => k.value, 'kernel argument');

  const config: IgnitionConfig = { ignition };
  const storageOut = compact({
    files: files.map((x) => x.value),
    directories: directories.map((x) => x.value),
    links: links.map((x) => x.value),
  });
  if (storageOut !== undefined) config.storage = storageOut;
  const systemdOut = compact({ units: units.map((u) => u.unit) });
  if (systemdOut !== undefined) config.systemd = systemdOut;
  const passwdOut = compact({ users: users.map((u) => u.user), groups: groups.map((g) => g.value) });
  if (passwdOut !== undefined) config.passwd = passwdOut;
  const kargsOut = compact({
    shouldExist: shouldExist.map((k) => k.value),
    shouldNotExist: shouldNotExist.map((k) => k.value),
  });
  if (kargsOut !== undefined) config.kernelArguments = kargsOut;
  return config;
}
