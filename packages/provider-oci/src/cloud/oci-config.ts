/**
 * The one reader of the OCI configuration file (`$OCI_CONFIG_FILE`, else `~/.oci/config`) and the
 * key file a profile names. The session signs requests with what it returns and the start hands
 * the same values to the Cluster API and oci-ccm credentials, so both always use one profile read
 * one way: the OCI SDKs' (a key falls back to `[DEFAULT]`'s, `key=value` splits at the first `=`,
 * `~/` in `key_file` is the home), with both spellings of the passphrase (`pass_phrase`, the SDKs';
 * `passphrase`, upstream's own parser's).
 *
 * The files are the user's, so they are read defensively: only regular files, at most a few
 * hundred KiB, valid UTF-8 text; profile names are never object keys (`[__proto__]` is just a
 * name); values never appear in errors (they may be secrets), line numbers and key names do.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { OcneError } from '@ocne/core';

/** The largest configuration file read (real ones are well under 10 KiB). */
export const OCI_CONFIG_MAX_BYTES: number = 256 * 1024;
/** The largest key file read (an encrypted 8192-bit RSA key is about 7 KiB). */
const KEY_MAX_BYTES = 64 * 1024;

/** Where to find the configuration file. */
export interface OciConfigLocation {
  /** The file itself. @defaultValue `$OCI_CONFIG_FILE`, else `<home>/.oci/config` */
  readonly configFile?: string | undefined;
  /** The home (`~`). @defaultValue `$HOME`, else the user's home */
  readonly home?: string | undefined;
  /** Read for `OCI_CONFIG_FILE` and `HOME`. @defaultValue `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** One profile of the OCI configuration, with its key file read. */
export interface OciConfigProfile {
  /** The configuration file read. */
  readonly file: string;
  /** The profile's name. */
  readonly profile: string;
  /** The tenancy OCID (`tenancy`). */
  readonly tenancy: string;
  /** The user OCID (`user`). */
  readonly user: string;
  /** The API key's fingerprint (`fingerprint`). */
  readonly fingerprint: string;
  /** The region id (`region`), empty when absent. */
  readonly region: string;
  /** The `key_file` entry as written (empty when absent). */
  readonly keyFile: string;
  /** The key file's text (PEM), empty when there is no `key_file`. */
  readonly key: string;
  /** `pass_phrase` (or `passphrase`), when set. */
  readonly passphrase?: string;
}

const invalid = (message: string, cause?: unknown): OcneError =>
  new OcneError('OCNE_OCI_CONFIG_INVALID', message, cause === undefined ? {} : { cause });

/** The configuration file's path for a location. */
export function ociConfigPath(location: OciConfigLocation = {}): string {
  const env = location.env ?? process.env;
  return (
    location.configFile ||
    env.OCI_CONFIG_FILE ||
    join(location.home ?? env.HOME ?? homedir(), '.oci', 'config')
  );
}

/**
 * A small text file: refused when it is not a regular file (a FIFO or a device would block or
 * never end), larger than `max`, or not UTF-8 text.
 */
async function readSmallText(path: string, what: string, max: number, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer, for ever.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw invalid(`cannot read ${what} ${path}: ${(error as Error).message}`, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw invalid(`${what} ${path} is not a regular file`);
    if (info.size > max)
      throw invalid(`${what} ${path} is ${info.size} bytes; more than ${max} is not an OCI file`);
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    while (length <= max) {
      const { bytesRead } = await handle.read(buffer, length, max + 1 - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) throw invalid(`${what} ${path} grew past ${max} bytes while it was read`);
    const bytes = buffer.subarray(0, length);
    if (bytes.includes(0)) throw invalid(`${what} ${path} is binary (it holds NUL bytes), not text`);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch (error) {
      throw invalid(`${what} ${path} is not UTF-8 text`, error);
    }
  } finally {
    await handle.close();
  }
}

/** The profiles of a configuration file's text, by name (pure). */
export function parseOciConfig(text: string, file: string): Map<string, Map<string, string>> {
  const profiles = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const [index, raw] of text.split(/\r\n|\n|\r/).entries()) {
    const line = raw.trim();
    const where = `${file}:${index + 1}`;
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw invalid(`${where}: a profile line must end with "]"`);
      const name = line.slice(1, -1).trim();
      if (name === '') throw invalid(`${where}: a profile needs a name`);
      current = profiles.get(name) ?? new Map();
      profiles.set(name, current);
      continue;
    }
    const equals = line.indexOf('=');
    if (equals <= 0) throw invalid(`${where}: expected key=value or [PROFILE]`);
    if (current === undefined) throw invalid(`${where}: a key=value line before any [PROFILE] line`);
    current.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return profiles;
}

/** Options of {@link readOciProfile}. */
export interface ReadOciProfileOptions extends OciConfigLocation {
  /** The profile. @defaultValue `DEFAULT` */
  readonly profile?: string;
  /** Stops the reading. */
  readonly signal?: AbortSignal;
}

/** Reads a profile of the OCI configuration and its key file. */
export async function readOciProfile(options: ReadOciProfileOptions = {}): Promise<OciConfigProfile> {
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  const file = ociConfigPath(options);
  const profile = options.profile || 'DEFAULT';
  const profiles = parseOciConfig(
    await readSmallText(file, 'the OCI configuration file', OCI_CONFIG_MAX_BYTES, options.signal),
    file,
  );
  const own = profiles.get(profile);
  if (own === undefined) {
    // Upstream's words.
    throw invalid(`no ${profile} section found in OCI configuration file ${file}`);
  }
  const fallback = profiles.get('DEFAULT');
  const get = (key: string): string => own.get(key) ?? fallback?.get(key) ?? '';
  const keyFile = get('key_file');
  let key = '';
  if (keyFile !== '') {
    const path = keyFile.startsWith('~/') ? join(home, keyFile.slice(2)) : keyFile;
    if (!isAbsolute(path)) {
      throw invalid(`key_file of profile ${profile} in ${file} is not an absolute path (or ~/…)`);
    }
    key = await readSmallText(path, `the key file of profile ${profile}`, KEY_MAX_BYTES, options.signal);
  }
  const passphrase = get('pass_phrase') || get('passphrase');
  return {
    file,
    profile,
    tenancy: get('tenancy'),
    user: get('user'),
    fingerprint: get('fingerprint'),
    region: get('region'),
    keyFile,
    key,
    ...(passphrase === '' ? {} : { passphrase }),
  };
}
