import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcneError } from '@ocne/core';
import {
  type ClusterPki,
  caCertHash,
  caCertHashesFromKubeconfig,
  cryptoRandom,
  generateBootstrapToken,
  generateCertificateKey,
  generateClusterPki,
  generateRsaKeyPair,
  type PkiInput,
  type RandomSource,
} from '@ocne/ignition';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** A deterministic RandomSource: SHA-256 in counter mode over a seed. */
function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return {
    bytes(length: number): Uint8Array {
      while (pool.length < length) {
        const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
        pool = Buffer.concat([pool, block]);
      }
      const out = new Uint8Array(pool.subarray(0, length));
      pool = pool.subarray(length);
      return out;
    },
  };
}

/** A RandomSource that replays fixed bytes, then fails. */
function scriptedRandom(bytes: readonly number[]): RandomSource {
  let at = 0;
  return {
    bytes(length: number): Uint8Array {
      if (at + length > bytes.length) throw new Error('script exhausted');
      const out = Uint8Array.from(bytes.slice(at, at + length));
      at += length;
      return out;
    },
  };
}

/** Expects `fn` to throw (or reject with) an OcneError with code OCNE_PKI_INVALID_INPUT. */
async function expectInvalid(fn: () => unknown, message?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(isOcneError(caught), `expected an OcneError, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe('OCNE_PKI_INVALID_INPUT');
  if (message) expect((caught as Error).message).toMatch(message);
}

const NOW = new Date('2025-01-02T03:04:05.678Z');
/** A moment inside both validity periods, for `openssl verify -attime`. */
const VERIFY_AT = String(Math.floor(NOW.getTime() / 1000) + 86_400);
const SUBJECT = { country: 'US', org: 'OCNE', state: 'TX' };

let dir: string;
let caKeys: webcrypto.CryptoKeyPair;
let adminKeys: webcrypto.CryptoKeyPair;

function input(overrides: Partial<PkiInput> = {}): PkiInput {
  return {
    apiAddress: '192.0.2.10',
    apiPort: 6443,
    serviceSubnets: ['10.96.0.0/12', 'fd00::/108'],
    subject: SUBJECT,
    now: NOW,
    random: seededRandom('pki'),
    caKeys,
    adminKeys,
    ...overrides,
  };
}

function openssl(args: string[], stdin?: string | Buffer): string {
  return execFileSync('openssl', args, { cwd: dir, input: stdin, encoding: 'utf8' });
}

function opensslBinary(args: string[], stdin?: string | Buffer): Buffer {
  return execFileSync('openssl', args, { cwd: dir, input: stdin });
}

/** `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256`, all through openssl. */
function opensslPin(certPem: string): string {
  const pubkey = openssl(['x509', '-pubkey', '-noout'], certPem);
  const der = opensslBinary(['pkey', '-pubin', '-outform', 'der'], pubkey);
  const digest = openssl(['dgst', '-sha256', '-r'], der);
  return `sha256:${digest.split(' ')[0]}`;
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The lines of `openssl x509 -text` that follow a heading such as `X509v3 Key Usage`. */
function textField(text: string, heading: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.trim().startsWith(heading));
  if (at < 0) throw new Error(`no ${heading} in openssl output`);
  return lines[at + 1]!.trim();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocne-pki-'));
  [caKeys, adminKeys] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cryptoRandom', () => {
  test('gives the length asked for, never the same bytes twice, and every byte value about as often', () => {
    expect(cryptoRandom.bytes(0)).toHaveLength(0);
    expect(cryptoRandom.bytes(7)).toHaveLength(7);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(Buffer.from(cryptoRandom.bytes(16)).toString('hex'));
    expect(seen.size).toBe(200);
    // 256 KiB: each of the 256 values is expected 1024 times; a source stuck on a few values, or
    // returning zeros where a read fell short, is far outside these bounds.
    const counts = new Array<number>(256).fill(0);
    for (const byte of cryptoRandom.bytes(256 * 1024)) counts[byte] = (counts[byte] ?? 0) + 1;
    expect(Math.min(...counts)).toBeGreaterThan(850);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

describe('generateBootstrapToken', () => {
  test('has the kubeadm format [a-z0-9]{6}.[a-z0-9]{16}', () => {
    for (let i = 0; i < 50; i++)
      expect(generateBootstrapToken(cryptoRandom)).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  test('is deterministic for a seeded source, and differs between seeds', () => {
    const a = generateBootstrapToken(seededRandom('token'));
    expect(generateBootstrapToken(seededRandom('token'))).toBe(a);
    expect(generateBootstrapToken(seededRandom('other'))).not.toBe(a);
  });

  test('uses every one of the 36 characters, about equally often', () => {
    const counts = new Map<string, number>();
    const random = seededRandom('statistics');
    const tokens = 2000;
    for (let i = 0; i < tokens; i++) {
      for (const ch of generateBootstrapToken(random).replace('.', ''))
        counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe('0123456789abcdefghijklmnopqrstuvwxyz');
    // 44000 characters, 1222 expected per character; chi-square with 35 degrees of freedom
    // stays under 66.6 (p = 0.001) for a uniform draw.
    const expected = (tokens * 22) / 36;
    let chi2 = 0;
    for (const count of counts.values()) chi2 += (count - expected) ** 2 / expected;
    expect(chi2).toBeLessThan(66.6);
  });

  test('rejects bytes 252..255 instead of folding them onto the alphabet (no modulo bias)', () => {
    // 252..255 are dropped; 0..251 map to byte % 36.
    const id = [252, 0, 253, 35, 254, 36, 255, 71, 72, 251];
    const secret = Array.from({ length: 16 }, (_, i) => i + 1);
    expect(generateBootstrapToken(scriptedRandom([...id, ...secret]))).toBe('0z0z0z.123456789abcdefg');
  });

  test('every byte 0..251 maps to a character and each character gets exactly 7 of them', () => {
    const bytes = Array.from({ length: 252 }, (_, i) => i);
    const random = scriptedRandom([...bytes, ...bytes.slice(0, 12)]);
    const chars: string[] = [];
    for (let i = 0; i < 12; i++) chars.push(...generateBootstrapToken(random).replace('.', ''));
    const counts = new Map<string, number>();
    for (const ch of chars.slice(0, 252)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(36);
    expect(new Set(counts.values())).toEqual(new Set([7]));
  });

  test('a source that only returns unusable bytes is an error, not an endless loop', async () => {
    await expectInvalid(
      () => generateBootstrapToken({ bytes: (n) => new Uint8Array(n).fill(255) }),
      /unusable/,
    );
  });
});

describe('generateCertificateKey', () => {
  test('is 32 random bytes as 64 lowercase hex characters', () => {
    expect(generateCertificateKey(cryptoRandom)).toMatch(/^[0-9a-f]{64}$/);
    const expected = Buffer.from(seededRandom('key').bytes(32)).toString('hex');
    expect(generateCertificateKey(seededRandom('key'))).toBe(expected);
  });

  test('a source returning the wrong number of bytes is an error', async () => {
    await expectInvalid(() => generateCertificateKey({ bytes: () => new Uint8Array(3) }), /3 bytes/);
  });
});

describe('generateRsaKeyPair', () => {
  test('makes extractable RSA 2048 keys', () => {
    const algorithm = caKeys.privateKey.algorithm as webcrypto.RsaHashedKeyAlgorithm;
    expect(algorithm.name).toBe('RSASSA-PKCS1-v1_5');
    expect(algorithm.modulusLength).toBe(2048);
    expect(caKeys.privateKey.extractable).toBe(true);
  });

  test('honours an aborted signal', async () => {
    await expect(generateRsaKeyPair({ signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('generateClusterPki (IPv4 API address), checked with openssl', () => {
  let pki: ClusterPki;
  let caText: string;
  let adminText: string;

  beforeAll(async () => {
    pki = await generateClusterPki(input());
    write('ca.crt', pki.caCertPem);
    write('admin.crt', pki.adminCertPem);
    write('ca.key', pki.caKeyPem);
    write('admin.key', pki.adminKeyPem);
    caText = openssl(['x509', '-in', 'ca.crt', '-noout', '-text']);
    adminText = openssl(['x509', '-in', 'admin.crt', '-noout', '-text']);
  });

  test('the admin certificate verifies against the CA', () => {
    const out = openssl(['verify', '-attime', VERIFY_AT, '-CAfile', 'ca.crt', 'admin.crt']);
    expect(out.trim()).toBe('admin.crt: OK');
  });

  test('the CA verifies as a self-signed root, and the admin certificate is fit for client and server TLS', () => {
    expect(openssl(['verify', '-attime', VERIFY_AT, '-CAfile', 'ca.crt', 'ca.crt']).trim()).toBe(
      'ca.crt: OK',
    );
    for (const purpose of ['sslclient', 'sslserver']) {
      const out = openssl([
        'verify',
        '-attime',
        VERIFY_AT,
        '-purpose',
        purpose,
        '-CAfile',
        'ca.crt',
        'admin.crt',
      ]);
      expect(out.trim()).toBe('admin.crt: OK');
    }
  });

  test('caCertHash equals the SPKI SHA-256 computed by openssl', () => {
    const pin = opensslPin(pki.caCertPem);
    expect(pin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caCertHash(pki.caCertPem)).toBe(pin);
  });

  test('keys are PKCS#1 PEM that openssl rsa -check accepts', () => {
    for (const [file, pem] of [
      ['ca.key', pki.caKeyPem],
      ['admin.key', pki.adminKeyPem],
    ] as const) {
      expect(pem.startsWith('-----BEGIN RSA PRIVATE KEY-----\n')).toBe(true);
      expect(pem.endsWith('-----END RSA PRIVATE KEY-----\n')).toBe(true);
      expect(openssl(['rsa', '-in', file, '-check', '-noout'])).toContain('RSA key ok');
    }
  });

  test('each key matches its certificate (same modulus), and the two keys differ', () => {
    const modulus = (args: string[]) => openssl(args).trim();
    const caKey = modulus(['rsa', '-in', 'ca.key', '-noout', '-modulus']);
    const adminKey = modulus(['rsa', '-in', 'admin.key', '-noout', '-modulus']);
    expect(modulus(['x509', '-in', 'ca.crt', '-noout', '-modulus'])).toBe(caKey);
    expect(modulus(['x509', '-in', 'admin.crt', '-noout', '-modulus'])).toBe(adminKey);
    expect(caKey).not.toBe(adminKey);
  });

  test('certificates are PEM with 64-character lines', () => {
    for (const pem of [pki.caCertPem, pki.adminCertPem]) {
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n/);
      expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    }
  });

  test('CA: subject and issuer, 20 years from now, CA:TRUE, key usage, SHA-256 RSA', () => {
    expect(caText).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(caText).toContain('Subject: C = US, O = OCNE, ST = TX, CN = 192.0.2.10');
    expect(caText).toContain('Issuer: C = US, O = OCNE, ST = TX, CN = 192.0.2.10');
    expect(caText).toContain('Not Before: Jan  2 03:04:05 2025 GMT');
    expect(caText).toContain('Not After : Jan  2 03:04:05 2045 GMT');
    expect(caText).toContain('Public-Key: (2048 bit)');
    expect(caText).toContain('X509v3 Basic Constraints: critical');
    expect(textField(caText, 'X509v3 Basic Constraints')).toBe('CA:TRUE');
    expect(caText).toContain('X509v3 Key Usage: critical');
    expect(textField(caText, 'X509v3 Key Usage')).toBe(
      'Digital Signature, Key Encipherment, Certificate Sign, CRL Sign',
    );
    expect(caText).toContain('X509v3 Subject Key Identifier');
    expect(caText).not.toContain('Extended Key Usage');
    expect(caText).not.toContain('Subject Alternative Name');
  });

  test('admin: subject, issuer, 1 year, EKU, CA:FALSE, SANs, key identifiers', () => {
    expect(adminText).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(adminText).toContain('Subject: C = US, O = system:masters, ST = TX, CN = admin');
    expect(adminText).toContain('Issuer: C = US, O = OCNE, ST = TX, CN = 192.0.2.10');
    expect(adminText).toContain('Not Before: Jan  2 03:04:05 2025 GMT');
    expect(adminText).toContain('Not After : Jan  2 03:04:05 2026 GMT');
    expect(textField(adminText, 'X509v3 Basic Constraints')).toBe('CA:FALSE');
    expect(textField(adminText, 'X509v3 Extended Key Usage')).toBe(
      'TLS Web Client Authentication, TLS Web Server Authentication',
    );
    expect(textField(adminText, 'X509v3 Key Usage')).toBe(
      'Digital Signature, Key Encipherment, Data Encipherment',
    );
    expect(textField(adminText, 'X509v3 Subject Alternative Name')).toBe(
      [
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster',
        'DNS:kubernetes.default.svc.cluster.local',
        'IP Address:10.96.0.1',
        'IP Address:FD00:0:0:0:0:0:0:1',
        'IP Address:192.0.2.10',
        'IP Address:127.0.0.1',
      ].join(', '),
    );
    const caKeyId = textField(caText, 'X509v3 Subject Key Identifier');
    expect(textField(adminText, 'X509v3 Authority Key Identifier')).toBe(caKeyId);
    const adminKeyId = textField(adminText, 'X509v3 Subject Key Identifier');
    expect(adminKeyId).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(adminKeyId).not.toBe(caKeyId);
  });

  test('serial numbers are the 160 random bits drawn, positive, and differ', () => {
    const serial = (file: string) => openssl(['x509', '-in', file, '-noout', '-serial']).trim();
    const source = seededRandom('pki');
    const hex = (bytes: Uint8Array) =>
      Buffer.from(bytes)
        .toString('hex')
        .toUpperCase()
        .replace(/^(00)+/, '');
    expect(serial('ca.crt')).toBe(`serial=${hex(source.bytes(20))}`);
    expect(serial('admin.crt')).toBe(`serial=${hex(source.bytes(20))}`);
    expect(serial('ca.crt')).not.toBe(serial('admin.crt'));
    expect(`${caText}${adminText}`).not.toContain('Negative');
  });

  test('the kubeconfig names the cluster, user and context, and embeds the PKI', () => {
    const config = parseYaml(pki.kubeconfig);
    expect(config).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kubernetes',
          cluster: {
            server: 'https://192.0.2.10:6443',
            'certificate-authority-data': Buffer.from(pki.caCertPem).toString('base64'),
          },
        },
      ],
      users: [
        {
          name: 'kubernetes-admin',
          user: {
            'client-certificate-data': Buffer.from(pki.adminCertPem).toString('base64'),
            'client-key-data': Buffer.from(pki.adminKeyPem).toString('base64'),
          },
        },
      ],
      contexts: [
        { name: 'kubernetes-admin@kubernetes', context: { cluster: 'kubernetes', user: 'kubernetes-admin' } },
      ],
      'current-context': 'kubernetes-admin@kubernetes',
      preferences: {},
    });
    expect(pki.kubeconfig.startsWith('apiVersion: v1\nkind: Config\n')).toBe(true);
  });

  test('caCertHashesFromKubeconfig gives the openssl hash of the CA', () => {
    expect(caCertHashesFromKubeconfig(pki.kubeconfig)).toEqual([opensslPin(pki.caCertPem)]);
  });

  test('the kubeconfig credentials work for a TLS handshake against a server using the admin cert', () => {
    // openssl s_server/s_client are long-running; instead check that the embedded client cert and key
    // match and chain to the embedded CA, which is what a TLS client would need.
    const config = parseYaml(pki.kubeconfig) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
    };
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    write('kc-ca.crt', decode(config.clusters[0]!.cluster['certificate-authority-data']!));
    write('kc-admin.crt', decode(config.users[0]!.user['client-certificate-data']!));
    write('kc-admin.key', decode(config.users[0]!.user['client-key-data']!));
    expect(openssl(['verify', '-attime', VERIFY_AT, '-CAfile', 'kc-ca.crt', 'kc-admin.crt']).trim()).toBe(
      'kc-admin.crt: OK',
    );
    expect(openssl(['rsa', '-in', 'kc-admin.key', '-noout', '-modulus'])).toBe(
      openssl(['x509', '-in', 'kc-admin.crt', '-noout', '-modulus']),
    );
  });
});

describe('generateClusterPki (IPv6 API address and host names)', () => {
  test('IPv6: CN, SAN and a bracketed server URL', async () => {
    const pki = await generateClusterPki(
      input({ apiAddress: 'fd00:10::5', apiPort: 7443, serviceSubnets: ['fd00:96::/108'] }),
    );
    const text = openssl(['x509', '-noout', '-text'], pki.adminCertPem);
    expect(openssl(['x509', '-noout', '-subject'], pki.caCertPem).trim()).toBe(
      'subject=C = US, O = OCNE, ST = TX, CN = fd00:10::5',
    );
    expect(textField(text, 'X509v3 Subject Alternative Name')).toContain(
      'IP Address:FD00:96:0:0:0:0:0:1, IP Address:FD00:10:0:0:0:0:0:5, IP Address:127.0.0.1',
    );
    const config = parseYaml(pki.kubeconfig) as { clusters: { cluster: { server: string } }[] };
    expect(config.clusters[0]!.cluster.server).toBe('https://[fd00:10::5]:7443');
    expect(caCertHashesFromKubeconfig(pki.kubeconfig)).toEqual([opensslPin(pki.caCertPem)]);
    write('v6-ca.crt', pki.caCertPem);
    write('v6-admin.crt', pki.adminCertPem);
    expect(openssl(['verify', '-attime', VERIFY_AT, '-CAfile', 'v6-ca.crt', 'v6-admin.crt']).trim()).toBe(
      'v6-admin.crt: OK',
    );
  });

  test('a host name goes into the CN and URL but not into the IP SANs', async () => {
    const pki = await generateClusterPki(
      input({ apiAddress: 'api.example.com', serviceSubnets: ['10.96.0.0/12'] }),
    );
    const text = openssl(['x509', '-noout', '-text'], pki.adminCertPem);
    expect(textField(text, 'X509v3 Subject Alternative Name')).toMatch(
      /DNS:kubernetes\.default\.svc\.cluster\.local, IP Address:10\.96\.0\.1, IP Address:127\.0\.0\.1$/,
    );
    expect(openssl(['x509', '-noout', '-subject'], pki.caCertPem)).toContain('CN = api.example.com');
    expect(pki.kubeconfig).toContain('server: https://api.example.com:6443\n');
  });

  test('the first address of a subnet clears host bits first; duplicates are listed once', async () => {
    const pki = await generateClusterPki(
      input({
        apiAddress: '127.0.0.1',
        serviceSubnets: ['10.96.0.5/12', '172.16.255.255/16', '::ffff:10.0.0.0/104'],
      }),
    );
    const text = openssl(['x509', '-noout', '-text'], pki.adminCertPem);
    expect(textField(text, 'X509v3 Subject Alternative Name')).toMatch(
      /local, IP Address:10\.96\.0\.1, IP Address:172\.16\.0\.1, IP Address:10\.0\.0\.1, IP Address:127\.0\.0\.1$/,
    );
  });

  test('no service subnets: only the API address and 127.0.0.1', async () => {
    const pki = await generateClusterPki(input({ serviceSubnets: [] }));
    const text = openssl(['x509', '-noout', '-text'], pki.adminCertPem);
    expect(textField(text, 'X509v3 Subject Alternative Name')).toMatch(
      /local, IP Address:192\.0\.2\.10, IP Address:127\.0\.0\.1$/,
    );
  });
});

describe('generateClusterPki is deterministic', () => {
  test('the same keys, seed and time give byte-identical output', async () => {
    const a = await generateClusterPki(input({ random: seededRandom('same') }));
    const b = await generateClusterPki(input({ random: seededRandom('same') }));
    expect(b).toEqual(a);
  });

  test('another seed changes the serials (and so the certificates) but not the keys', async () => {
    const a = await generateClusterPki(input({ random: seededRandom('one') }));
    const b = await generateClusterPki(input({ random: seededRandom('two') }));
    expect(b.caCertPem).not.toBe(a.caCertPem);
    expect(b.adminCertPem).not.toBe(a.adminCertPem);
    expect(b.caKeyPem).toBe(a.caKeyPem);
    expect(b.adminKeyPem).toBe(a.adminKeyPem);
    expect(caCertHash(b.caCertPem)).toBe(caCertHash(a.caCertPem));
  });

  test('milliseconds of now are dropped, so they do not change the output', async () => {
    const a = await generateClusterPki(input({ now: new Date('2025-01-02T03:04:05.000Z') }));
    const b = await generateClusterPki(input({ now: new Date('2025-01-02T03:04:05.999Z') }));
    expect(b).toEqual(a);
  });

  test('a serial with the top bit set stays positive (a leading zero octet is added)', async () => {
    const pki = await generateClusterPki(input({ random: { bytes: (n) => new Uint8Array(n).fill(0xff) } }));
    const text = openssl(['x509', '-noout', '-text'], pki.caCertPem);
    expect(text).not.toContain('Negative');
    expect(openssl(['x509', '-noout', '-serial'], pki.caCertPem).trim()).toBe(`serial=${'FF'.repeat(20)}`);
    const der = opensslBinary(['x509', '-outform', 'der'], pki.caCertPem);
    // TBSCertificate: [0] version, then INTEGER 21 octets 00 FF...
    expect(der.includes(Buffer.from([0x02, 0x15, 0x00, 0xff]))).toBe(true);
  });

  test('an all-zero serial is drawn again; a source that only gives zeros is an error', async () => {
    const bytes = [...new Array(20).fill(0), ...new Array(19).fill(0), 7, ...new Array(19).fill(0), 9];
    const pki = await generateClusterPki(input({ random: scriptedRandom(bytes) }));
    expect(openssl(['x509', '-noout', '-serial'], pki.caCertPem).trim()).toBe('serial=07');
    expect(openssl(['x509', '-noout', '-serial'], pki.adminCertPem).trim()).toBe('serial=09');
    await expectInvalid(
      () => generateClusterPki(input({ random: { bytes: (n) => new Uint8Array(n) } })),
      /zero serial/,
    );
  });
});

describe('bad input throws OCNE_PKI_INVALID_INPUT', () => {
  test.each([
    ['', /empty/],
    ['a b', /neither/],
    ['[fd00::1]', /neither/],
    ['10.0.0.1:6443', /neither/],
    ['1.2.3.256', /neither/],
    ['fe80::1%eth0', /neither/],
    ['host-.example', /neither/],
  ])('apiAddress %j', async (apiAddress, message) => {
    await expectInvalid(() => generateClusterPki(input({ apiAddress })), message);
  });

  test.each([
    '10.96.0.0',
    '10.96.0.0/33',
    'fd00::/129',
    'x/12',
    '10.96.0.0/',
    '10.96.0.1/32',
    ' 10.96.0.0/12',
  ])('service subnet %j', async (subnet) => {
    await expectInvalid(
      () => generateClusterPki(input({ serviceSubnets: ['10.96.0.0/12', subnet] })),
      /subnet/,
    );
  });

  test.each([0, 65536, 6443.5, Number.NaN])('apiPort %d', async (apiPort) => {
    await expectInvalid(() => generateClusterPki(input({ apiPort })), /apiPort/);
  });

  test('an invalid date', async () => {
    await expectInvalid(() => generateClusterPki(input({ now: new Date('nope') })), /date/);
  });

  test('a key pair whose halves do not belong together', async () => {
    await expectInvalid(
      () =>
        generateClusterPki(
          input({ caKeys: { privateKey: caKeys.privateKey, publicKey: adminKeys.publicKey } }),
        ),
      /does not belong/,
    );
  });

  test('a non-extractable or non-RSA key pair', async () => {
    const sealed = await webcrypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    );
    await expectInvalid(() => generateClusterPki(input({ adminKeys: sealed })), /extractable/);
    const ec = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    await expectInvalid(() => generateClusterPki(input({ caKeys: ec })), /RSA/);
  });

  test('an aborted signal stops generation', async () => {
    await expect(generateClusterPki(input({ signal: AbortSignal.abort() }))).rejects.toThrow();
  });

  test.each([
    ['not PEM', 'hello'],
    ['an empty string', ''],
    [
      'a key instead of a certificate',
      '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n',
    ],
    ['garbage in the PEM', '-----BEGIN CERTIFICATE-----\nMIIB!!!\n-----END CERTIFICATE-----\n'],
    [
      'bytes that are not a certificate',
      '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n',
    ],
  ])('caCertHash with %s', async (_name, pem) => {
    await expectInvalid(() => caCertHash(pem));
  });
});

describe('caCertHashesFromKubeconfig', () => {
  let pki: ClusterPki;
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  beforeAll(async () => {
    pki = await generateClusterPki(input());
  });

  function kubeconfig(clusters: unknown[], currentContext: string, contexts: unknown[]): string {
    return stringifyYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters,
      contexts,
      'current-context': currentContext,
    });
  }

  test('one hash per certificate of a CA bundle, in order', () => {
    const bundle = `${pki.caCertPem}${pki.adminCertPem}`;
    const yaml = kubeconfig(
      [{ name: 'c', cluster: { server: 'https://x:6443', 'certificate-authority-data': b64(bundle) } }],
      'ctx',
      [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    );
    expect(caCertHashesFromKubeconfig(yaml)).toEqual([
      opensslPin(pki.caCertPem),
      opensslPin(pki.adminCertPem),
    ]);
  });

  test('the cluster of the current context is used, like kubeadm GetClusterFromKubeConfig', () => {
    const yaml = kubeconfig(
      [
        { name: 'first', cluster: { 'certificate-authority-data': b64(pki.caCertPem) } },
        { name: 'second', cluster: { 'certificate-authority-data': b64(pki.adminCertPem) } },
      ],
      'b',
      [
        { name: 'a', context: { cluster: 'first' } },
        { name: 'b', context: { cluster: 'second' } },
      ],
    );
    expect(caCertHashesFromKubeconfig(yaml)).toEqual([caCertHash(pki.adminCertPem)]);
  });

  test('a cluster with an empty name wins over the current context', () => {
    const yaml = kubeconfig(
      [
        { name: 'named', cluster: { 'certificate-authority-data': b64(pki.adminCertPem) } },
        { name: '', cluster: { 'certificate-authority-data': b64(pki.caCertPem) } },
      ],
      'ctx',
      [{ name: 'ctx', context: { cluster: 'named' } }],
    );
    expect(caCertHashesFromKubeconfig(yaml)).toEqual([caCertHash(pki.caCertPem)]);
  });

  test.each([
    ['not YAML', 'a: [', /YAML/],
    ['not a mapping', '- 1\n- 2\n', /mapping/],
    ['no current context', kubeconfig([{ name: 'c', cluster: {} }], '', []), /current-context/],
    ['an unknown context', kubeconfig([{ name: 'c', cluster: {} }], 'nope', []), /context "nope"/],
    [
      'an unknown cluster',
      kubeconfig([{ name: 'c', cluster: {} }], 'x', [{ name: 'x', context: { cluster: 'd' } }]),
      /cluster "d"/,
    ],
    [
      'a cluster without certificate-authority-data',
      kubeconfig([{ name: 'c', cluster: { server: 'https://x:6443' } }], 'x', [
        { name: 'x', context: { cluster: 'c' } },
      ]),
      /no certificate-authority-data/,
    ],
    [
      'only a certificate-authority file',
      kubeconfig([{ name: 'c', cluster: { 'certificate-authority': '/etc/ca.crt' } }], 'x', [
        { name: 'x', context: { cluster: 'c' } },
      ]),
      /no certificate-authority-data/,
    ],
    [
      'data that is not base64',
      kubeconfig([{ name: 'c', cluster: { 'certificate-authority-data': '%%%' } }], 'x', [
        { name: 'x', context: { cluster: 'c' } },
      ]),
      /not base64/,
    ],
    [
      'data without a certificate',
      kubeconfig([{ name: 'c', cluster: { 'certificate-authority-data': b64('hello') } }], 'x', [
        { name: 'x', context: { cluster: 'c' } },
      ]),
      /no PEM CERTIFICATE/,
    ],
  ])('%s is an error', async (_name, yaml, message) => {
    await expectInvalid(() => caCertHashesFromKubeconfig(yaml), message);
  });
});
