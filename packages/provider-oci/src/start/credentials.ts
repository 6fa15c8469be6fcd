/**
 * The API-signing credentials of an OCI profile, read from `<home>/.oci/config` as upstream's
 * hand-written parser reads it (`pkg/util/oci/config.go`): `[PROFILE]` sections of `key=value`
 * lines, `#` comments, and `key_file` read inline. The capoci chart and the oci-ccm Secrets take
 * these values. An empty passphrase is left empty here: `@ocne/capi` puts upstream's placeholder in.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { OciCredentials } from '@ocne/capi';
import { OcneError } from '@ocne/core';
import type { CredentialsPort } from './ports.js';

const fail = (message: string, cause?: unknown): never => {
  throw new OcneError('OCNE_OCI_CREDENTIALS_INVALID', message, cause === undefined ? {} : { cause });
};

/** The sections of an OCI configuration file, by profile name, in upstream's reading (pure). */
export function parseOciConfigFile(text: string, file: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']'))
        fail(`${file}:${index + 1}: ${line} is not a valid OCI configuration file element`);
      current = {};
      sections.set(line.slice(1, -1), current);
      continue;
    }
    const parts = line.split('=');
    if (parts.length !== 2 || current === undefined) {
      fail(`${file}:${index + 1}: this line is not a valid OCI configuration file element`);
    }
    current![parts[0]!.trim()] = parts[1]!.trim();
  }
  return sections;
}

/** The default {@link CredentialsPort}: `<home>/.oci/config`. */
export function fileCredentials(): CredentialsPort {
  return {
    async read({ home, profile, signal }) {
      const file = join(home, '.oci', 'config');
      const text = await readFile(file, { encoding: 'utf8', signal }).catch((error: unknown) => {
        signal.throwIfAborted();
        return fail(`cannot read the OCI configuration ${file}: ${(error as Error).message}`, error);
      });
      const section = parseOciConfigFile(text, file).get(profile);
      if (section === undefined) fail(`no ${profile} section found in OCI configuration file ${file}`);
      const keyFile = section!.key_file ?? '';
      let key = '';
      if (keyFile !== '') {
        const path = keyFile.startsWith('~/') ? join(home, keyFile.slice(2)) : keyFile;
        if (!isAbsolute(path))
          fail(`key_file ${keyFile} of profile ${profile} in ${file} is not an absolute path`);
        key = await readFile(path, { encoding: 'utf8', signal }).catch((error: unknown) => {
          signal.throwIfAborted();
          return fail(
            `cannot read key_file ${path} of profile ${profile}: ${(error as Error).message}`,
            error,
          );
        });
      }
      const credentials: OciCredentials = {
        region: section!.region ?? '',
        tenancy: section!.tenancy ?? '',
        user: section!.user ?? '',
        fingerprint: section!.fingerprint ?? '',
        key,
      };
      if (section!.passphrase) credentials.passphrase = section!.passphrase;
      return credentials;
    },
  };
}
