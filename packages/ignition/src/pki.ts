/**
 * Cluster PKI: bootstrap tokens, certificate keys, the cluster CA, the admin certificate, the
 * admin kubeconfig and kubeadm CA pins, as upstream `ocne` makes them (`pkg/certificate`,
 * `pkg/cluster/kubepki`, `pkg/k8s/tokens.go`, `pkg/util/cert.go`).
 *
 * Everything here is deterministic: randomness ({@link RandomSource}), the clock (`now`) and the RSA
 * keys are parameters. {@link cryptoRandom} and {@link generateRsaKeyPair} are the effectful pieces
 * for the edges. Certificates are built with `@peculiar/x509` over WebCrypto; RSA PKCS#1 v1.5
 * signatures are deterministic, so the same inputs give byte-identical PEMs.
 */

import type { KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { isIPv6 } from '@ocne/config';
import { commonJsExports, memoized, OcneError, systemRandomBytes } from '@ocne/core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/**
 * `node:crypto`, loaded on first use: rendering a template or reading a cached CA needs none of it,
 * and it is one of the costlier built-ins to load.
 */
const nodeCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

type X509Module = typeof import('@peculiar/x509');
/** The WebCrypto type `@peculiar/x509` expects (the DOM `Crypto`, which Node's types do not name). */
type X509Crypto = NonNullable<Parameters<X509Module['X509CertificateGenerator']['create']>[1]>;
/** The DOM `CryptoKey` as `@peculiar/x509` names it. */
type X509CryptoKey = Parameters<X509Module['X509CertificateGenerator']['create']>[0] extends infer P
  ? P extends { signingKey: infer K }
    ? K
    : never
  : never;

/** Supplies random bytes; tests pass a seeded one, production passes {@link cryptoRandom}. */
export interface RandomSource {
  /** Returns exactly `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/**
 * A {@link RandomSource} backed by the operating system's CSPRNG (`systemRandomBytes` of
 * `@ocne/core`: `/dev/urandom` where there is one, else `node:crypto`).
 */
export const cryptoRandom: RandomSource = {
  bytes: (length: number): Uint8Array => systemRandomBytes(length),
};

function invalid(message: string, cause?: unknown): OcneError {
  return new OcneError('OCNE_PKI_INVALID_INPUT', message, cause === undefined ? {} : { cause });
}

function draw(random: RandomSource, length: number): Uint8Array {
  const out = random.bytes(length);
  if (!(out instanceof Uint8Array) || out.length !== length)
    throw invalid(`the random source returned ${out?.length ?? 'no'} bytes where ${length} were asked for`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tokens and certificate keys
// ---------------------------------------------------------------------------------------------

const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Largest multiple of 36 that fits in a byte: bytes at or above it are rejected (no modulo bias). */
const TOKEN_BYTE_LIMIT = 256 - (256 % TOKEN_ALPHABET.length);
/** Rounds of rejection sampling before a source is declared broken (real sources never get near). */
const MAX_DRAW_ROUNDS = 1000;

function randomTokenString(random: RandomSource, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    if (round >= MAX_DRAW_ROUNDS) throw invalid('the random source keeps returning unusable bytes');
    for (const byte of draw(random, length - out.length)) {
      if (byte < TOKEN_BYTE_LIMIT) out += TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length];
    }
  }
  return out;
}

/**
 * Generates a kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`, like
 * `k8s.io/cluster-bootstrap/token/util.GenerateBootstrapToken`: every character is uniform over
 * the 36-letter alphabet (rejection sampling, no modulo bias).
 *
 * @param random - the source of randomness ({@link cryptoRandom} outside tests).
 * @returns the token id and secret joined by a dot.
 */
export function generateBootstrapToken(random: RandomSource): string {
  const id = randomTokenString(random, 6);
  const secret = randomTokenString(random, 16);
  return `${id}.${secret}`;
}

/**
 * Generates a kubeadm certificate key (`--certificate-key`): 32 random bytes as 64 lowercase hex
 * characters, like upstream `pkg/util/cert.go`.
 *
 * @param random - the source of randomness ({@link cryptoRandom} outside tests).
 */
export function generateCertificateKey(random: RandomSource): string {
  return Buffer.from(draw(random, 32)).toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

const RSA_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

/** Options of {@link generateRsaKeyPair}. */
export interface GenerateRsaKeyPairOptions {
  /** Checked before the key is generated (RSA generation itself cannot be interrupted). */
  signal?: AbortSignal;
}

/**
 * Generates an extractable RSA 2048 key pair (RSASSA-PKCS1-v1_5, SHA-256), the key type upstream
 * uses for the cluster CA and the admin certificate. Not pure: for the edges.
 */
export async function generateRsaKeyPair(
  options: GenerateRsaKeyPairOptions = {},
): Promise<webcrypto.CryptoKeyPair> {
  options.signal?.throwIfAborted();
  return nodeCrypto().webcrypto.subtle.generateKey(RSA_ALGORITHM, true, ['sign', 'verify']);
}

/** A key pair in the forms the certificate code needs. */
interface PreparedKey {
  /** The private key, imported for RSASSA-PKCS1-v1_5 with SHA-256. */
  signingKey: webcrypto.CryptoKey;
  /** SubjectPublicKeyInfo DER of the public key. */
  spki: ArrayBuffer;
  /** PKCS#1 `RSA PRIVATE KEY` PEM. */
  pkcs1Pem: string;
}

async function prepareKey(name: string, pair: webcrypto.CryptoKeyPair): Promise<PreparedKey> {
  const { privateKey, publicKey } = pair ?? {};
  if (!privateKey || !publicKey || privateKey.type !== 'private' || publicKey.type !== 'public')
    throw invalid(`${name} must be a key pair with a private and a public key`);
  if (!privateKey.extractable) throw invalid(`${name}: the private key must be extractable`);
  let keyObject: KeyObject;
  let pkcs8: ArrayBuffer;
  let spki: ArrayBuffer;
  try {
    pkcs8 = await nodeCrypto().webcrypto.subtle.exportKey('pkcs8', privateKey);
    spki = await nodeCrypto().webcrypto.subtle.exportKey('spki', publicKey);
    keyObject = nodeCrypto().createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw invalid(`${name}: the keys cannot be exported`, error);
  }
  if (keyObject.asymmetricKeyType !== 'rsa')
    throw invalid(`${name} must be an RSA key pair, not ${keyObject.asymmetricKeyType ?? 'unknown'}`);
  const derived = nodeCrypto().createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  if (!derived.equals(Buffer.from(spki)))
    throw invalid(`${name}: the public key does not belong to the private key`);
  // Re-import so that the signature is SHA-256 RSA whatever hash the caller's key was made for.
  const signingKey = await nodeCrypto().webcrypto.subtle.importKey(
    'pkcs8',
    pkcs8,
    { name: RSA_ALGORITHM.name, hash: RSA_ALGORITHM.hash },
    false,
    ['sign'],
  );
  const pkcs1Pem = keyObject.export({ type: 'pkcs1', format: 'pem' }).toString();
  return { signingKey, spki, pkcs1Pem };
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    // Like Go's net.ParseIP: decimal only, no leading zeros.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[i] = Number(part);
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('%') || !isIPv6(text)) return undefined;
  let groups = text;
  const lastColon = groups.lastIndexOf(':');
  const tail = groups.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    if (!v4) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    groups = `${groups.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [left = '', right, ...rest] = groups.split('::');
  if (rest.length > 0) return undefined;
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftGroups.length - rightGroups.length;
  if (right === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...leftGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...rightGroups];
  const bytes = new Uint8Array(16);
  for (const [i, group] of all.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  }
  return bytes;
}

/** Parses an IPv4 or IPv6 address (no zone, no brackets) into 4 or 16 bytes. */
function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** The 4-byte form of an IPv4-mapped IPv6 address, as Go's `net.IP.To4` (used in SANs) does. */
function toSanBytes(ip: Uint8Array): Uint8Array {
  const mapped = ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff;
  return mapped && ip[11] === 0xff ? ip.slice(12) : ip;
}

/** Formats 4 or 16 bytes in a form `@peculiar/x509` parses (it does not take embedded IPv4). */
function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return ip.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip[i]! << 8) | ip[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * The first address of a subnet (its network address plus one), as upstream's `getFirstIp`: host
 * bits are cleared first, so `10.96.0.5/12` gives `10.96.0.1`.
 */
function firstIpOfSubnet(subnet: string): Uint8Array {
  const slash = subnet.indexOf('/');
  const address = slash < 0 ? undefined : parseIp(subnet.slice(0, slash));
  const prefixText = slash < 0 ? '' : subnet.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText))
    throw invalid(
      `service subnet ${JSON.stringify(subnet)} is not a CIDR such as 10.96.0.0/12 or fd00::/108`,
    );
  const prefix = Number(prefixText);
  const bits = address.length * 8;
  if (prefix > bits) throw invalid(`service subnet ${subnet}: the prefix length is larger than ${bits}`);
  if (prefix === bits) throw invalid(`service subnet ${subnet} has no address after its network address`);
  const first = new Uint8Array(address.length);
  for (let i = 0; i < address.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i));
    first[i] = address[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  // The host part is all zeros and at least one bit wide, so adding one cannot carry.
  const last = first.length - 1;
  first[last] = first[last]! + 1;
  return first;
}

const HOST_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Checks the API address: an IPv4 or IPv6 address, or a DNS name. Returns its IP bytes, if any. */
function checkApiAddress(apiAddress: string): Uint8Array | undefined {
  if (typeof apiAddress !== 'string' || apiAddress === '') throw invalid('apiAddress is empty');
  const ip = parseIp(apiAddress);
  if (ip) return ip;
  const labels = apiAddress.split('.');
  const isName =
    apiAddress.length <= 253 &&
    labels.every((label) => HOST_LABEL.test(label)) &&
    !/^\d+$/.test(labels[labels.length - 1]!);
  if (!isName)
    throw invalid(
      `apiAddress ${JSON.stringify(apiAddress)} is neither an IP address nor a host name (no brackets, ports or zones)`,
    );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/** The subject fields upstream takes from `certificateInformation` (its `orgUnit` is unused). */
export interface CertificateSubjectInfo {
  /** `C`, such as `US`. */
  country: string;
  /** `O` of the CA, such as `OCNE`. */
  org: string;
  /** `ST`, such as `TX`. */
  state: string;
}

/** Input of {@link generateClusterPki}. */
export interface PkiInput {
  /** The API server address (virtual IP, load balancer host or IP; IPv6 allowed, no brackets): CN of the CA. */
  apiAddress: string;
  /** Port in the kubeconfig server URL. Upstream BYO hard-codes 6443; the caller decides. */
  apiPort: number;
  /** Service subnets, such as `['10.96.0.0/12', 'fd00::/108']`: the first address of each is an admin SAN. */
  serviceSubnets: readonly string[];
  /** C, ST and O of the CA; the admin certificate takes C and ST, with O `system:masters`. */
  subject: CertificateSubjectInfo;
  /** Start of validity (whole seconds are kept). The CA is valid 20 years, the admin certificate 1 year. */
  now: Date;
  /** Source of the two 160-bit serial numbers (CA first, then admin). */
  random: RandomSource;
  /** RSA key pair of the CA (extractable); see {@link generateRsaKeyPair}. */
  caKeys: webcrypto.CryptoKeyPair;
  /** RSA key pair of the admin certificate (extractable). */
  adminKeys: webcrypto.CryptoKeyPair;
  /** Checked between steps. */
  signal?: AbortSignal;
}

/** The cluster CA, the admin certificate and the admin kubeconfig, all as text. */
export interface ClusterPki {
  /** The self-signed CA certificate (`ca.crt`). */
  caCertPem: string;
  /** The CA private key, PKCS#1 `RSA PRIVATE KEY` PEM (`ca.key`). */
  caKeyPem: string;
  /** The admin client/server certificate signed by the CA (`admin.crt`). */
  adminCertPem: string;
  /** The admin private key, PKCS#1 `RSA PRIVATE KEY` PEM (`admin.key`). */
  adminKeyPem: string;
  /** The admin kubeconfig YAML, with the CA, certificate and key embedded. */
  kubeconfig: string;
}

const ADMIN_DNS_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster',
  'kubernetes.default.svc.cluster.local',
] as const;

const LOCALHOST = new Uint8Array([127, 0, 0, 1]);

let x509Loading: Promise<X509Module> | undefined;

/**
 * Loads `@peculiar/x509` on first use. It needs a Reflect metadata polyfill (through `tsyringe`),
 * which patches the global `Reflect`; loading both lazily keeps that out of `import '@ocne/ignition'`.
 */
function loadX509(): Promise<X509Module> {
  // Both are CommonJS: a bundler that splits them into chunks hands their exports over as `default`.
  x509Loading ??= import('reflect-metadata')
    .then(() => import('@peculiar/x509'))
    .then((loaded) => commonJsExports(loaded, 'X509CertificateGenerator'));
  return x509Loading;
}

/** A 160-bit serial number as hex (upstream: `rand.Int` below 2^160); never zero. */
function drawSerial(random: RandomSource): string {
  for (let round = 0; round < MAX_DRAW_ROUNDS; round++) {
    const bytes = draw(random, 20);
    // @peculiar/x509 strips leading zero bytes and prepends 0x00 when the top bit is set, so the
    // DER INTEGER is minimal and positive. Zero is not a valid serial: draw again.
    if (bytes.some((b) => b !== 0)) return Buffer.from(bytes).toString('hex');
  }
  throw invalid('the random source keeps returning zero serial numbers');
}

function addYears(date: Date, years: number): Date {
  const out = new Date(date.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** Name attributes in the order Go's `pkix.Name` writes them; empty values are left out. */
function distinguishedName(fields: {
  country: string;
  org: string;
  state: string;
  commonName: string;
}): Record<string, string[]>[] {
  const rdns: Record<string, string[]>[] = [];
  if (fields.country !== '') rdns.push({ C: [fields.country] });
  if (fields.org !== '') rdns.push({ O: [fields.org] });
  if (fields.state !== '') rdns.push({ ST: [fields.state] });
  rdns.push({ CN: [fields.commonName] });
  return rdns;
}

function pemEncode(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Generates the cluster PKI as upstream `ocne` does (`pkg/certificate/kube_certs.go`,
 * `pkg/cluster/kubepki`):
 *
 * - a CA: CN = `apiAddress`, C/ST/O from `subject`, CA:TRUE, key usage certSign, cRLSign,
 *   digitalSignature and keyEncipherment, valid 20 years from `now`, self-signed with SHA-256 RSA;
 * - an admin certificate: CN `admin`, O `system:masters` (C and ST from `subject`), valid 1 year,
 *   client and server auth, SANs `kubernetes[.default[.svc[.cluster[.local]]]]`, the first address
 *   of every service subnet, `apiAddress` when it is an IP, and `127.0.0.1`;
 * - a kubeconfig for user `kubernetes-admin` on cluster `kubernetes` at `https://apiAddress:apiPort`.
 *
 * Pure: the same input (same keys, same random bytes, same `now`) gives byte-identical output.
 *
 * @throws `OcneError` `OCNE_PKI_INVALID_INPUT` for an empty or malformed `apiAddress`, a bad
 * port, subnet or date, or keys that are not extractable RSA key pairs.
 */
export async function generateClusterPki(input: PkiInput): Promise<ClusterPki> {
  const { apiAddress, apiPort, serviceSubnets, subject, now, random, signal } = input;
  signal?.throwIfAborted();
  const apiIp = checkApiAddress(apiAddress);
  if (!Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65535)
    throw invalid(`apiPort ${apiPort} is not a port number (1-65535)`);
  const serviceIps = serviceSubnets.map(firstIpOfSubnet);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw invalid('now is not a valid date');
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  if (notBefore.getUTCFullYear() < 1950 || notBefore.getUTCFullYear() > 9978)
    throw invalid(`now (${now.toISOString()}) is outside the years X.509 validity can express`);

  const ca = await prepareKey('caKeys', input.caKeys);
  const admin = await prepareKey('adminKeys', input.adminKeys);
  signal?.throwIfAborted();
  const x509 = await loadX509();
  const crypto = nodeCrypto().webcrypto as unknown as X509Crypto;
  const caSerial = drawSerial(random);
  const adminSerial = drawSerial(random);

  const caKeyId = await x509.SubjectKeyIdentifierExtension.create(ca.spki, false, crypto);
  const caName = distinguishedName({ ...subject, commonName: apiAddress });
  const caCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: caSerial,
      subject: caName,
      issuer: caName,
      notBefore,
      notAfter: addYears(notBefore, 20),
      publicKey: ca.spki,
      signingKey: ca.signingKey as unknown as X509CryptoKey,
      extensions: [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyEncipherment |
            x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign,
          true,
        ),
        new x509.BasicConstraintsExtension(true, undefined, true),
        caKeyId,
      ],
    },
    crypto,
  );
  signal?.throwIfAborted();

  const sanIps: string[] = [];
  for (const ip of [...serviceIps, ...(apiIp ? [apiIp] : []), LOCALHOST]) {
    const text = formatIp(toSanBytes(ip));
    if (!sanIps.includes(text)) sanIps.push(text);
  }
  const adminCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: adminSerial,
      subject: distinguishedName({ ...subject, org: 'system:masters', commonName: 'admin' }),
      issuer: caCert.subjectName,
      notBefore,
      notAfter: addYears(notBefore, 1),
      publicKey: admin.spki,
      signingKey: ca.signingKey as unknown as X509CryptoKey,
      extensions: [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyEncipherment |
            x509.KeyUsageFlags.dataEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
          false,
        ),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(admin.spki, false, crypto),
        new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId, false),
        new x509.SubjectAlternativeNameExtension(
          [
            ...ADMIN_DNS_NAMES.map((value) => ({ type: 'dns' as const, value })),
            ...sanIps.map((value) => ({ type: 'ip' as const, value })),
          ],
          false,
        ),
      ],
    },
    crypto,
  );

  const caCertPem = pemEncode('CERTIFICATE', caCert.rawData);
  const adminCertPem = pemEncode('CERTIFICATE', adminCert.rawData);
  const host = apiIp?.length === 16 ? `[${apiAddress}]` : apiAddress;
  const kubeconfig = stringifyYaml(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kubernetes',
          cluster: {
            server: `https://${host}:${apiPort}`,
            'certificate-authority-data': base64(caCertPem),
          },
        },
      ],
      users: [
        {
          name: 'kubernetes-admin',
          user: {
            'client-certificate-data': base64(adminCertPem),
            'client-key-data': base64(admin.pkcs1Pem),
          },
        },
      ],
      contexts: [
        {
          name: 'kubernetes-admin@kubernetes',
          context: { cluster: 'kubernetes', user: 'kubernetes-admin' },
        },
      ],
      'current-context': 'kubernetes-admin@kubernetes',
      preferences: {},
    },
    { lineWidth: 0, indentSeq: false },
  );

  return { caCertPem, caKeyPem: ca.pkcs1Pem, adminCertPem, adminKeyPem: admin.pkcs1Pem, kubeconfig };
}

