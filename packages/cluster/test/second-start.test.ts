// The facade's second start of a BYO cluster without an application catalog: a clear error, and
// no network access. (The plan of core applications is tested in packages/provider-byo/test.)
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '@ocne/cluster';
import { afterEach, describe, expect, it, vi } from 'vitest';

let home: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  if (home !== undefined) await rm(home, { recursive: true, force: true });
  home = undefined;
});

const BASE = 'provider: byo\nname: apps\nproviders:\n  byo:\n    networkInterface: eth0\n';

describe('a second Cluster.start', () => {
  it('without a catalog fails with OCNE_CATALOG_MISSING, touching no network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocne-second-start-'));
    home = dir;
    const text = `${BASE}virtualIp: 192.168.122.230\n`;
    await (await Cluster.open({ config: text, home: dir, defaults: false, env: {} })).start();
    const connect = vi.spyOn(Socket.prototype, 'connect');
    const second = await Cluster.open({ config: text, home: dir, defaults: false, env: {} });
    await expect(second.start()).rejects.toMatchObject({
      code: 'OCNE_CATALOG_MISSING',
      message: expect.stringContaining('needs the OCNE application catalog'),
    });
    expect(connect).not.toHaveBeenCalled();
  });
});
