// Shared by the libvirt tests: a configuration on the private daemon, a provider context, and
// the provider with the tiny boot image and a serial log per domain.
import { mkdtemp } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ResolvedConfig } from '@ocne/config';
import type { ClusterProvider, EventInput, ProviderContext } from '@ocne/core';
import { type InjectedLibvirt, libvirtFromInject } from '@ocne/test-libvirt/vitest';
import { createLibvirtProvider, type LibvirtProviderOptions } from '../../src/index.ts';

export const libvirt: InjectedLibvirt = libvirtFromInject();

/** A cluster configuration on the test daemon, in a new home. */
export async function libvirtConfig(
  name: string,
  extra = '',
): Promise<{ config: ResolvedConfig; home: string }> {
  const home = await mkdtemp(join(tmpdir(), `ocne-libvirt-home-${name}-`));
  const text = `provider: libvirt\nname: ${name}\nproviders:\n  libvirt:\n    uri: ${libvirt.uri}\n    controlPlaneNode:\n      memory: 524288Ki\n      cpu: 1\n      storage: 2Gi\n${extra}`;
  const config = await loadConfig({ config: text, defaults: false, home, env: {} });
  return { config, home };
}

/** A provider context that records the events. */
export function contextFor(
  config: ResolvedConfig,
  home: string,
  events: EventInput[] = [],
): ProviderContext<ResolvedConfig> {
  return { config, home, env: {}, emit: (e) => events.push(e), signal: new AbortController().signal };
}

/** The provider on the tiny boot image, logging each domain's serial console into the daemon's log folder. */
export function testProvider(options: LibvirtProviderOptions = {}): ClusterProvider<ResolvedConfig> {
  return createLibvirtProvider({
    bootImage: async () => libvirt.bootImage,
    serialLogDir: libvirt.logDir,
    kubernetes: false,
    ...options,
  });
}

export const serialLog = (domain: string): string => join(libvirt.logDir, `${domain}.log`);

/** Reads what the guest's API port answers through the tunnel, once per attempt. */
function readOnce(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(20_000, () => socket.destroy());
  });
}

/**
 * The guest prints that it listens just before its nc does; until then slirp accepts the host
 * side and closes it empty, so an empty answer is tried again.
 */
export async function readTunnel(port: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const data = await readOnce(port);
    if (data !== '' || Date.now() > deadline) return data;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