// ---------------------------------------------------------------------------------------------
// CA pins
// ---------------------------------------------------------------------------------------------

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, as DER, in order. */
function certificatesOf(pem: string, what: string): Buffer[] {
  const ders: Buffer[] = [];
  for (const match of pem.matchAll(PEM_CERTIFICATE)) {
    const body = match[1]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw invalid(`${what}: a certificate is not valid base64`);
    ders.push(Buffer.from(body, 'base64'));
  }
  if (ders.length === 0) throw invalid(`${what} holds no PEM CERTIFICATE block`);
  return ders;
}

function pinOf(der: Buffer, what: string): string {
  let cert: X509Certificate;
  try {
    cert = new (nodeCrypto().X509Certificate)(der);
  } catch (error) {
    throw invalid(`${what}: a certificate cannot be parsed`, error);
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${nodeCrypto().createHash('sha256').update(spki).digest('hex')}`;
}

/**
 * The kubeadm CA pin of a certificate (`pubkeypin.Hash`): `sha256:` and the lowercase hex SHA-256
 * of its SubjectPublicKeyInfo DER, as `--discovery-token-ca-cert-hash` expects.
 *
 * @param certPem - a PEM certificate; when the text holds several, the first is used.
 * @throws `OcneError` `OCNE_PKI_INVALID_INPUT` when there is no parsable certificate.
 */
export function caCertHash(certPem: string): string {
  const what = 'the CA certificate PEM';
  if (typeof certPem !== 'string') throw invalid(`${what} is not a string`);
  return pinOf(certificatesOf(certPem, what)[0]!, what);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Named entries of a kubeconfig list (`clusters`, `contexts`), by name. */
function namedEntries(config: Record<string, unknown>, list: string, field: string): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  const value = config[list] ?? [];
  if (!Array.isArray(value)) throw invalid(`the kubeconfig's ${list} is not a list`);
  for (const entry of value) {
    if (isRecord(entry)) entries.set(typeof entry.name === 'string' ? entry.name : '', entry[field]);
  }
  return entries;
}

/**
 * The kubeadm CA pins of a kubeconfig, one per certificate in the `certificate-authority-data` of its
 * cluster, as upstream `CertHashesFromKubeconfig` (through kubeadm's `GetClusterFromKubeConfig`)
 * chooses it: a cluster with an empty name if there is one, otherwise the cluster of the current
 * context. The data may hold several PEM certificates (a CA bundle).
 *
 * @param kubeconfigYaml - the kubeconfig text.
 * @throws `OcneError` `OCNE_PKI_INVALID_INPUT` when the YAML does not parse, the cluster cannot
 * be found, it has no `certificate-authority-data` (a `certificate-authority` file is not read: this
 * function does no IO), or a certificate does not parse.
 */
export function caCertHashesFromKubeconfig(kubeconfigYaml: string): string[] {
  // Only the hashes are kept (under a hash of the text): never the kubeconfig's keys.
  return memoized('kubeconfig-ca-hashes', kubeconfigYaml, () => caCertHashesOf(kubeconfigYaml));
}

function caCertHashesOf(kubeconfigYaml: string): string[] {
  let config: unknown;
  try {
    config = parseYaml(kubeconfigYaml);
  } catch (error) {
    throw invalid('the kubeconfig is not valid YAML', error);
  }
  if (!isRecord(config)) throw invalid('the kubeconfig is not a YAML mapping');
  const clusters = namedEntries(config, 'clusters', 'cluster');
  let clusterName = '';
  if (!clusters.has('')) {
    const current = config['current-context'];
    if (typeof current !== 'string' || current === '')
      throw invalid('the kubeconfig has no current-context to choose a cluster');
    const context = namedEntries(config, 'contexts', 'context').get(current);
    if (!isRecord(context) || typeof context.cluster !== 'string')
      throw invalid(`the kubeconfig has no context ${JSON.stringify(current)} naming a cluster`);
    clusterName = context.cluster;
  }
  const cluster = clusters.get(clusterName);
  if (!isRecord(cluster)) throw invalid(`the kubeconfig has no cluster ${JSON.stringify(clusterName)}`);
  const data = cluster['certificate-authority-data'];
  if (typeof data !== 'string' || data.trim() === '')
    throw invalid(
      `cluster ${JSON.stringify(clusterName)} of the kubeconfig has no certificate-authority-data`,
    );
  const compact = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
    throw invalid(`the certificate-authority-data of cluster ${JSON.stringify(clusterName)} is not base64`);
  const what = `the certificate-authority-data of cluster ${JSON.stringify(clusterName)}`;
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  return certificatesOf(pem, what).map((der) => pinOf(der, what));
}
