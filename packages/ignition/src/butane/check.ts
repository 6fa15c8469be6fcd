/**
 * Checks on a Butane document: the Butane fields outside the supported subset, and what Butane
 * (`base/v0_<n>/validate.go` and the variants' field filters, with `--strict`) and Ignition's
 * validator (ignition v2.23.0 `config/v3_4/types`) refuse in the subset. Every spec gets Ignition
 * 3.4's checks, since 3.4 is what the node gets; an older spec adds what its own Ignition refuses
 * (URL schemes it lacks, sha256 in 3.0). Each check fails with an {@link IgnitionError}
 * pointing at the offending field; translation calls them in the order Butane reports problems,
 * so the first problem of a document is the one reported.
 */
import { decodeDataUrl } from '../data-url.js';
import { IgnitionError } from '../errors.js';
import { formatPath, parseIgnition } from '../parse.js';
import type {
  IgnitionDirectory,
  IgnitionFile,
  IgnitionLink,
  IgnitionResource,
  IgnitionUnit,
} from '../spec.js';
import {
  type At,
  BUTANE_SPECS,
  type Ctx,
  fail,
  isEmpty,
  isSet,
  type Placed,
  readMap,
  type Unsupported,
  type YamlPath,
} from './read.js';

// ---------------------------------------------------------------------------------------------
// What the subset leaves out.

/** Top-level Butane fields outside the subset, in the document's spec (they are unknown in older ones). */
export function rootUnsupported(ctx: Ctx): Unsupported {
  const fcos = Object.keys(BUTANE_SPECS.fcos ?? {});
  const since = (version: string) =>
    ctx.spec.variant === 'fcos' && fcos.indexOf(ctx.spec.version) >= fcos.indexOf(version);
  return {
    ...(since('1.3.0')
      ? { boot_device: 'boot disk encryption and mirroring are outside the Butane subset the SDK translates' }
      : {}),
    ...(since('1.5.0') ? { grub: 'GRUB users are outside the Butane subset the SDK translates' } : {}),
  };
}

/** `storage` fields outside the subset, in the document's spec. */
export function storageUnsupported(ctx: Ctx): Unsupported {
  const { base } = ctx.spec;
  const unsupported: Unsupported = {
    disks: 'partitioning is outside the Butane subset the SDK translates; use an Ignition config for it',
    raid: 'RAID is outside the Butane subset the SDK translates; use an Ignition config for it',
    filesystems:
      'filesystems are outside the Butane subset the SDK translates; use an Ignition config for it',
    ...(base >= 3
      ? { luks: 'LUKS is outside the Butane subset the SDK translates; use an Ignition config for it' }
      : {}),
    ...(base >= 2
      ? { trees: 'local trees are not supported; list the files under storage.files with contents.local' }
      : {}),
  };
  // What the variant refuses itself is refused as Butane does it (checkVariantRefused).
  for (const name of variantRefused(ctx, 'storage')) delete unsupported[name];
  return unsupported;
}

/** `ignition` fields Butane refuses. */
export function ignitionRefused(ctx: Ctx): Record<string, string> {
  const { variant, version, ignition } = ctx.spec;
  return {
    version: `ignition.version is not allowed in Butane: ${variant} ${version} makes Ignition ${ignition}`,
  };
}

/**
 * Fields a variant's Butane refuses once they hold anything (its field filters): RHEL for Edge and
 * Fedora IoT manage kernel arguments and disks otherwise. By section: `''` is the top level.
 */
const VARIANT_REFUSED: Record<string, Record<string, readonly string[]>> = {
  r4e: { '': ['kernel_arguments'], storage: ['disks', 'filesystems', 'luks', 'raid'] },
  fiot: { '': ['kernel_arguments'], storage: ['disks', 'filesystems', 'luks', 'raid'] },
};

/** The fields of a section that the document's variant refuses (read, then {@link checkVariantRefused}). */
export function variantRefused(ctx: Ctx, section: '' | 'storage'): readonly string[] {
  return VARIANT_REFUSED[ctx.spec.variant]?.[section] ?? [];
}

