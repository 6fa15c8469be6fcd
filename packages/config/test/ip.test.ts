// The IP address checks agree with `node:net` on every input: random strings over the characters
// addresses are made of, real addresses of both families in every spelling, and their damages.
import { isIP as netIsIP, isIPv4 as netIsIPv4, isIPv6 as netIsIPv6 } from 'node:net';
import { isIP, isIPv4, isIPv6 } from '@ocne/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const agree = (text: string): void => {
  expect([isIP(text), isIPv4(text), isIPv6(text)], JSON.stringify(text)).toEqual([
    netIsIP(text),
    netIsIPv4(text),
    netIsIPv6(text),
  ]);
};

const octet = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.constantFrom('00', '01', '256', '999', '1000', ''),
);
const v4 = fc.array(octet, { minLength: 3, maxLength: 5 }).map((p) => p.join('.'));
const group = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)),
  fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16).toUpperCase().padStart(4, '0')),
  fc.constantFrom('', '0', 'g', '12345', 'ffff'),
);
const v6 = fc
  .tuple(
    fc.array(group, { minLength: 0, maxLength: 9 }),
    fc.nat(9),
    fc.boolean(),
    fc.option(v4, { nil: undefined }),
    fc.option(fc.constantFrom('eth0', '1', 'en-0.1:x', '', 'bad zone', '%'), { nil: undefined }),
  )
  .map(([groups, at, compress, tail, zone]) => {
    const parts = [...groups];
    if (tail !== undefined) parts.push(tail);
    let text = parts.join(':');
    if (compress) {
      const i = Math.min(at, parts.length);
      text = `${parts.slice(0, i).join(':')}::${parts.slice(i).join(':')}`;
    }
    return zone === undefined ? text : `${text}%${zone}`;
  });

describe('isIP, isIPv4, isIPv6', () => {
  it('agree with node:net on generated addresses of both families and their damages', () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), (text) => agree(text)),
      { numRuns: 20_000 },
    );
  });

  it('agree with node:net on random strings of address characters', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFgG:.%-z '.split(''));
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 45 }).map((c) => c.join('')),
        (text) => agree(text),
      ),
      { numRuns: 20_000 },
    );
  });

  it('agree with node:net on the spellings that matter', () => {
    for (const text of [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      ' 1.2.3.4',
      '::',
      '::1',
      '1::',
      '::ffff:192.0.2.1',
      '2001:db8::1',
      '2001:DB8:0:0:0:0:0:1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3.4',
      '1.2.3.4::',
      ':::',
      '1:::2',
      '1::2::3',
      'fe80::1%eth0',
      'fe80::1%',
      'fe80::1%a b',
      '192.0.2.1%eth0',
      '[::1]',
      '',
      ':',
      '1:2',
      'fffff::1',
    ]) {
      agree(text);
    }
  });
});
