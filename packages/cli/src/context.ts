/**
 * What every command shares: where the CLI writes, how it prints log lines, follows an operation's
 * events and reports a failure, and how command-line flags become the options of `Cluster.open`.
 * Only types come from `@ocne/cluster` and `@ocne/config` here; the facade itself is loaded on first
 * use ({@link facade}) so that `--help` and `--version` stay fast.
 */
import type { Cluster, ClusterOpenOptions, Operation, OperationOptions } from '@ocne/cluster';
import type { ClusterConfig, DefaultsConfig } from '@ocne/config';
import type { OcneEvent } from '@ocne/core';
import type { Command } from 'commander';
import { type LogFormat, type LogLevel, logLine, renderEvent, shown } from './render.js';
import { DirectOutput } from './stdio.js';

/** What a command's module (`commands/*.ts`) exports: the table in `main.ts` loads it on first use. */
export interface CommandModule {
  /** Adds the command's flags and action to the command the table made (named and described). */
  configure(command: Command, context: CliContext): void;
}

/**
 * The facade, loaded on first use so that `--help` and `--version` stay fast, with the providers
 * the CLI ships registered.
 */
export const facade = async (): Promise<typeof Cluster> => {
  const [cluster, { registerBundledProviders }] = await Promise.all([
    import('@ocne/cluster'),
    import('./providers.js'),
  ]);
  registerBundledProviders(cluster);
  return cluster.Cluster;
};

/** Ends a command with an exit code after its failure has been reported. */
export class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** The process the CLI runs in, with every default already resolved. */
export interface ContextOptions {
  /** What `console` passes on to the command on the node: `process.stdin` when undefined (read only then). */
  stdin: NodeJS.ReadableStream | undefined;
  /** A stream, or the process's descriptor written directly (see {@link DirectOutput}). */
  stdout: NodeJS.WritableStream | DirectOutput;
  stderr: NodeJS.WritableStream | DirectOutput;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal. */
  tty: boolean;
  signal: AbortSignal | undefined;
}

/**
 * The flags that `Cluster.open` reads, as commander names them; a command passes those it has.
 * `undefined` means not given.
 */
export interface OpenFlags {
  readonly config?: string | undefined;
  readonly clusterName?: string | undefined;
  readonly provider?: string | undefined;
  readonly controlPlaneNodes?: number | undefined;
  readonly workerNodes?: number | undefined;
  readonly version?: string | undefined;
  readonly virtualIp?: string | undefined;
  readonly loadBalancer?: string | undefined;
  readonly session?: string | undefined;
  readonly key?: string | undefined;
  readonly bootVolumeContainerImage?: string | undefined;
  readonly autoStartUi?: string | undefined;
}

