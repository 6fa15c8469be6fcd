/**
 * Running a command in a pod's container as `kubectl exec` does: a WebSocket to the pod's `exec`
 * subresource (the API server relays it to the kubelet), stdin, stdout and stderr streamed, the
 * exit code read from the final status. The `v5.channel.k8s.io` protocol lets stdin end while the
 * output keeps coming, so piped input works as with kubectl.
 *
 * Each WebSocket message is one channel byte and the data: 0 stdin, 1 stdout, 2 stderr, 3 the
 * final `Status` (JSON), 4 terminal size (JSON), and 255 + a channel number to close that channel.
 */
import type { V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import type { KubeClient } from './client.js';
import { KubeError } from './errors.js';

/** Options of {@link execInPod}. */
export interface ExecOptions {
  namespace: string;
  pod: string;
  container: string;
  /** An argument vector (no shell). */
  command: readonly string[];
  /** Sent to the command; its end closes the command's stdin. Without it the command has no stdin. */
  stdin?: NodeJS.ReadableStream | undefined;
  stdout?: NodeJS.WritableStream | undefined;
  stderr?: NodeJS.WritableStream | undefined;
  /** Ask for a terminal (stderr then comes on stdout); when `stdout` has `rows`/`columns`, the terminal follows its size. */
  tty?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** The exit code in an exec status: 0 for `Success`, the `ExitCode` cause of `NonZeroExitCode`. */
function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
  return Number.isInteger(code) ? code : undefined;
}

/** The exec URL: `wss://…/api/v1/namespaces/NS/pods/POD/exec?command=…&command=…&stdout=true…`. */
function execUrl(server: string, options: ExecOptions): string {
  const url = new URL(
    `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.pod)}/exec`,
    server,
  );
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  for (const arg of options.command) url.searchParams.append('command', arg);
  url.searchParams.set('container', options.container);
  url.searchParams.set('stdin', String(options.stdin !== undefined));
  url.searchParams.set('stdout', 'true');
  url.searchParams.set('stderr', String(!options.tty));
  url.searchParams.set('tty', String(options.tty ?? false));
  return url.toString();
}

/** Writes `data` to `stream` and resolves once it took it (its back-pressure is respected). */
function writeTo(stream: NodeJS.WritableStream | undefined, data: Buffer): Promise<void> {
  if (stream === undefined || data.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/**
 * Runs `command` in the container and resolves with its exit code once it has finished and its
 * output has been written. A command that could not be started (not found, a container that is
 * not running) is an `OCNE_KUBE_API` error with the server's message; an abort closes the
 * connection (the command gets a hang-up) and rejects with `OCNE_CANCELLED`.
 */
export async function execInPod(client: KubeClient, options: ExecOptions): Promise<number> {
  const { stdin, signal } = options;
  const what = `exec in pod ${options.namespace}/${options.pod}`;
  signal?.throwIfAborted();
  const cluster = client.config.getCurrentCluster();
  if (!cluster) throw new KubeError('OCNE_KUBE_API', `${what}: the kubeconfig names no cluster`);
  // CA, client certificate and bearer token, exactly as for every other request.
  const tls: { ca?: unknown; cert?: unknown; key?: unknown; headers?: Record<string, string> } = {};
  await client.config.applyToHTTPSOptions(tls as never);
  const socket = new WebSocket(execUrl(cluster.server, options), PROTOCOLS, {
    ...(tls as object),
    rejectUnauthorized: !cluster.skipTLSVerify,
  });
  // Output is written in order: each message waits for the previous one to be taken.
  let writing = Promise.resolve();
  let status: V1Status | undefined;
  const cleanups: (() => void)[] = [];

  const done = new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      socket.terminate();
      reject(new KubeError('OCNE_CANCELLED', `${what}: cancelled`, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal?.removeEventListener('abort', onAbort));
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => {
        const message = (() => {
          try {
            return (JSON.parse(body) as { message?: string }).message;
          } catch {
            return undefined;
          }
        })();
        reject(
          new KubeError(
            'OCNE_KUBE_API',
            `${what}: HTTP ${response.statusCode}${message ? `: ${message}` : ''}`,
            {
              status: { code: response.statusCode ?? 0, reason: 'Unknown', message: message ?? body },
            },
          ),
        );
      });
    });
    socket.on('error', (error) => {
      reject(new KubeError('OCNE_KUBE_API', `${what}: ${error.message}`, { cause: error }));
    });
    socket.on('close', () => resolve());
  });

  socket.on('message', (data: Buffer) => {
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === STDOUT) writing = writing.then(() => writeTo(options.stdout, payload));
    else if (channel === STDERR) writing = writing.then(() => writeTo(options.stderr, payload));
    else if (channel === STATUS) status = JSON.parse(payload.toString('utf8')) as V1Status;
  });

  socket.once('open', () => {
    if (stdin !== undefined) {
      const onData = (chunk: Buffer | string): void => {
        if (socket.readyState === WebSocket.OPEN)
          socket.send(Buffer.concat([Buffer.of(STDIN), Buffer.from(chunk)]));
      };
      const onEnd = (): void => {
        if (socket.readyState !== WebSocket.OPEN) return;
        // v5 closes stdin alone; older protocols can only end the whole session.
        if (socket.protocol === 'v5.channel.k8s.io') socket.send(Buffer.of(CLOSE, STDIN));
        else socket.close();
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      cleanups.push(() => {
        stdin.removeListener('data', onData);
        stdin.removeListener('end', onEnd);
      });
    }
    const terminal = options.stdout as
      | (NodeJS.WritableStream & { rows?: number; columns?: number })
      | undefined;
    if (options.tty && terminal?.rows !== undefined && terminal.columns !== undefined) {
      const resize = (): void => {
        if (socket.readyState === WebSocket.OPEN) {
          const size = JSON.stringify({ Width: terminal.columns, Height: terminal.rows });
          socket.send(Buffer.concat([Buffer.of(RESIZE), Buffer.from(size)]));
        }
      };
      resize();
      terminal.on('resize', resize);
      cleanups.push(() => terminal.removeListener('resize', resize));
    }
  });

  try {
    await done;
    await writing;
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
  if (status === undefined) {
    throw new KubeError(
      'OCNE_KUBE_API',
      `${what}: the connection closed before the command's exit status came`,
    );
  }
  const exitCode = exitCodeOf(status);
  if (exitCode === undefined) {
    throw new KubeError(
      'OCNE_KUBE_API',
      `${what}: ${status.message ?? status.reason ?? 'the command could not be run'}`,
      {
        status: {
          code: status.code ?? 500,
          reason: status.reason ?? 'InternalError',
          message: status.message ?? '',
        },
      },
    );
  }
  return exitCode;
}
