// The pure edits of `image create --type oci`: checked against fixed cases and against GNU sed
// running upstream's exact expressions on the same text.
import { execFileSync } from 'node:child_process';
import { isOcneError } from '@ocne/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deployPathFromBls,
  isMachineIdName,
  kernelArgumentsSeparator,
  modeAfterCopy,
  rewriteBls,
  rewriteFstab,
} from '../src/create/edits.js';

const OLD_ROOT = '7d2c0a4e-0000-4000-8000-000000000003';
const NEW_ROOT = '11111111-2222-4333-8444-555555555555';
const NEW_BOOT = '66666666-7777-4888-8999-aaaaaaaaaaaa';

const BLS = [
  'title Oracle Linux Server 8 (ostree:0)',
  'version 1',
  'linux /ostree/ock-abc/vmlinuz',
  'initrd /ostree/ock-abc/initramfs.img',
  `options rw ip=dhcp rd.neednet=1 ignition.platform.id=qemu ignition.firstboot=1 crashkernel=auto console=ttyS0 root=UUID=${OLD_ROOT} ostree=/ostree/boot.1/ock/abc/0`,
  '',
].join('\n');

/** GNU sed with upstream's expression (the shell's double quotes leave `\t` to sed). */
const sed = (expression: string, text: string): string =>
  execFileSync('sed', [expression], {
    input: text,
    encoding: 'utf8',
    env: { LC_ALL: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });

describe('rewriteBls', () => {
  it('sets the platform id, appends the arguments to the options line and swaps the root UUID', () => {
    const out = rewriteBls(BLS, {
      ignitionProvider: 'oci',
      kernelArguments: 'foo=1 bar',
      oldRootUuid: OLD_ROOT,
      newRootUuid: NEW_ROOT,
    });
    expect(out).toBe(
      BLS.replace('ignition.platform.id=qemu', 'ignition.platform.id=oci')
        .replace(OLD_ROOT, NEW_ROOT)
        .replace('abc/0\n', 'abc/0 foo=1 bar\n'),
    );
  });

  it('leaves other platform ids and lines alone, and changes the console only for olvm', () => {
    const text = 'options ignition.platform.id=metal console=ttyS0\ntitle options x\n';
    expect(rewriteBls(text, { ignitionProvider: 'oci', oldRootUuid: OLD_ROOT, newRootUuid: NEW_ROOT })).toBe(
      text,
    );
    expect(
      rewriteBls(text, {
        ignitionProvider: 'openstack',
        oldRootUuid: OLD_ROOT,
        newRootUuid: NEW_ROOT,
        olvmConsole: true,
      }),
    ).toBe('options ignition.platform.id=metal console=tty0\ntitle options x\n');
  });

  it('does what sed does with upstream expressions, for any arguments free of sed replacement syntax', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'options ',
            'ignition.platform.id=qemu',
            'ignitionXplatform_id=qemu ',
            OLD_ROOT,
            'a',
            ' ',
            '\t',
            '\n',
          ),
          {
            maxLength: 12,
          },
        ),
        fc.oneof(fc.stringMatching(/^[ -%'-[\]-~]{0,20}$/), fc.constantFrom('!"#', '!"', '!"# a')),
        (parts, args) => {
          const text = parts.join('');
          fc.pre(!text.includes('\r'));
          const options = {
            ignitionProvider: 'oci',
            kernelArguments: args,
            oldRootUuid: OLD_ROOT,
            newRootUuid: NEW_ROOT,
          };
          let expected = sed('s/ignition.platform.id=qemu/ignition.platform.id=oci/g', text);
          if (args !== '') {
            // The separator as upstream picks it, before our own refusal of the ones sed rejects.
            let sep = '';
            for (let c = 0x21; c <= 0x7e && sep === ''; c++)
              if (!args.includes(String.fromCharCode(c))) sep = String.fromCharCode(c);
            if (sep === '$' || sep === '\\') {
              // `s$$$ <args>$` makes sed read the arguments as flags (`w file` writes a file, `e`
              // runs a command): never run it; we refuse these before editing anything.
              expect(() => rewriteBls(text, options)).toThrow(/sed expression invalid/);
              return;
            }
            expected = sed(`/^options / s${sep}$${sep} ${args}${sep}`, expected);
          }
          expected = sed(`s/${OLD_ROOT}/${NEW_ROOT}/g`, expected);
          const actual = rewriteBls(text, options);
          // GNU sed keeps a missing newline at the end, as mapLines does.
          expect(actual).toBe(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('kernelArgumentsSeparator', () => {
  it('picks the first printable character the arguments lack, as upstream', () => {
    expect(kernelArgumentsSeparator('a b')).toBe('!');
    expect(kernelArgumentsSeparator('!"x')).toBe('#');
    // `$` would be next, and upstream's sed rejects `s$$$ …$`.
    expect(() => kernelArgumentsSeparator('!"#x')).toThrow(/sed expression invalid/);
  });
  it('fails with a typed error when every printable character is used', () => {
    let all = '';
    for (let c = 0x21; c <= 0x7e; c++) all += String.fromCharCode(c);
    try {
      kernelArgumentsSeparator(all);
      expect.unreachable();
    } catch (error) {
      expect(isOcneError(error) && error.code).toBe('OCNE_IMAGE_KERNEL_ARGS_INVALID');
    }
    expect(() =>
      rewriteBls('options x\n', {
        ignitionProvider: 'oci',
        kernelArguments: all,
        oldRootUuid: 'u',
        newRootUuid: 'v',
      }),
    ).toThrow(/all printable characters/);
  });
});

describe('deployPathFromBls', () => {
  it('takes the ostree= value up to a space or an equals sign, as grep -o | cut -d= -f2', () => {
    expect(deployPathFromBls(BLS)).toBe('/ostree/boot.1/ock/abc/0');
    expect(deployPathFromBls('options ostree=/a/b=c d\n')).toBe('/a/b');
  });
  it('refuses an entry with no path or two different ones', () => {
    expect(() => deployPathFromBls('options root=x\n')).toThrow(/found none/);
    expect(() => deployPathFromBls('options ostree=/a ostree=/b\n')).toThrow(/"\/a", "\/b"/);
  });
});

describe('rewriteFstab', () => {
  const FSTAB = [
    'UUID=7d2c0a4e-0000-4000-8000-000000000003 / xfs defaults 0 0',
    'UUID=7d2c0a4e-0000-4000-8000-000000000002 /boot\txfs defaults 0 0',
    'UUID=ABCD-1234 /boot/efi vfat umask=0077 0 2',
    'LABEL=data /data xfs defaults 0 0',
    '',
  ].join('\n');

  it('sets the root and /boot UUIDs and leaves /boot/efi and other lines alone', () => {
    expect(rewriteFstab(FSTAB, { rootUuid: NEW_ROOT, bootUuid: NEW_BOOT })).toBe(
      [
        `UUID=${NEW_ROOT} / xfs defaults 0 0`,
        `UUID=${NEW_BOOT} /boot xfs defaults 0 0`,
        'UUID=ABCD-1234 /boot/efi vfat umask=0077 0 2',
        'LABEL=data /data xfs defaults 0 0',
        '',
      ].join('\n'),
    );
  });

  it('keeps the A-z typo: [\\]^_` count as UUID characters', () => {
    expect(rewriteFstab('UUID=a_b^c` / xfs\n', { rootUuid: NEW_ROOT, bootUuid: NEW_BOOT })).toBe(
      `UUID=${NEW_ROOT} / xfs\n`,
    );
  });

  it('does what sed does with upstream expressions', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('UUID=', 'abc-9', '_`[', ' ', '\t', '/', '/boot', ' /boot/efi', 'xfs', '\n', '#'),
          {
            maxLength: 16,
          },
        ),
        (parts) => {
          const text = parts.join('');
          const expected = sed(
            `s|UUID=[a-zA-z0-9-]* /boot[ \\t]|UUID=${NEW_BOOT} /boot |g`,
            sed(`s|UUID=[a-zA-z0-9-]* /[ \\t]|UUID=${NEW_ROOT} / |g`, text),
          );
          expect(rewriteFstab(text, { rootUuid: NEW_ROOT, bootUuid: NEW_BOOT })).toBe(expected);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('machine-id and modes', () => {
  it('matches machine-id in any case, and only that name', () => {
    expect(['machine-id', 'Machine-ID', 'machine-id.bak', 'xmachine-id'].map(isMachineIdName)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
  it('gives copied files the mode cp and chmod +x give them', () => {
    expect(modeAfterCopy(undefined)).toBe(0o511);
    expect(modeAfterCopy(0o644)).toBe(0o755);
  });
});
