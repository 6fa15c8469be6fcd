/**
 * Registry credentials, found where containers/image and docker look for them, and the
 * `WWW-Authenticate` challenges that say how to use them. Files are read in containers' order:
 * `$REGISTRY_AUTH_FILE` (else `$XDG_RUNTIME_DIR/containers/auth.json`), then
 * `$XDG_CONFIG_HOME/containers/auth.json` (else `~/.config/containers/auth.json`), then
 * `~/.docker/config.json`; in each, the most specific key wins (`host/repo/path`, …, `host`), and
 * keys written as URLs (`https://index.docker.io/v1/`) count for their host. Credential helpers
 * (`credHelpers`, `credsStore`) are not run: pass credentials in instead.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { OcneError } from '@ocne/core';

/** A user name and password (or token) for a registry. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Where the credentials of a registry are looked up. */
export interface CredentialLookup {
  /** Environment (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home folder of `~/.docker/config.json` and `~/.config`. */
  readonly home?: string;
}

/** The auth files to read, in order. */
export function authFiles(lookup: CredentialLookup): string[] {
  const env = lookup.env ?? {};
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  else if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers/auth.json'));
  if (env.XDG_CONFIG_HOME) files.push(join(env.XDG_CONFIG_HOME, 'containers/auth.json'));
  else if (lookup.home) files.push(join(lookup.home, '.config/containers/auth.json'));
  if (lookup.home) files.push(join(lookup.home, '.docker/config.json'));
  return files;
}

/** The key of an auths entry without scheme and path of a URL form (`https://host/v1/` → `host`). */
function normalizeKey(key: string): string {
  const m = /^https?:\/\/([^/]+)(\/v[12]\/?)?\/?$/.exec(key);
  if (m) return m[1] === 'index.docker.io' ? 'docker.io' : m[1]!;
  return key;
}

// Auth files hold a few entries; a larger one is not an auth file (and is not read whole).
const AUTH_FILE_LIMIT = 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
// Credentials go into an HTTP header: control characters there would be refused, or worse.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A key or file name for a message: clipped and with control characters escaped. */
function shown(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/** The credentials of one auths entry, or undefined when it has none. */
function entryCredentials(file: string, key: string, entry: unknown): RegistryCredentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const auth = (entry as { auth?: unknown }).auth;
  if (typeof auth !== 'string' || auth === '') return undefined;
  const invalid = () =>
    new OcneError(
      'OCNE_REGISTRY_AUTH_FAILED',
      `${file}: the "auth" of ${shown(key)} is not base64 of "user:password"`,
    );
  // Buffer.from(…, 'base64') skips what is not base64: check first, or garbage becomes a password.
  if (!BASE64.test(auth)) throw invalid();
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || CONTROL.test(decoded) || decoded.includes('\ufffd')) throw invalid();
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** An auth file's text, or undefined when there is none; a file too large is refused unread. */
async function readAuthFile(file: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const buffer = Buffer.alloc(AUTH_FILE_LIMIT + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, size, buffer.length - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > AUTH_FILE_LIMIT) {
        throw new OcneError(
          'OCNE_REGISTRY_AUTH_FAILED',
          `${file} is larger than ${AUTH_FILE_LIMIT} bytes: not a registry auth file`,
        );
      }
    }
    return buffer.subarray(0, size).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The credentials for `registry` (and `repository`, for repository-scoped entries) from the
 * first auth file that has an entry for it, or undefined (anonymous).
 */
export async function findCredentials(
  registry: string,
  repository: string,
  lookup: CredentialLookup,
): Promise<RegistryCredentials | undefined> {
  // Most specific first: host/a/b/c, host/a/b, host/a, host.
  const parts = repository.split('/');
  const keys = parts.map((_, i) => `${registry}/${parts.slice(0, parts.length - i).join('/')}`);
  keys.push(registry);
  for (const file of authFiles(lookup)) {
    const text = await readAuthFile(file);
    if (text === undefined) continue;
    let auths: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      const found =
        typeof parsed === 'object' && parsed !== null ? (parsed as { auths?: unknown }).auths : undefined;
      auths =
        typeof found === 'object' && found !== null && !Array.isArray(found)
          ? (found as Record<string, unknown>)
          : {};
    } catch (error) {
      throw new OcneError(
        'OCNE_REGISTRY_AUTH_FAILED',
        // The parser quotes the bytes it stopped at: escaped, so a binary file prints nothing raw.
        `${file} is not valid JSON: ${JSON.stringify((error as Error).message.slice(0, 200))}`,
        {
          cause: error,
        },
      );
    }
    const normalized = new Map<string, [string, unknown]>();
    for (const [key, entry] of Object.entries(auths)) normalized.set(normalizeKey(key), [key, entry]);
    for (const key of keys) {
      const found = normalized.get(key);
      if (found) {
        const credentials = entryCredentials(file, found[0], found[1]);
        if (credentials) return credentials;
      }
    }
  }
  return undefined;
}

/** One `WWW-Authenticate` challenge. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (and `Basic realm="…"`); the first challenge only. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const text = m[2]!;
  re.lastIndex = 0;
  for (let p = re.exec(text); p !== null; p = re.exec(text)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    if (re.lastIndex >= text.length) break;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}