/** Fails at the value of a field the variant refuses, when it holds anything, as Butane does. */
export function checkVariantRefused(ctx: Ctx, f: Map<string, At>, section: '' | 'storage'): void {
  for (const name of variantRefused(ctx, section)) {
    const at = f.get(name);
    if (at !== undefined && !isEmpty(ctx, at.node)) {
      const { variant, version } = ctx.spec;
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        at,
        `${formatPath(at.path)} is not supported by Butane ${variant} ${version}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks on single fields.

/** Rejects the second entry with the same key, as Ignition's `ValidateDups` does. */
export function checkDups<T extends { at: At }>(
  ctx: Ctx,
  entries: readonly T[],
  keyOf: (entry: T) => string,
  what: string,
): void {
  const seen = new Map<string, YamlPath>();
  for (const entry of entries) {
    const key = keyOf(entry);
    const first = seen.get(key);
    if (first !== undefined) {
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        entry.at,
        `duplicate ${what} ${JSON.stringify(key)} (also at ${formatPath(first)})`,
      );
    }
    seen.set(key, entry.at.path);
  }
}

/** Fails at the last of `keys` that is set when more than one is; `message` gets the set ones. */
export function checkOnlyOne(
  ctx: Ctx,
  f: Map<string, At>,
  keys: readonly string[],
  message: (given: string[]) => string,
): void {
  const given = keys.filter((k) => isSet(ctx, f, k));
  if (given.length > 1) fail(ctx, 'OCNE_IGNITION_INVALID', f.get(given[given.length - 1]!)!, message(given));
}

/** Go's `path.Ext`. */
function goExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

/** A file, directory or link path: required, absolute and clean. */
export function checkNodePath(ctx: Ctx, at: At, path: string | undefined): string {
  if (path === undefined || path === '') fail(ctx, 'OCNE_IGNITION_INVALID', at, 'path is required');
  if (!path.startsWith('/'))
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `path ${JSON.stringify(path)} is not absolute`);
  const dirty =
    path !== '/' &&
    (path.endsWith('/') || path.includes('//') || path.split('/').some((s) => s === '.' || s === '..'));
  if (dirty) fail(ctx, 'OCNE_IGNITION_INVALID', at, `path ${JSON.stringify(path)} is not fully simplified`);
  return path;
}

/** Go's `url.Parse` scheme, lower-cased, or an error message when the URL does not parse. */
function urlScheme(url: string): { scheme: string } | { error: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects control characters in URLs
  if (/[\u0000-\u001f\u007f]/.test(url)) return { error: 'it contains a control character' };
  let scheme = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c) && i > 0) continue;
    if (c === ':') {
      if (i === 0) return { error: 'it has no scheme' };
      scheme = url.slice(0, i).toLowerCase();
    }
    break;
  }
  const withoutQuery = url.replace(/\?[^#]*/, '');
  if (/%(?![0-9a-fA-F]{2})/.test(withoutQuery)) return { error: 'it has an invalid %-escape' };
  return { scheme };
}

/** URL schemes Ignition added after 3.0, with the Butane base spec (and Ignition) that has them. */
const SCHEME_SINCE: Record<string, { base: number; ignition: string }> = {
  gs: { base: 3, ignition: '3.2.0' },
  arn: { base: 5, ignition: '3.4.0' },
};

/**
 * A resource's `source` URL: a scheme Ignition fetches, well formed for that scheme. The checks are
 * Ignition 3.4's in every spec (an empty S3 `versionId`, which 3.0 to 3.3 let through, breaks the
 * 3.4 config the node gets), plus the schemes an older spec does not have.
 */
export function checkSourceUrl(ctx: Ctx, at: At, url: string): void {
  const parsed = urlScheme(url);
  if ('error' in parsed)
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `source ${JSON.stringify(url)} is not a valid URL: ${parsed.error}`,
    );
  const withoutQuery = url.split(/[?#]/)[0]!;
  // Schemes that Ignition learned later: butane refuses them in the older specs.
  const since = SCHEME_SINCE[parsed.scheme];
  if (since !== undefined && ctx.spec.base < since.base) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `source ${JSON.stringify(url)}: Ignition ${ctx.spec.ignition} (Butane ${ctx.spec.variant} ${ctx.spec.version}) has no ${parsed.scheme} URLs; Ignition ${since.ignition} and later do`,
    );
  }
  switch (parsed.scheme) {
    case 'http':
    case 'https':
    case 'tftp':
    case 'gs':
      return;
    case 's3':
    case 'arn': {
      if (/[?&]versionId=(&|#|$)/.test(url))
        fail(ctx, 'OCNE_IGNITION_INVALID', at, 'invalid S3 object VersionId (empty)');
      if (parsed.scheme === 'arn') {
        const sections = withoutQuery.split(':');
        const resource = sections.slice(5).join(':');
        const parts = withoutQuery.split('/').length;
        if (
          sections.length < 6 ||
          sections[2] !== 's3' ||
          parts < (resource.startsWith('accesspoint/') ? 3 : 2)
        ) {
          fail(ctx, 'OCNE_IGNITION_INVALID', at, `source ${JSON.stringify(url)} is not an S3 object ARN`);
        }
      }
      return;
    }
    case 'data':
      try {
        decodeDataUrl(url);
      } catch (e) {
        fail(ctx, 'OCNE_IGNITION_INVALID', at, `source is not a valid data URL: ${(e as Error).message}`, e);
      }
      return;
    default:
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        at,
        `source ${JSON.stringify(url)} has an unsupported URL scheme (expected http, https, tftp, s3, arn, gs or data)`,
      );
  }
}

/** A proxy URL: http or https, and not plain HTTP for HTTPS resources. */
export function checkProxyUrl(
  ctx: Ctx,
  at: At | undefined,
  url: string | undefined,
  httpsProxy: boolean,
): void {
  if (at === undefined || url === undefined) return;
  const parsed = urlScheme(url);
  if ('error' in parsed)
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `proxy ${JSON.stringify(url)} is not a valid URL: ${parsed.error}`,
    );
  if (parsed.scheme !== 'http' && parsed.scheme !== 'https') {
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `proxy ${JSON.stringify(url)} must be an http:// or https:// URL`);
  }
  if (httpsProxy && parsed.scheme === 'http') {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `insecure plaintext HTTP proxy ${JSON.stringify(url)} for HTTPS resources`,
    );
  }
}

