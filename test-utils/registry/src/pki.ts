// The test PKI of a registry: a CA (the file tests hand to the client as its trust root), a
// serving certificate for 127.0.0.1 and localhost signed by it, and a separate self-signed key
// pair the token server signs Bearer tokens with (the registry trusts it through
// `auth.token.rootcertbundle`). Made with the `openssl` CLI, fresh for every registry.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths (and the PEM text tests usually want) of a registry's test PKI. */
export interface TestPki {
  /** The CA certificate (PEM file): what a client must trust. */
  readonly caPath: string;
  /** The CA certificate, PEM. */
  readonly ca: string;
  /** The serving certificate (for IP 127.0.0.1 and DNS localhost) and its key. */
  readonly certPath: string;
  readonly keyPath: string;
  /** The token signer: a self-signed RSA certificate and its key (PEM). */
  readonly tokenCertPath: string;
  readonly tokenKeyPath: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', [...args], { timeout: 30_000 });
}

/** Writes a new test PKI into `dir`. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '3',
    '-subj',
    '/CN=ocne test registry CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await writeFile(
    p('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await openssl([
    'req',
    ...ec,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '3',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.crt'),
  ]);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('token.key'),
    '-out',
    p('token.crt'),
    '-days',
    '3',
    '-subj',
    '/CN=ocne test token signer',
  ]);
  return {
    caPath: p('ca.crt'),
    ca: await readFile(p('ca.crt'), 'utf8'),
    certPath: p('server.crt'),
    keyPath: p('server.key'),
    tokenCertPath: p('token.crt'),
    tokenKeyPath: p('token.key'),
  };
}
