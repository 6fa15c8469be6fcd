/**
 * Test identities for the OCI API server: an RSA key pair per user, the fingerprint OCI derives
 * from it (MD5 of the DER public key, colon-separated hex), `~/.oci/config` files that point the
 * real `oci-common` at them, and a small signer that makes requests the way OCI's SDKs sign them
 * (for tests that must send what no SDK sends: a tampered body, an old date).
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A key pair with its OCI fingerprint. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
}

/** A new RSA-2048 key pair (what OCI API keys are). */
export function generateTestKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/** OCI's key fingerprint: MD5 of the DER SubjectPublicKeyInfo, as `aa:bb:…`. */
export function fingerprintOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('md5').update(der).digest('hex').match(/../g)?.join(':') ?? '';
}

/** One profile of an OCI configuration file. */
export interface OciConfigProfile {
  readonly name: string;
  readonly tenancy: string;
  readonly user: string;
  readonly fingerprint: string;
  readonly region: string;
  /** The private key (PEM); written to `<profile>.pem` next to the config. */
  readonly privateKey: KeyObject;
  /** Encrypts the key file with it and writes `pass_phrase`. */
  readonly passphrase?: string;
}

/**
 * Writes `<dir>/config` with the profiles and a 0600 key file per profile; returns the config's path.
 */
export async function writeOciConfigFile(
  dir: string,
  profiles: readonly OciConfigProfile[],
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const sections: string[] = [];
  for (const profile of profiles) {
    const keyFile = join(dir, `${profile.name.toLowerCase()}.pem`);
    const pem =
      profile.passphrase === undefined
        ? profile.privateKey.export({ type: 'pkcs8', format: 'pem' })
        : // Traditional encrypted PEM: the one form every OCI SDK's key reader takes.
          profile.privateKey.export({
            type: 'pkcs1',
            format: 'pem',
            cipher: 'aes-128-cbc',
            passphrase: profile.passphrase,
          });
    await writeFile(keyFile, pem, { mode: 0o600 });
    sections.push(
      [
        `[${profile.name}]`,
        `user=${profile.user}`,
        `fingerprint=${profile.fingerprint}`,
        `tenancy=${profile.tenancy}`,
        `region=${profile.region}`,
        `key_file=${keyFile}`,
        ...(profile.passphrase === undefined ? [] : [`pass_phrase=${profile.passphrase}`]),
      ].join('\n'),
    );
  }
  const path = join(dir, 'config');
  await writeFile(path, `${sections.join('\n\n')}\n`, { mode: 0o600 });
  return path;
}

/** What {@link signedFetch} signs with. */
export interface SigningIdentity {
  readonly keyId: string;
  readonly privateKey: KeyObject | string;
}

/** Options of {@link signedFetch}. */
export interface SignedFetchOptions {
  readonly method?: string;
  /** A JSON body; signed (digest, length, type) unless `excludeBody`. */
  readonly body?: string | Buffer;
  /** Sends this body instead of the signed one (a tampered request). */
  readonly sendBody?: string | Buffer;
  /** The `x-date` to sign (default: now). */
  readonly date?: Date;
  readonly excludeBody?: boolean;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/**
 * A request signed as OCI's SDKs sign it (`x-date (request-target) host`, plus the body headers for
 * POST/PUT/PATCH), sent with `fetch`.
 */
export async function signedFetch(
  url: string,
  identity: SigningIdentity,
  options: SignedFetchOptions = {},
): Promise<Response> {
  const method = (options.method ?? 'GET').toUpperCase();
  const target = new URL(url);
  const headers: Record<string, string> = {
    'x-date': (options.date ?? new Date()).toUTCString(),
    host: target.host,
    ...options.headers,
  };
  const names = ['x-date', '(request-target)', 'host'];
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  if (['POST', 'PUT', 'PATCH'].includes(method) && !options.excludeBody) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(body.length);
    headers['x-content-sha256'] = createHash('sha256').update(body).digest('base64');
    names.push('content-type', 'content-length', 'x-content-sha256');
  }
  const lines = names.map((name) =>
    name === '(request-target)'
      ? `(request-target): ${method.toLowerCase()} ${target.pathname}${target.search}`
      : `${name}: ${headers[name]}`,
  );
  const key =
    typeof identity.privateKey === 'string' ? createPrivateKey(identity.privateKey) : identity.privateKey;
  const signature = sign('sha256', Buffer.from(lines.join('\n')), key).toString('base64');
  headers.authorization =
    `Signature version="1",keyId="${identity.keyId}",algorithm="rsa-sha256",` +
    `headers="${names.join(' ')}",signature="${signature}"`;
  const sent = options.sendBody ?? (options.body === undefined ? undefined : body);
  // fetch sets host and content-length itself (from the URL and the body actually sent).
  const { host: _host, 'content-length': _length, ...sentHeaders } = headers;
  return fetch(url, {
    method,
    headers: sentHeaders,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(sent === undefined ? {} : { body: Buffer.from(sent) }),
  });
}