const HASH_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

function checkHash(ctx: Ctx, at: At, hash: string): void {
  const dash = hash.indexOf('-');
  if (dash < 0)
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `malformed hash ${JSON.stringify(hash)}: expected sha256-<hex> or sha512-<hex>`,
    );
  const fn = hash.slice(0, dash);
  // Ignition 3.0 (Butane base 1) verifies sha512 only.
  const expected = ctx.spec.base === 1 && fn === 'sha256' ? undefined : HASH_HEX_LENGTH[fn];
  if (expected === undefined)
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `unrecognized hash function ${JSON.stringify(fn)}: expected ${ctx.spec.base === 1 ? 'sha512 (Ignition 3.0)' : 'sha256 or sha512'}`,
    );
  if (hash.length - dash - 1 !== expected) {
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `incorrect size for a ${fn} sum: expected ${expected} hex digits`);
  }
}

/** An HTTP header of a resource: a name, and a value that is absent or not empty. */
export function checkHeader(
  ctx: Ctx,
  item: At,
  h: Map<string, At>,
  name: string,
  value: string | undefined,
): void {
  if (name === '')
    fail(ctx, 'OCNE_IGNITION_INVALID', h.get('name') ?? item, 'HTTP header name can not be empty');
  if (value === '')
    fail(ctx, 'OCNE_IGNITION_INVALID', h.get('value')!, `HTTP header ${name} has an empty value`);
}

/** A resource's `compression`: gzip or nothing. */
export function checkCompression(ctx: Ctx, at: At | undefined, compression: string | undefined): void {
  if (compression !== undefined && compression !== '' && compression !== 'gzip') {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at!,
      `invalid compression ${JSON.stringify(compression)}: expected "gzip" or ""`,
    );
  }
}

/**
 * What a resource's final `source` (a data URL for inline and local contents) must allow: a
 * hash needs a source, HTTP headers an http(s) one, and merged configs and CAs any source.
 */
export function checkResourceSource(
  ctx: Ctx,
  at: At,
  resource: {
    source: string | undefined;
    sourceRequired: boolean;
    hash: string | undefined;
    hashAt: At | undefined;
    headers: ReadonlyArray<Placed<{ name: string }>>;
    headersAt: At | undefined;
  },
): void {
  const { source, hash, headers } = resource;
  if (hash !== undefined) {
    if (source === undefined)
      fail(ctx, 'OCNE_IGNITION_INVALID', resource.hashAt!, 'verification needs a source');
    checkHash(ctx, resource.hashAt!, hash);
  }
  if (headers.length > 0) {
    const headersAt = resource.headersAt!;
    const scheme = source === undefined || source === '' ? undefined : urlScheme(source);
    if (scheme === undefined || 'error' in scheme)
      fail(ctx, 'OCNE_IGNITION_INVALID', headersAt, 'HTTP headers need an http or https source');
    if (scheme.scheme !== 'http' && scheme.scheme !== 'https') {
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        headersAt,
        `HTTP headers can not be used with a ${scheme.scheme} source`,
      );
    }
    checkDups(ctx, headers, (h) => h.value.name, 'HTTP header');
  }
  if (resource.sourceRequired && (source === undefined || source === '')) {
    fail(ctx, 'OCNE_IGNITION_INVALID', at, 'source is required: set source, inline or local');
  }
}

