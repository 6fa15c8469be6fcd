// A counting HTTPS proxy in front of a test registry, for what the registry's log cannot show:
// how many body bytes went each way per request, and what a client does when a connection dies
// in the middle of a blob. It forwards every request unchanged (the Host header too, so the
// registry's upload `Location`s point back at the proxy) and can cut a response after some bytes.
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestRegistry } from './registry.ts';

/** One request that went through the proxy. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** Range header of the request, if any. */
  readonly range: string | undefined;
  status: number;
  /** Body bytes sent by the client. */
  requestBytes: number;
  /** Body bytes passed to the client (fewer than the registry sent when the response was cut). */
  responseBytes: number;
  /** True when the proxy cut the response. */
  cut: boolean;
}

/** A running proxy. */
export interface RegistryProxy {
  /** `127.0.0.1:<port>`: use it in image references instead of the registry's host. */
  readonly host: string;
  readonly requests: ProxiedRequest[];
  /**
   * Cuts (destroys the connection of) the next response for which `when` is true once this many
   * body bytes have been passed on; one cut per call.
   */
  cutNext(when: (method: string, path: string) => boolean, afterBytes: number): void;
  close(): Promise<void>;
}

/** Starts a proxy to `registry` on a free port of 127.0.0.1, with the registry's certificate. */
export async function startRegistryProxy(registry: TestRegistry): Promise<RegistryProxy> {
  const { readFile } = await import('node:fs/promises');
  const [cert, key] = await Promise.all([readFile(registry.pki.certPath), readFile(registry.pki.keyPath)]);
  const requests: ProxiedRequest[] = [];
  let pendingCut: { when: (method: string, path: string) => boolean; afterBytes: number } | undefined;
  const [targetHost, targetPort] = registry.host.split(':') as [string, string];

  const server: Server = createServer({ cert, key }, (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const entry: ProxiedRequest = {
      method,
      path,
      range: req.headers.range,
      status: 0,
      requestBytes: 0,
      responseBytes: 0,
      cut: false,
    };
    requests.push(entry);
    let cutAt: number | undefined;
    if (pendingCut?.when(method, path)) {
      cutAt = pendingCut.afterBytes;
      pendingCut = undefined;
    }
    const upstream = httpsRequest(
      { host: targetHost, port: Number(targetPort), method, path, headers: req.headers, ca: registry.pki.ca },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(entry.status, answer.rawHeaders);
        answer.on('data', (chunk: Buffer) => {
          if (cutAt !== undefined && entry.responseBytes + chunk.length >= cutAt) {
            const part = chunk.subarray(0, cutAt - entry.responseBytes);
            entry.responseBytes += part.length;
            entry.cut = true;
            res.write(part, () => {
              res.socket?.destroy();
              answer.destroy();
            });
            cutAt = undefined;
            answer.pause();
            return;
          }
          if (entry.cut) return;
          entry.responseBytes += chunk.length;
          if (!res.write(chunk)) {
            answer.pause();
            res.once('drain', () => answer.resume());
          }
        });
        answer.on('end', () => {
          if (!entry.cut) res.end();
        });
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      entry.requestBytes += chunk.length;
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    cutNext(when, afterBytes) {
      pendingCut = { when, afterBytes };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
