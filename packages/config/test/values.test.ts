// The value formats configuration uses, checked directly.
import {
  architectureFromShape,
  ensureBootImageVersion,
  isSupportedKubernetesVersion,
  kubernetesVersionInfo,
  makeOstreeReference,
  parseCidr,
  parseOstreeReference,
  splitImage,
  supportedKubernetesVersions,
} from '@ocne/config';
import { describe, expect, it } from 'vitest';
// Internals of the config model, checked directly (not exported from the package).
import { checkDockerReference, checkOstreeReference } from '../src/images.js';
import { checkSubnetList, parseCompartment, parseOcid } from '../src/values.js';

describe('Kubernetes versions', () => {
  it('covers 1.26 to 1.33 with the component table', () => {
    expect(supportedKubernetesVersions().map((v) => v.minor)).toEqual([
      '1.26',
      '1.27',
      '1.28',
      '1.29',
      '1.30',
      '1.31',
      '1.32',
      '1.33',
    ]);
    expect(kubernetesVersionInfo('1.33')).toMatchObject({
      kubernetes: '1.33.5',
      etcd: '3.5.23',
      pause: '3.10',
      coreDns: 'current',
    });
    expect(kubernetesVersionInfo('1.26.6')?.coreDns).toBe('v1.9.3-4');
  });
  it.each([
    ['1.33', true],
    ['1.33.5', true],
    ['v1.33', true],
    ['1.33.0', false],
    ['1.34', false],
    ['1.25', false],
    ['latest', false],
  ])('isSupportedKubernetesVersion(%s) is %s', (v, ok) => {
    expect(isSupportedKubernetesVersion(v)).toBe(ok);
  });
  it('the table lookup does not strip a leading v, like upstream', () => {
    expect(kubernetesVersionInfo('v1.33')).toBeUndefined();
  });
});

describe('CIDRs', () => {
  it.each([
    ['10.244.0.0/16', undefined],
    ['10.244.0.0/16,fd00:10:244::/56', undefined],
    ['fd00::/8, 10.0.0.0/8', undefined],
    ['10.244.0.0/33', 'expected a CIDR'],
    ['10.244.0.0', 'expected a CIDR'],
    ['10.1.0.0/16,10.2.0.0/16', 'at most one IPv4'],
    ['fd00::/8,fd01::/8', 'at most one IPv6'],
    ['10.1.0.0/16,', 'empty entry'],
    ['fe80::1%eth0/64', 'expected a CIDR'],
  ])('%s', (value, problem) => {
    const result = checkSubnetList(value);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toContain(problem);
  });
  it('parses the family and prefix', () => {
    expect(parseCidr('fd00:10:244::/56')).toEqual({ family: 'ipv6', address: 'fd00:10:244::', prefix: 56 });
  });
});

describe('OCIDs, compartments and shapes', () => {
  it('parses OCIDs with and without a region', () => {
    expect(
      parseOcid('ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq'),
    ).toMatchObject({ kind: 'tenancy', realm: 'oc1', region: '' });
    expect(parseOcid('ocid1.image.oc1.phx.aaaaaaaa5y6bx')).toMatchObject({ kind: 'image', region: 'phx' });
    expect(parseOcid('ocid1.image')).toBeUndefined();
    expect(parseOcid('OCID1.IMAGE.OC1..AAAA')).toBeUndefined();
  });
  it('reads compartments as OCIDs or name paths', () => {
    expect(parseCompartment('ocid1.compartment.oc1..aaaa')).toEqual({
      kind: 'ocid',
      ocid: 'ocid1.compartment.oc1..aaaa',
    });
    expect(parseCompartment('parent/child_1/x.y-z')).toEqual({
      kind: 'path',
      names: ['parent', 'child_1', 'x.y-z'],
    });
    expect(parseCompartment('ocid1.vcn.oc1..aaaa')).toMatch(/kind/);
    expect(parseCompartment('a//b')).toMatch(/path of compartment names/);
    expect(parseCompartment('/a')).toMatch(/path of compartment names/);
  });
  it('takes the architecture from the shape, arm64 only for the known arm shapes', () => {
    expect(architectureFromShape('VM.Standard.A1.Flex')).toBe('arm64');
    expect(architectureFromShape('BM.Standard.A1.160')).toBe('arm64');
    expect(architectureFromShape('VM.Standard.A2.Flex')).toBe('arm64');
    expect(architectureFromShape('VM.Standard.E4.Flex')).toBe('amd64');
    expect(architectureFromShape('VM.Standard.A4.Flex')).toBe('amd64');
  });
});