const utf8 = new TextDecoder();

/**
 * Checks inline or local contents of `ignition.config` as an Ignition config: it must be valid
 * (reported at `at`). Inline text must also be of the Ignition version the document makes, as
 * Butane checks it (reported at `resourceAt`, the merge or replace entry); Butane never checks
 * local files (their path does not start with `$.ignition.config` where it looks), and Ignition
 * merges any version up to its own, so a local file may be of any version the SDK reads.
 */
export function checkIgnitionConfig(ctx: Ctx, at: At, resourceAt: At | undefined, bytes: Uint8Array): void {
  const text = utf8.decode(bytes);
  try {
    const version = (JSON.parse(text) as { ignition?: { version?: unknown } } | null)?.ignition?.version;
    if (resourceAt !== undefined && typeof version === 'string' && version !== ctx.spec.ignition) {
      const { variant, version: butane, ignition } = ctx.spec;
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        resourceAt,
        `the config to merge is Ignition ${version}: Butane ${variant} ${butane} takes Ignition ${ignition} configs only`,
      );
    }
    parseIgnition(text, { source: `${ctx.source}: ${formatPath(at.path)}` });
  } catch (e) {
    if (e instanceof IgnitionError && e.source === ctx.source) throw e;
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `not a valid Ignition config: ${(e as Error).message}`, e);
  }
}

/** An owner is an id or a name, not both. */
export function checkOwner(ctx: Ctx, at: At, id: number | undefined, name: string | undefined): void {
  if (id !== undefined && name !== undefined && name !== '')
    fail(ctx, 'OCNE_IGNITION_INVALID', at, 'cannot set both id and name');
}

// butane base/util CheckForDecimalMode.
function decimalModeToOctal(mode: number): number | undefined {
  if (mode < 0 || mode > 7777) return undefined;
  let out = 0;
  for (let divisor = 1000; divisor > 0; divisor = Math.floor(divisor / 10)) {
    const digit = Math.floor(mode / divisor) % 10;
    if (digit > 7) return undefined;
    out = out * 8 + digit;
  }
  return out;
}

function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  let hadR = false;
  let hadW = false;
  let hadX = false;
  for (const perm of [mode & 0o7, (mode & 0o70) >> 3, (mode & 0o700) >> 6]) {
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    if (x && hadR && !hadX) return false;
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX) return false;
    if ((mode & 0o4000) !== 0) return false;
    if ((mode & 0o3000) !== 0 && !hadW) return false;
  } else {
    if ((mode & 0o6000) !== 0) {
      if (!hadX) return false;
      if ((mode & 2) !== 0) return false;
    }
    if ((mode & 0o1000) !== 0) return false;
  }
  return true;
}

/**
 * A file or directory mode: in range, not a decimal number that was meant as octal (Butane's
 * `--strict` check), and without the special bits Ignition 3.4.0 cannot set.
 */
export function checkMode(ctx: Ctx, at: At | undefined, mode: number | undefined, directory: boolean): void {
  if (mode === undefined || at === undefined) return;
  const octal = `0o${mode.toString(8)}`;
  if (mode < 0 || mode > 0o7777)
    fail(ctx, 'OCNE_IGNITION_INVALID', at, `illegal mode ${mode} (${octal}): expected 0 to 0o7777`);
  const corrected = decimalModeToOctal(mode);
  if (corrected !== undefined && !isTypicalMode(mode, directory) && isTypicalMode(corrected, directory)) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `mode ${mode} is ${octal} in octal, which is unreasonable; write 0${mode} for 0o${corrected.toString(8)} (remember the leading zero)`,
    );
  }
  if ((mode & 0o7000) !== 0) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `mode ${octal} has setuid/setgid/sticky bits, which Ignition 3.4.0 does not support`,
    );
  }
}

/** `overwrite: true` needs contents to overwrite with. */
export function checkOverwrite(
  ctx: Ctx,
  f: Map<string, At>,
  overwrite: boolean | null | undefined,
  contents: IgnitionResource | undefined,
): void {
  if (overwrite === true && (contents?.source === undefined || contents.source === null)) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      f.get('overwrite')!,
      'overwrite must be false if contents has no source, inline or local',
    );
  }
}

