// createImage's refusals before any disk work, the editor selection's typed error, and the
// dhclient files we ship (bash must parse them; the hook defines what the dispatcher calls).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KUBERNETES_VERSION } from '@ocne/config';
import { OcneError } from '@ocne/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootImageReference, createImage, OCI_DHCLIENT_FILES, selectDiskEditor } from '../src/index.js';

describe('createImage refusals', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'ocne-create-'));
  });
  afterAll(async () => rm(home, { recursive: true, force: true }));

  const refused = async (options: Parameters<typeof createImage>[0], code: string, message: RegExp) => {
    let pulled = false;
    const op = createImage({
      home,
      ...options,
      pull: async () => {
        pulled = true;
        return { directory: home };
      },
    });
    await expect(op.promise()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(pulled).toBe(false);
    expect(op.events.at(-1)).toMatchObject({ type: 'done', ok: false, error: { code } });
  };

  it('refuses what upstream refuses, before pulling anything', async () => {
    await refused({ arch: 'x86' as 'amd64' }, 'OCNE_USAGE', /^Architecture must be one of: amd64, arm64$/);
    await refused({ ignitionProvider: 'o ci' }, 'OCNE_USAGE', /^'o ci' is not a valid ignition provider$/);
    await refused({ kernelArguments: '!"#' }, 'OCNE_IMAGE_KERNEL_ARGS_INVALID', /sed expression invalid/);
    expect(await readdir(home)).toEqual([]);
  });

  it("type 'ostree' runs the OSTree server image: it pulls the ock-ostree image first", async () => {
    const references: string[] = [];
    const op = createImage({
      type: 'ostree',
      home,
      osRegistry: 'ostree-unverified-registry:registry.local/olcne/ock-ostree',
      pull: async ({ reference }) => {
        references.push(reference);
        throw new OcneError('OCNE_REGISTRY_UNREACHABLE', 'stop here');
      },
    });
    await expect(op.promise()).rejects.toMatchObject({ code: 'OCNE_REGISTRY_UNREACHABLE' });
    expect(references).toEqual([`registry.local/olcne/ock-ostree:${DEFAULT_KUBERNETES_VERSION}`]);
  });

  it('pulls the OCK image tagged with the Kubernetes version, as upstream names it', () => {
    expect(bootImageReference('1.31')).toBe('docker://container-registry.oracle.com/olcne/ock:1.31');
    expect(bootImageReference('1.31', 'registry.local/ock:1.33')).toBe('docker://registry.local/ock:1.31');
    expect(bootImageReference('1.31', 'registry.local/ock:custom')).toBe(
      'docker://registry.local/ock:custom',
    );
  });
});

describe('selectDiskEditor', () => {
  it('names what each editor lacks when none can run', async () => {
    await expect(selectDiskEditor('auto', { PATH: '' })).rejects.toMatchObject({
      code: 'OCNE_IMAGE_EDITOR_UNAVAILABLE',
      message: expect.stringMatching(
        /loop: missing .*qemu-storage-daemon \(qemu-system-common.*; guestfs: missing guestfish \(libguestfs-tools\)/,
      ),
    });
  });
});

describe('the dhclient files', () => {
  it('are bash scripts bash parses, at the paths upstream writes', () => {
    expect(OCI_DHCLIENT_FILES.map((f) => f.path)).toEqual([
      'etc/oci-dhclient.sh',
      'etc/dhcp/dhclient.d/oci.sh',
      'etc/NetworkManager/dispatcher.d/11-dhclient',
    ]);
    for (const file of OCI_DHCLIENT_FILES) {
      expect(file.content.startsWith('#!/bin/bash\n')).toBe(true);
      execFileSync('bash', ['-n'], { input: file.content });
    }
  });

  it('hook: oci_config runs the worker and never fails; oci_restore does nothing', () => {
    const hook = OCI_DHCLIENT_FILES[1]!.content;
    const out = execFileSync(
      'bash',
      ['-c', `${hook}\ntype oci_config oci_restore >/dev/null && oci_restore && echo ok`],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toBe('ok\n');
    expect(hook).toContain('/etc/oci-dhclient.sh || :');
  });
});
