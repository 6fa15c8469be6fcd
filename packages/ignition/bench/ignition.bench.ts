// Node Ignition cost (`pnpm bench`): init with key generation, one worker join, 1000 worker joins
// in one process, and how much the data-URL choice saves on each file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ocne/config';
import {
  caCertHash,
  clusterNodeInput,
  cryptoRandom,
  decodeDataUrl,
  generateBootstrapToken,
  generateCertificateKey,
  generateClusterPki,
  generateRsaKeyPair,
  type IgnitionConfig,
  initNodeIgnition,
  joinNodeIgnition,
  serializeIgnition,
} from '@ocne/ignition';
import { group } from '@ocne/test-bench';

const home = mkdtempSync(join(tmpdir(), 'ocne-bench-'));
const { cluster } = await loadConfig({
  config:
    'provider: byo\nname: bench\nvirtualIp: 192.168.122.230\nproviders:\n  byo:\n    networkInterface: enp1s0\nsshPublicKey: ssh-ed25519 AAAAC3NzaBENCH bench\n',
  defaults: false,
  home,
  env: {},
});
rmSync(home, { recursive: true, force: true });
const input = clusterNodeInput(cluster);

async function init(): Promise<{ config: IgnitionConfig; caCertPem: string }> {
  const [caKeys, adminKeys] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  const pki = await generateClusterPki({
    apiAddress: input.apiAddress,
    apiPort: 6443,
    serviceSubnets: [cluster.serviceSubnet],
    subject: { country: 'US', org: 'OCNE', state: 'TX' },
    now: new Date(),
    random: cryptoRandom,
    caKeys,
    adminKeys,
  });
  const config = initNodeIgnition({
    ...input,
    caCertPem: pki.caCertPem,
    caKeyPem: pki.caKeyPem,
    certificateKey: generateCertificateKey(cryptoRandom),
    expectWorkers: false,
  });
  return { config, caCertPem: pki.caCertPem };
}

const { config: initConfig, caCertPem } = await init();
const hashes = [caCertHash(caCertPem)];
const workerJoin = () =>
  joinNodeIgnition({
    ...input,
    role: 'worker',
    token: generateBootstrapToken(cryptoRandom),
    caCertHashes: hashes,
  });

await group('node Ignition, per node', [
  { name: 'init: 2 RSA-2048 keys + CA + admin cert + kubeconfig + Ignition', fn: init },
  { name: 'worker join Ignition (token + config + serialize)', fn: () => serializeIgnition(workerJoin()) },
  {
    name: 'control-plane join Ignition (virtual-IP stack)',
    fn: () =>
      serializeIgnition(
        joinNodeIgnition({
          ...input,
          role: 'control-plane',
          token: generateBootstrapToken(cryptoRandom),
          caCertHashes: hashes,
          certificateKey: 'a'.repeat(64),
        }),
      ),
  },
]);

const t0 = performance.now();
let bytes = 0;
for (let i = 0; i < 1000; i++) bytes += serializeIgnition(workerJoin()).length;
const elapsed = performance.now() - t0;
console.log(
  `\n1000 worker joins in one process: ${elapsed.toFixed(0)} ms in all, ${(elapsed / 1000).toFixed(3)} ms per node, ${(bytes / 1000).toFixed(0)} bytes per Ignition`,
);

// Size of each file's data URL as the percent-escaped form, and as chosen (escaped, base64 or gzip).
function sizes(name: string, config: IgnitionConfig) {
  const escaped = (b: Uint8Array) =>
    `data:,${[...b].map((x) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(x)) ? String.fromCharCode(x) : `%${x.toString(16).toUpperCase().padStart(2, '0')}`)).join('')}`;
  let before = 0;
  let after = 0;
  console.log(`\n${name}: data URL size per file, percent-escaped -> chosen`);
  for (const f of config.storage?.files ?? []) {
    const src = f.contents?.source ?? '';
    const plain = escaped(decodeDataUrl(src, f.contents?.compression)!);
    before += plain.length;
    after += src.length;
    console.log(
      `  ${f.path.padEnd(40)} ${String(plain.length).padStart(6)} -> ${String(src.length).padStart(6)} ${f.contents?.compression === 'gzip' ? '(gzip)' : src.startsWith('data:;base64') ? '(base64)' : ''}`,
    );
  }
  const whole = serializeIgnition(config).length;
  console.log(
    `  all files: ${before} -> ${after} bytes (${((after / before) * 100).toFixed(0)}%); whole Ignition ${whole + before - after} -> ${whole} bytes`,
  );
}
sizes('init (virtual IP)', initConfig);
sizes('worker join', workerJoin());