/** A hard link has no owner of its own, so setting one is refused. */
export function checkHardLinkOwners(ctx: Ctx, f: Map<string, At>): void {
  for (const owner of ['user', 'group'] as const) {
    const o = readMap(ctx, f.get(owner), ['id', 'name']);
    for (const k of ['id', 'name']) {
      if (isSet(ctx, o, k))
        fail(ctx, 'OCNE_IGNITION_INVALID', o.get(k)!, `${owner} is ignored for a hard link`);
    }
  }
}

const UNIT_EXTENSIONS = [
  '.service',
  '.socket',
  '.device',
  '.mount',
  '.automount',
  '.swap',
  '.target',
  '.path',
  '.timer',
  '.snapshot',
  '.slice',
  '.scope',
];

/** A unit name ends in a unit type. */
export function checkUnitName(ctx: Ctx, at: At, name: string): void {
  if (!UNIT_EXTENSIONS.includes(goExt(name))) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `invalid systemd unit name ${JSON.stringify(name)}: expected a unit type suffix such as .service`,
    );
  }
}

/** A drop-in name ends in `.conf`. */
export function checkDropinName(ctx: Ctx, at: At, name: string): void {
  if (goExt(name) !== '.conf') {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at,
      `invalid systemd drop-in name ${JSON.stringify(name)}: expected a .conf suffix`,
    );
  }
}

/** Unit or drop-in contents that systemd can read; returns the section of every option. */
export function checkUnitContents(ctx: Ctx, at: At | undefined, contents: string | undefined): string[] {
  if (contents === undefined) return [];
  const parsed = parseUnitContents(contents);
  if ('error' in parsed) fail(ctx, 'OCNE_IGNITION_INVALID', at!, `invalid unit content: ${parsed.error}`);
  return parsed.sections;
}

/** Enabling a unit with contents needs an `[Install]` section in them. */
export function checkEnabledUnit(
  ctx: Ctx,
  at: At | undefined,
  unit: { name: string; enabled: boolean | undefined; contents: string | undefined; sections: string[] },
): void {
  const { name, enabled, contents, sections } = unit;
  if (enabled === true && contents !== undefined && contents !== '' && !sections.includes('Install')) {
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      at!,
      `unit "${name}" is enabled, but has no install section so enable does nothing`,
    );
  }
}

/** `ssh_authorized_keys_local` entries need a files folder to be read from. */
export function checkKeysLocal(ctx: Ctx, at: At | undefined, count: number): void {
  if (count > 0 && ctx.filesDir === undefined) {
    fail(ctx, 'OCNE_IGNITION_READ_FAILED', at!, 'ssh_authorized_keys_local needs a files folder (filesDir)');
  }
}

const encoder = new TextEncoder();

/**
 * go-systemd's unit file lexer, as Ignition uses it to validate unit contents: returns the
 * section of every option, or the error it reports.
 */