describe('image references', () => {
  it.each([
    [
      'container-registry.oracle.com/olcne/ock:1.33',
      { transport: 'docker', baseImage: 'container-registry.oracle.com/olcne/ock', tag: '1.33', digest: '' },
    ],
    [
      'docker://localhost:5000/ock',
      { transport: 'docker', baseImage: 'localhost:5000/ock', tag: '', digest: '' },
    ],
    ['ock:latest', { transport: 'docker', baseImage: 'ock', tag: 'latest', digest: '' }],
    ['x/y@sha256:abcd', { transport: 'docker', baseImage: 'x/y', tag: '', digest: 'sha256:abcd' }],
    ['oci-archive:/tmp/a.tar', { transport: 'oci-archive', baseImage: '/tmp/a.tar', tag: '', digest: '' }],
  ])('splitImage(%s)', (name, expected) => {
    expect(splitImage(name)).toEqual(expected);
  });

  it('keeps a digest and a custom tag, replaces a version tag', () => {
    expect(ensureBootImageVersion('v1.32', 'x/ock')).toBe('docker://x/ock:1.32');
    expect(ensureBootImageVersion('1.32', 'docker://x/ock:1.31')).toBe('docker://x/ock:1.32');
    expect(ensureBootImageVersion('1.32', 'docker://x/ock:dev')).toBe('docker://x/ock:dev');
  });

  const ock = 'container-registry.oracle.com/olcne/ock-ostree';
  const sha = `sha256:${'a'.repeat(64)}`;
  it.each([
    [
      `ostree-unverified-registry:${ock}`,
      { transport: 'ostree-unverified-registry', baseImage: ock, tag: '' },
    ],
    [
      `ostree-unverified-registry:${ock}:1.33`,
      { transport: 'ostree-unverified-registry', baseImage: ock, tag: '1.33' },
    ],
    [
      'ostree-unverified-image:registry:example.com/o:1',
      { transport: 'ostree-unverified-image:registry', baseImage: 'example.com/o', tag: '1' },
    ],
    // Upstream writes the `//` into update.yaml's transport, and the node reads it from there.
    [
      'ostree-image-signed:docker://example.com/o',
      { transport: 'ostree-image-signed:docker://', baseImage: 'example.com/o', tag: '' },
    ],
    [
      `ostree-unverified-image:docker://${ock}:1.30`,
      { transport: 'ostree-unverified-image:docker://', baseImage: ock, tag: '1.30' },
    ],
    [
      `ostree-remote-image:remotename:docker://${ock}`,
      { transport: 'ostree-remote-image:remotename:docker://', baseImage: ock, tag: '' },
    ],
    [
      `ostree-unverified-image:containers-storage:${ock}:1.30`,
      { transport: 'ostree-unverified-image:containers-storage', baseImage: ock, tag: '1.30' },
    ],
    [
      'ostree-unverified-image:oci-archive:/tmp/o.tar',
      { transport: 'ostree-unverified-image:oci-archive', baseImage: '/tmp/o.tar', tag: '' },
    ],
    [
      'ostree-remote-image:ocne:registry:example.com/o:2',
      { transport: 'ostree-remote-image:ocne:registry', baseImage: 'example.com/o', tag: '2' },
    ],
    [
      `ostree-unverified-registry:${ock}@${sha}`,
      { transport: 'ostree-unverified-registry', baseImage: ock, tag: '' },
    ],
    // An explicit docker:// inside is read as upstream's SplitImage reads it.
    [
      'ostree-unverified-registry:docker://example.com/o',
      { transport: 'ostree-unverified-registry', baseImage: 'example.com/o', tag: '' },
    ],
    [
      'ostree-unverified-registry:localhost:5000/o',
      { transport: 'ostree-unverified-registry', baseImage: 'localhost:5000/o', tag: '' },
    ],
  ])('parseOstreeReference(%s)', (value, expected) => {
    expect(parseOstreeReference(value)).toEqual({ digest: value.endsWith(sha) ? sha : '', ...expected });
  });

  it.each([
    ['ostree-image-signed:docker:example.com/o', /expected "\/\/" after ostree-image-signed:docker/],
    ['ostree-remote-image:ocne:registry', /no image after ostree-remote-image:ocne:registry:/],
    ['ostree-remote-image:ocne:oci:/x', /expected ostree-remote-image:<remote>:registry/],
    ['ostree-remote-image::registry:example.com/o', /expected ostree-remote-image:<remote>:registry/],
    ['example.com/o', /no OSTree transport/],
    ['docker://example.com/o', /no OSTree transport/],
    ['ostree-unverified-image:ftp:example.com/o', /unknown transport "ftp" after ostree-unverified-image:/],
    ['ostree-unverified-registry:Example.com/Ock-Ostree', /repository name "Ock-Ostree" must be lower-case/],
    ['ostree-unverified-registry:example.com/ock ostree', /invalid repository name/],
    ['ostree-unverified-registry:example.com/ock-', /invalid repository name/],
    ['ostree-unverified-registry:example.com//ock', /invalid repository name/],
    ['ostree-unverified-registry:oci:/srv/ock', /transport "oci:" does not name a registry image/],
    ['ostree-unverified-registry:example.com/ock:-bad', /invalid tag "-bad"/],
    [`ostree-unverified-registry:example.com/ock:${'t'.repeat(129)}`, /invalid tag/],
    ['ostree-unverified-registry:example.com/ock@sha256:abc', /invalid digest "sha256:abc"/],
    [
      `ostree-unverified-registry:example.com/ock@sha256:${'a'.repeat(40)}`,
      /64 hexadecimal digits, found 40/,
    ],
    [
      `ostree-unverified-registry:example.com/ock@md5:${'a'.repeat(32)}`,
      /unsupported digest algorithm "md5"/,
    ],
    [`ostree-unverified-registry:example.com/ock@sha256:${'A'.repeat(64)}`, /lower-case hexadecimal/],
    [`ostree-unverified-registry:example.com/ock:1.33@${sha}`, /both a tag and a digest/],
    [`ostree-unverified-registry:${'a'.repeat(64)}`, /64-character hexadecimal/],
    [`ostree-unverified-registry:example.com/${'o'.repeat(250)}`, /longer than 255 characters/],
    ['ostree-unverified-registry:', /no image after ostree-unverified-registry:/],
  ])('refuses %s', (value, problem) => {
    expect(parseOstreeReference(value)).toBeUndefined();
    expect(checkOstreeReference(value)).toMatch(problem);
  });

  it('reads registry images by containers/image rules', () => {
    for (const ok of [
      'ubuntu',
      'library/ubuntu:22.04',
      'my_registry.com/x', // not a host, but a valid path on docker.io
      'registry-1.example.com:5000/a/b__c/d.e/f---g:V1_2.3',
      `x/y@sha512:${'b'.repeat(128)}`,
      'LOCALHOST.Example.COM/ock',
    ]) {
      expect(checkDockerReference(ok), ok).toBeUndefined();
    }
    // A long name that almost matches is refused at once (no backtracking blow-up).
    const start = performance.now();
    expect(checkDockerReference(`example.com/${'a-'.repeat(20_000)}!`)).toMatch(/invalid repository name/);
    expect(performance.now() - start).toBeLessThan(200);
  });

  it('makeOstreeReference adds the transport only when missing', () => {
    expect(makeOstreeReference('example.com/o')).toBe('ostree-unverified-registry:example.com/o');
    expect(makeOstreeReference('ostree-image-signed:registry:example.com/o')).toBe(
      'ostree-image-signed:registry:example.com/o',
    );
  });
});
