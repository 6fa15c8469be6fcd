/**
 * Which libvirt daemon a configured URI means, and where the host's forwarded ports are reached,
 * as upstream decides both (`CreateDriver`). Upstream speaks libvirt's RPC itself, which on Linux
 * always dials the system daemon's socket; this SDK goes through libvirt's C client (virsh and
 * `@unraid/libvirt`), which would start a per-user session daemon for `qemu:///session`, with other
 * pools and no networks. So on Linux a plain `qemu:///session` is mapped to `qemu:///system`, the
 * daemon upstream reaches. A URI that names its socket (`?socket=`) is taken as it is.
 */
import { lookup } from 'node:dns/promises';
import { OcneError } from '@ocne/core';

/** A configured connection, resolved. */
export interface LibvirtConnection {
  /** The URI as configured. */
  configured: string;
  /** The URI given to libvirt's client. */
  uri: string;
  /** True when the URI names no host: the daemon runs here. */
  local: boolean;
  /** The URI's host name (`''` when local), the key of `~/.ocne/ips.yaml`'s `hosts`. */
  host: string;
  /** Where forwarded ports listen and clients reach them: 127.0.0.1, or the remote host's first address. */
  targetIp: string;
}

/** Options of {@link resolveConnection}. */
export interface ResolveConnectionOptions {
  /** @defaultValue `process.platform` */
  platform?: NodeJS.Platform;
  /** The home folder (macOS session socket). */
  home?: string;
  /** Resolves a remote host name. @defaultValue `dns.lookup` (first address) */
  resolve?: (host: string) => Promise<string>;
}

/**
 * Resolves a configured URI. `user@host` (no scheme) becomes `qemu+ssh://user@host/system`, as
 * upstream makes it. As upstream, a URI with a host counts as remote, even `localhost`.
 *
 * Decision for `qemu+ssh`: the C client runs OpenSSH, so `~/.ssh/config` applies and the remote
 * needs `virt-ssh-helper` or `nc` (`nc -U` when the URI names a `socket=`: `virt-ssh-helper` only
 * reaches the default socket); upstream's own client reads no ssh config.
 */
export async function resolveConnection(
  configured: string,
  options: ResolveConnectionOptions = {},
): Promise<LibvirtConnection> {
  const platform = options.platform ?? process.platform;
  let text = configured.trim();
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    if (/^[^/@\s]+@[^/@\s]+$/.test(text)) text = `qemu+ssh://${text}/system`;
    else throw new OcneError('OCNE_CONFIG_INVALID_VALUE', `${configured} is not a libvirt URI`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new OcneError('OCNE_CONFIG_INVALID_VALUE', `${configured} is not a libvirt URI`, { cause: error });
  }
  const host = url.hostname;
  const local = host === '';
  let uri = text;
  if (local && !url.searchParams.has('socket')) {
    const scheme = url.protocol.replace(/:$/, '');
    if (platform === 'linux' && url.pathname === '/session' && /^qemu(\+unix)?$/.test(scheme)) {
      uri = `${scheme}:///system${url.search}`;
    } else if (platform === 'darwin' && url.pathname === '/session' && options.home) {
      uri = `${text}${url.search ? '&' : '?'}socket=${options.home}/.cache/libvirt/libvirt-sock`;
    }
  }
  let targetIp = '127.0.0.1';
  if (!local) {
    const resolve = options.resolve ?? (async (h: string) => (await lookup(h)).address);
    try {
      targetIp = await resolve(host.replace(/^\[|\]$/g, ''));
    } catch (error) {
      throw new OcneError(
        'OCNE_LIBVIRT_CONNECT_FAILED',
        `cannot resolve the libvirt host ${host}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return { configured, uri, local, host, targetIp };
}