export function parseUnitContents(text: string): { sections: string[] } | { error: string } {
  // Lines systemd would truncate (go-systemd checks 2048 bytes ahead without a newline).
  for (const line of text.split(/[\r\n]/)) {
    if (encoder.encode(line).length >= 2048) return { error: 'line too long (max 2048 bytes)' };
  }
  const sections: string[] = [];
  let i = 0;
  const toEol = (): { line: string; eof: boolean } => {
    const nl = text.indexOf('\n', i);
    const end = nl < 0 ? text.length : nl;
    let line = text.slice(i, end);
    i = nl < 0 ? text.length : nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return { line, eof: nl < 0 };
  };
  const ignoreLine = (): void => {
    for (;;) {
      let { line } = toEol();
      if (line.endsWith(' ')) line = line.slice(0, -1);
      if (!line.endsWith('\\')) return;
      if (i >= text.length) return;
    }
  };
  const sectionName = (): string | { error: string } => {
    const end = text.indexOf(']', i);
    if (end < 0) return { error: 'unable to find end of section' };
    const name = text.slice(i, end);
    i = end + 1;
    const garbage = toEol().line.trim();
    if (garbage !== '') return { error: `found garbage after section name : ${JSON.stringify(garbage)}` };
    return name;
  };
  let section: string | undefined;
  while (section === undefined) {
    if (i >= text.length) return { sections };
    const c = text[i++]!;
    if (c === '[') {
      const name = sectionName();
      if (typeof name !== 'string') return name;
      section = name;
    } else if (c === '#' || c === ';') {
      ignoreLine();
    }
  }
  for (;;) {
    if (i >= text.length) return { sections };
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '[') {
      i++;
      const name = sectionName();
      if (typeof name !== 'string') return name;
      section = name;
    } else if (c === '#' || c === ';') {
      i++;
      ignoreLine();
    } else {
      const eq = text.indexOf('=', i);
      const nl = text.slice(i, eq < 0 ? undefined : eq).search(/[\r\n]/);
      if (nl >= 0) return { error: 'unexpected newline encountered while parsing option name' };
      if (eq < 0) return { error: 'EOF' };
      i = eq + 1;
      for (;;) {
        const { line, eof } = toEol();
        if (line.trim() === '' || !line.endsWith('\\') || eof) break;
      }
      sections.push(section);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks across sections (Ignition's Storage and Config validation).

/** A translated unit with what the checks across sections need to know about its contents. */
export interface CheckedUnit {
  unit: IgnitionUnit;
  /** Where `contents` or `contents_local` is, when set. */
  contentsAt: At | undefined;
  /** The section of every option in the contents. */
  sections: string[];
}

/** Paths used once, nothing under a link, hard links not to directories, no clash with units. */
export function checkStorage(
  ctx: Ctx,
  lists: {
    directories: Array<Placed<IgnitionDirectory>>;
    files: Array<Placed<IgnitionFile>>;
    links: Array<Placed<IgnitionLink>>;
  },
  units: readonly CheckedUnit[],
): void {
  const { directories, files, links } = lists;
  const nodes = [
    ...directories.map((d) => ({ ...d, kind: 'directory' })),
    ...files.map((d) => ({ ...d, kind: 'file' })),
    ...links.map((d) => ({ ...d, kind: 'link' })),
  ];
  checkDups(ctx, nodes, (n) => n.value.path, 'path');
  for (const n of nodes) {
    for (const l of links) {
      if (n.value.path.startsWith(`${l.value.path}/`)) {
        fail(
          ctx,
          'OCNE_IGNITION_INVALID',
          n.at,
          `${n.kind} path ${n.value.path} is under ${l.value.path}, a link in this config`,
        );
      }
    }
  }
  for (const l of links) {
    if (l.value.hard !== true) continue;
    const raw = l.value.target!;
    const target = raw.startsWith('/') ? normalizePosix(raw) : normalizePosix(`${l.value.path}/${raw}`);
    if (directories.some((d) => d.value.path === target))
      fail(ctx, 'OCNE_IGNITION_INVALID', l.at, `hard link target ${target} is a directory`);
  }
  const unitPaths = new Set<string>();
  for (const { unit } of units) {
    if (unit.contents != null && unit.contents !== '') unitPaths.add(`/etc/systemd/system/${unit.name}`);
    for (const d of unit.dropins ?? []) {
      if (d.contents != null && d.contents !== '')
        unitPaths.add(`/etc/systemd/system/${unit.name}.d/${d.name}`);
    }
  }
  for (const n of nodes) {
    if (unitPaths.has(n.value.path)) {
      fail(
        ctx,
        'OCNE_IGNITION_INVALID',
        { mark: undefined, path: [...n.at.path, 'path'] },
        `path ${n.value.path} conflicts with a systemd unit or drop-in`,
      );
    }
  }
}

/** Go's `path.Clean` for an absolute path. */
function normalizePosix(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** An enabled instance of a template unit in this config needs the template to have `[Install]`. */
export function checkInstanceUnits(ctx: Ctx, units: readonly CheckedUnit[]): void {
  const byName = new Map(units.map((u) => [u.unit.name, u]));
  units.forEach((u, index) => {
    const m = /^(.+?)@(.+?)\.service$/.exec(u.unit.name);
    if (m === null || u.unit.enabled !== true) return;
    const template = `${m[1]}@.service`;
    const t = byName.get(template);
    if (
      t === undefined ||
      t.unit.contents == null ||
      t.unit.contents === '' ||
      t.sections.includes('Install')
    )
      return;
    fail(
      ctx,
      'OCNE_IGNITION_INVALID',
      u.contentsAt ?? { mark: undefined, path: ['systemd', 'units', index, 'contents'] },
      `template unit "${template}" for "${u.unit.name}" doesn't have Install section`,
    );
  });
}
