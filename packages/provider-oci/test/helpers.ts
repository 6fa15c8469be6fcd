// Shared setup of the provider's cloud tests: an OCI API server, a config file for its test
// user, and session options with fast retries and short time limits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OciApiServer, type OciApiServerOptions, startOciApiServer } from '@ocne/test-oci-api';
import type { OciCloudOptions } from '../src/index.js';

/** A server, a temp folder and an OCI config for the server's user. */
export interface CloudFixture {
  readonly server: OciApiServer;
  readonly dir: string;
  readonly configFile: string;
  /** Options that reach the server with fast retries. */
  options(extra?: Partial<OciCloudOptions>): OciCloudOptions;
  close(): Promise<void>;
}

export async function cloudFixture(serverOptions: OciApiServerOptions = {}): Promise<CloudFixture> {
  const server = await startOciApiServer(serverOptions);
  const dir = await mkdtemp(join(tmpdir(), 'ocne-oci-cloud-'));
  const configFile = await server.writeConfig(join(dir, 'oci'));
  return {
    server,
    dir,
    configFile,
    options: (extra = {}) => ({
      configFile,
      endpoint: server.url,
      env: {},
      retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
      requestTimeoutMs: 2000,
      ...extra,
    }),
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
