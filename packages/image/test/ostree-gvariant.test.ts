// Golden vectors from libostree itself: `ostree commit` into an archive repository writes `.filez`
// objects; our encoders must produce their headers byte for byte, and the content checksum we
// compute must be the object's name. Also upstream's ostree reference syntax.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseOstreeReference } from '@ocne/image';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveFileHeader, fileHeader, framed, S_IFLNK, S_IFREG } from '../src/ostree/gvariant.js';

const dir = mkdtempSync(join(tmpdir(), 'ocne-gvariant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `a(ayay)` written by hand from the GVariant spec, independent of the code under test. */
function xattrsVariant(pairs: [string, string][]): Buffer {
  const elements = pairs.map(([name, value]) => {
    const n = Buffer.from(`${name}\0`);
    const v = Buffer.from(value);
    return Buffer.concat([n, v, Buffer.from([n.length])]); // small: 1-byte framing offset
  });
  const body = Buffer.concat(elements);
  let end = 0;
  const offsets = elements.map((e) => {
    end += e.length;
    return end;
  });
  return Buffer.concat([body, Buffer.from(offsets)]);
}

interface Case {
  path: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
  xattrs: [string, string][];
  target?: string;
}

const cases: Case[] = [
  { path: 'plain.txt', content: 'hello ostree\n', mode: 0o644, uid: 0, gid: 0, xattrs: [] },
  { path: 'empty', content: '', mode: 0o600, uid: 0, gid: 0, xattrs: [] },
  { path: 'owned', content: 'etcd\n', mode: 0o640, uid: 998, gid: 997, xattrs: [] },
  {
    path: 'tool',
    content: '#!/bin/sh\n'.repeat(40),
    mode: 0o755,
    uid: 0,
    gid: 0,
    xattrs: [['user.note', 'a note']],
  },
  { path: 'link', content: '', mode: 0o777, uid: 0, gid: 0, xattrs: [], target: 'plain.txt' },
  // A target long enough that the header needs 2-byte framing offsets.
  { path: 'longlink', content: '', mode: 0o777, uid: 0, gid: 0, xattrs: [], target: 'x/'.repeat(150) },
];

describe('content object headers', () => {
  const tree = join(dir, 'tree');
  const repo = join(dir, 'repo');
  mkdirSync(tree);
  for (const c of cases) {
    const path = join(tree, c.path);
    if (c.target !== undefined) {
      symlinkSync(c.target, path);
      continue;
    }
    writeFileSync(path, c.content);
    chownSync(path, c.uid, c.gid);
    chmodSync(path, c.mode);
    for (const [name, value] of c.xattrs) execFileSync('setfattr', ['-n', name, '-v', value, path]);
  }
  execFileSync('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
  execFileSync('ostree', ['commit', `--repo=${repo}`, '--branch=t', `--tree=dir=${tree}`]);
  // `ls -C` prints the content checksum of each path.
  const listing = execFileSync('ostree', ['ls', '-C', `--repo=${repo}`, 't', '/'], { encoding: 'utf8' });
  const checksums = new Map<string, string>();
  for (const line of listing.trim().split('\n')) {
    const m = /([0-9a-f]{64}) \/([^ ]+)/.exec(line);
    if (m?.[1] && m[2]) checksums.set(m[2], m[1]);
  }

  it.each(cases)('$path: header bytes, payload and checksum as libostree writes them', (c) => {
    const checksum = checksums.get(c.path);
    expect(checksum).toMatch(/^[0-9a-f]{64}$/);
    const filez = readFileSync(join(repo, 'objects', checksum!.slice(0, 2), `${checksum!.slice(2)}.filez`));
    const fields = {
      uid: c.uid,
      gid: c.gid,
      mode: (c.target === undefined ? S_IFREG : S_IFLNK) | c.mode,
      symlinkTarget: c.target ?? '',
      xattrs: xattrsVariant(c.xattrs),
    };
    const header = framed(archiveFileHeader({ ...fields, size: BigInt(Buffer.byteLength(c.content)) }));
    expect(filez.subarray(0, header.length).toString('hex')).toBe(header.toString('hex'));
    const payload = filez.subarray(header.length);
    if (c.target === undefined) expect(inflateRawSync(payload).toString()).toBe(c.content);
    else expect(payload.length).toBe(0);
    const mine = createHash('sha256')
      .update(framed(fileHeader(fields)))
      .update(c.content)
      .digest('hex');
    expect(mine).toBe(checksum);
  });
});

describe('parseOstreeReference', () => {
  it('splits the forms upstream accepts', () => {
    expect(
      parseOstreeReference(
        'ostree-unverified-registry:container-registry.oracle.com/olcne/ock-ostree',
        '1.33',
      ),
    ).toEqual({
      transport: 'ostree-unverified-registry',
      image: 'container-registry.oracle.com/olcne/ock-ostree',
      tag: '1.33',
      pullReference: 'container-registry.oracle.com/olcne/ock-ostree:1.33',
    });
    expect(
      parseOstreeReference('ostree-unverified-image:docker://localhost:5000/ock-ostree', '1.32'),
    ).toMatchObject({
      transport: 'ostree-unverified-image:docker://',
      pullReference: 'localhost:5000/ock-ostree:1.32',
    });
    expect(parseOstreeReference('ostree-image-signed:registry:r.example/o/ock', 'v1')).toMatchObject({
      transport: 'ostree-image-signed:registry',
      pullReference: 'r.example/o/ock:v1',
    });
    expect(parseOstreeReference('ostree-remote-image:myremote:docker://r.example/ock', '1')).toMatchObject({
      transport: 'ostree-remote-image:myremote:docker://',
      pullReference: 'r.example/ock:1',
    });
  });

  it('refuses what upstream refuses', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
      return undefined;
    };
    expect(code(() => parseOstreeReference('docker://r.example/ock', '1'))).toEqual([
      'OCNE_IMAGE_OSTREE_REFERENCE',
      'docker://r.example/ock:1 is not a valid ostree image reference',
    ]);
    expect(code(() => parseOstreeReference('ostree-unverified-image:oci:/x', '1'))?.[0]).toBe(
      'OCNE_IMAGE_OSTREE_REFERENCE',
    );
    expect(code(() => parseOstreeReference('ostree-unverified-registry:r.example/ock', ''))).toEqual([
      'OCNE_IMAGE_OSTREE_REFERENCE',
      'ostree image r.example/ock requires a tag',
    ]);
  });
});