/** The I/O of one CLI run, shared by its commands. */
export class CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tty: boolean;
  /** `{ signal }` when the run can be cancelled: spread into every operation's options. */
  readonly operationOptions: OperationOptions;
  /** Set from `--log-format` before a command runs; failures before that are text. */
  format: LogFormat = 'text';
  /** Set from `-l/--log-level` before a command runs. */
  level: LogLevel = 'info';
  readonly #stdin: NodeJS.ReadableStream | undefined;
  readonly #stdout: NodeJS.WritableStream | DirectOutput;
  readonly #stderr: NodeJS.WritableStream | DirectOutput;
  readonly #home: string | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(options: ContextOptions) {
    this.#stdin = options.stdin;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.env = options.env;
    this.tty = options.tty;
    this.#signal = options.signal;
    this.operationOptions = options.signal ? { signal: options.signal } : {};
    this.#home = this.env.HOME && this.env.HOME !== '' ? this.env.HOME : undefined;
  }

  /** The CLI's stdin; `process.stdin` is only touched when a command reads it (it holds a handle). */
  get stdin(): NodeJS.ReadableStream {
    return this.#stdin ?? process.stdin;
  }

  /** The CLI's stdout as a stream, for a command that pipes into it (the text goes through {@link out}). */
  get stdout(): NodeJS.WritableStream {
    return this.#stdout instanceof DirectOutput ? this.#stdout.stream : this.#stdout;
  }

  /** The CLI's stderr as a stream, for a command that pipes into it. */
  get stderr(): NodeJS.WritableStream {
    return this.#stderr instanceof DirectOutput ? this.#stderr.stream : this.#stderr;
  }

  /** Writes text as it is (commander's help and usage errors), without waiting for it. */
  write(to: 'stdout' | 'stderr', text: string): void {
    (to === 'stdout' ? this.#stdout : this.#stderr).write(text);
  }

  /** Writes one log line on stderr, in the current format (text lines below the log level are left out). */
  log(level: 'info' | 'error', message: string): void {
    if (this.format === 'text' && !shown(level, this.level)) return;
    if (this.format === 'json') {
      this.#stderr.write(
        `${JSON.stringify({ type: 'log', level, message, timestamp: new Date().toISOString() })}\n`,
      );
    } else {
      this.#stderr.write(logLine(level, message, new Date().toISOString(), this.tty));
    }
  }

  /** Renders an operation's events on stderr (those already emitted first) until it settles. */
  async follow<T>(operation: Operation<T>): Promise<T> {
    const render = (event: OcneEvent) =>
      renderEvent(event, { stream: this.#stderr, format: this.format, tty: this.tty, level: this.level });
    for (const event of operation.events) render(event);
    const off = operation.onEvent(render);
    try {
      return await operation;
    } finally {
      off();
    }
  }

  /**
   * Writes a command's output (an Ignition, YAML, names) on stdout and resolves once the stream
   * took it. A write that fails (`>/dev/full`, a closed pipe) rejects with `OCNE_OUTPUT_FAILED`
   * instead of an unhandled `'error'` event: `start` then records no cluster.
   */
  async out(text: string): Promise<void> {
    const failure = await new Promise<unknown>((resolve) => {
      try {
        this.#stdout.write(text, resolve);
      } catch (error) {
        resolve(error);
      }
    });
    if (failure === undefined || failure === null) return;
    const { OcneError } = await import('@ocne/core');
    const reason = failure instanceof Error ? failure.message : String(failure);
    throw new OcneError('OCNE_OUTPUT_FAILED', `could not write to standard output: ${reason}`, {
      cause: failure,
    });
  }

  /** Reports a failure on stderr and returns `exit`, the exit code to end with. */
  fail(message: string, code: string, exit = 1): number {
    if (this.format === 'json') {
      this.#stderr.write(
        `${JSON.stringify({ type: 'error', code, message, timestamp: new Date().toISOString() })}\n`,
      );
    } else {
      this.log('error', message);
    }
    return exit;
  }

  /** What every facade call takes from the process: home, environment and cancellation. */
  base(): Pick<ClusterOpenOptions, 'home' | 'env' | 'signal'> {
    return {
      ...(this.#home ? { home: this.#home } : {}),
      env: this.env,
      ...(this.#signal ? { signal: this.#signal } : {}),
    };
  }

  /**
   * The options of `Cluster.open` for `flags`: the file of `-c`, the cluster flags as overrides of
   * it, the libvirt and boot-volume flags as overrides of the defaults file.
   */
  openOptions(flags: OpenFlags, defaultProvider: string): ClusterOpenOptions {
    const overrides: ClusterConfig = {};
    if (flags.clusterName !== undefined) overrides.name = flags.clusterName;
    if (flags.provider !== undefined) overrides.provider = flags.provider;
    if (flags.controlPlaneNodes !== undefined) overrides.controlPlaneNodes = flags.controlPlaneNodes;
    if (flags.workerNodes !== undefined) overrides.workerNodes = flags.workerNodes;
    if (flags.version !== undefined) overrides.kubernetesVersion = flags.version;
    if (flags.virtualIp !== undefined) overrides.virtualIp = flags.virtualIp;
    if (flags.loadBalancer !== undefined) overrides.loadBalancer = flags.loadBalancer;
    const configOverrides: DefaultsConfig = {};
    if (flags.session !== undefined || flags.key !== undefined) {
      configOverrides.providers = {
        libvirt: {
          ...(flags.session !== undefined ? { uri: flags.session } : {}),
          ...(flags.key !== undefined ? { sshKey: flags.key } : {}),
        },
      };
    }
    if (flags.bootVolumeContainerImage !== undefined)
      configOverrides.bootVolumeContainerImage = flags.bootVolumeContainerImage;
    if (flags.autoStartUi !== undefined) configOverrides.autoStartUI = flags.autoStartUi;
    return {
      ...this.base(),
      defaultProvider,
      ...(flags.config !== undefined ? { configPath: flags.config } : {}),
      ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
      ...(Object.keys(configOverrides).length > 0 ? { configOverrides } : {}),
    };
  }
}
