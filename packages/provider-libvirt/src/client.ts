/**
 * The provider's one door to libvirt. Domains go through `@unraid/libvirt` (libvirt's C client as
 * a Node addon); pools, volumes, uploads, networks and the NVRAM-removing undefine, which that
 * addon lacks, go through `virsh` via execa. Every failure becomes an `OcneError`: the addon
 * reports every error with code -1, so "not found" and "not running" are told from libvirt's
 * message, as virsh's are.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventSink, OcneError } from '@ocne/core';
import type { Domain, Hypervisor } from '@unraid/libvirt';
import { execa } from 'execa';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** libvirt's "no such object" messages (domain, pool, volume, network). */
export function isNotFound(error: unknown): boolean {
  return /not found|no (domain|storage (pool|vol)|network) with matching|Storage volume not found/i.test(
    messageOf(error),
  );
}

/** The error of a virsh run: libvirt's `error:` lines, without virsh's decoration. */
function virshMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^error:\s*/, '').trim())
    .filter((l) => l !== '');
  return lines.join(': ') || 'virsh failed without a message';
}

const CONNECT_FAILURE =
  /failed to connect to the hypervisor|Failed to connect socket|no connection driver available|Cannot recv data|authentication failed/i;

/** Options of the calls that may be cancelled. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** A connection to one daemon. Close it when done. */
export class LibvirtClient {
  readonly uri: string;
  readonly #hypervisor: Hypervisor;
  readonly #emit: EventSink | undefined;

  private constructor(uri: string, hypervisor: Hypervisor, emit: EventSink | undefined) {
    this.uri = uri;
    this.#hypervisor = hypervisor;
    this.#emit = emit;
  }

  /** Connects to the daemon at `uri`. @throws `OcneError` `OCNE_LIBVIRT_CONNECT_FAILED` */
  static async connect(uri: string, options: { emit?: EventSink } = {}): Promise<LibvirtClient> {
    const { Hypervisor } = await import('@unraid/libvirt');
    const hypervisor = new Hypervisor({ uri });
    try {
      await hypervisor.connectOpen();
    } catch (error) {
      throw new OcneError(
        'OCNE_LIBVIRT_CONNECT_FAILED',
        `cannot connect to libvirt at ${uri}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    return new LibvirtClient(uri, hypervisor, options.emit);
  }

  async close(): Promise<void> {
    await this.#hypervisor.connectClose().catch(() => {});
  }

  /**
   * Runs virsh on this connection. @throws `OcneError` `OCNE_LIBVIRT_FAILED` (or
   * `OCNE_LIBVIRT_CONNECT_FAILED`, `OCNE_DEPENDENCY_MISSING` without virsh) with libvirt's message.
   */
  async virsh(args: readonly string[], options: CallOptions = {}): Promise<string> {
    this.#emit?.({ type: 'log', level: 'debug', message: `virsh ${args.join(' ')}` });
    const run = execa('virsh', ['-q', '-c', this.uri, ...args], {
      reject: false,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    const result = await run;
    options.signal?.throwIfAborted();
    if (result.failed) {
      const stderr = String(result.stderr ?? '');
      if ((result as { code?: string }).code === 'ENOENT' || /ENOENT/.test(result.message ?? '')) {
        throw new OcneError('OCNE_DEPENDENCY_MISSING', 'virsh is not installed (Debian: libvirt-clients)');
      }
      const message = virshMessage(stderr);
      throw new OcneError(
        CONNECT_FAILURE.test(stderr) ? 'OCNE_LIBVIRT_CONNECT_FAILED' : 'OCNE_LIBVIRT_FAILED',
        `virsh ${args[0]} failed: ${message}`,
      );
    }
    return String(result.stdout ?? '');
  }

  /** virsh with an XML document it reads from a file (define, vol-create). */
  async virshWithXml(args: readonly string[], xml: string, options: CallOptions = {}): Promise<string> {
    return this.withTempFile(xml, (file) => this.virsh([...args, file], options));
  }

  /** Writes `data` into a private temporary file for the duration of `use`. */
  async withTempFile<T>(data: string | Uint8Array, use: (file: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'ocne-libvirt-'));
    try {
      const file = join(dir, 'data');
      await writeFile(file, data, { mode: 0o600 });
      return await use(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof OcneError) throw error;
      throw new OcneError('OCNE_LIBVIRT_FAILED', `${what} failed: ${messageOf(error)}`, { cause: error });
    }
  }

  /** The host's CPU architecture as libvirt names it (`x86_64`, `aarch64`). */
  async hostArch(): Promise<string> {
    return (await this.#call('node info', () => this.#hypervisor.nodeGetInfo())).model;
  }

  /** True when the daemon can run `kvm` domains for `arch` (its capabilities list the kvm domain type). */
  async supportsKvm(arch: string, options: CallOptions = {}): Promise<boolean> {
    const caps = await this.virsh(['capabilities'], options);
    for (const guest of caps.split('<guest>')) {
      if (guest.includes(`<arch name='${arch}'>`) && guest.includes(`<domain type='kvm'`)) return true;
    }
    return false;
  }

  /** The domain named `name`, or undefined. */
  async domain(name: string): Promise<Domain | undefined> {
    try {
      return await this.#hypervisor.domainLookupByName(name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new OcneError('OCNE_LIBVIRT_FAILED', `looking up domain ${name} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Names of every domain, running or not. */
  async domainNames(): Promise<string[]> {
    const domains = await this.#call('listing domains', () => this.#hypervisor.connectListAllDomains());
    return Promise.all(domains.map((d) => this.#call('reading a domain name', () => d.getName())));
  }

  /** True when the domain runs (or is paused, blocked, shutting down: anything but shut off or crashed). */
  async isActive(domain: Domain): Promise<boolean> {
    const info = await this.#call('reading domain state', () => domain.getInfo());
    // virDomainState: 0 no state, 1 running, 2 blocked, 3 paused, 4 shutdown, 5 shutoff, 6 crashed, 7 suspended
    return ![0, 5, 6].includes(info.state as number);
  }

  async defineDomain(xml: string): Promise<Domain> {
    return this.#call('defining a domain', () => this.#hypervisor.domainDefineXML(xml));
  }

  /** Starts a defined domain. @throws `OcneError` `OCNE_LIBVIRT_DOMAIN_START_FAILED` with libvirt's reason. */
  async startDomain(domain: Domain, name: string): Promise<void> {
    try {
      await domain.create();
    } catch (error) {
      throw new OcneError(
        'OCNE_LIBVIRT_DOMAIN_START_FAILED',
        `domain ${name} did not start: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Stops a domain at once; one that is not running is fine. */
  async destroyDomain(domain: Domain, name: string): Promise<void> {
    try {
      await domain.destroy();
    } catch (error) {
      if (/not running|operation is not valid/i.test(messageOf(error))) return;
      throw new OcneError('OCNE_LIBVIRT_FAILED', `stopping domain ${name} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Undefines a domain and removes its NVRAM (an EFI domain cannot be undefined without). */
  async undefineDomain(name: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.virsh(['undefine', '--nvram', name], options);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }
}
