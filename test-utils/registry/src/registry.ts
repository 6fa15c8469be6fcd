// The real CNCF distribution registry (`docker-registry` from Debian) on 127.0.0.1, on a free
// port, with filesystem storage in a temp dir of its own, TLS from a fresh test CA and one of three
// authentication modes: Basic (an htpasswd file, bcrypt as the registry requires, written with
// `htpasswd -B`), Bearer tokens from our token server (./token-server.ts), or none.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  guardDirectory,
  type LoggedProcess,
  releaseDirectory,
  spawnLogged,
  stopProcess,
} from '@ocne/test-control-plane';
import { makeTestPki, type TestPki } from './pki.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

const run = promisify(execFile);

/** How clients authenticate. */
export type RegistryAuthMode = 'none' | 'basic' | 'token';

/** Options of {@link startTestRegistry}. */
export interface TestRegistryOptions {
  /** @defaultValue `'basic'` */
  auth?: RegistryAuthMode;
  /** Users and their passwords. @defaultValue `{ ocne: 'ocne-test-password' }` */
  users?: Readonly<Record<string, string>>;
}

/** One request the registry served, read from its log. */
export interface RegistryRequest {
  readonly method: string;
  /** Path and query, such as `/v2/repo/blobs/uploads/…`. */
  readonly uri: string;
  readonly status: number;
}

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  readonly host: string;
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly auth: RegistryAuthMode;
  /** The first user and its password. */
  readonly username: string;
  readonly password: string;
  /** The test PKI; `pki.caPath` is the CA file a client must trust. */
  readonly pki: TestPki;
  /** A folder holding only `ca.crt`: skopeo's `--cert-dir`. */
  readonly certDir: string;
  /** A containers `auth.json` with the first user's credentials for {@link host}. */
  readonly authFile: string;
  /** The registry's PID. */
  readonly pid: number;
  readonly logPath: string;
  /** The token server, in `token` mode. */
  readonly tokenServer: TokenServer | undefined;
  /** Every request the registry has logged so far. */
  requests(): Promise<RegistryRequest[]>;
  /** Stops the registry (by PID) and the token server, and removes the temp dir. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Status of `GET /v2/`, or undefined while nothing answers. */
function ping(url: string, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = httpsRequest(`${url}/v2/`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

// The registry's access log lines (text formatter) carry these fields.
const FIELD = (name: string) => new RegExp(`${name.replace(/\./g, '\\.')}="?([^" ]+)"?`);

function parseRequests(log: string): RegistryRequest[] {
  const out: RegistryRequest[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('response completed')) continue;
    const method = FIELD('http.request.method').exec(line)?.[1];
    const uri = FIELD('http.request.uri').exec(line)?.[1];
    const status = FIELD('http.response.status').exec(line)?.[1];
    if (method && uri && status) out.push({ method, uri, status: Number(status) });
  }
  return out;
}

/** Starts a registry; stop it with `stop()` (in `afterAll`, or a global setup's teardown). */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'basic';
  const users = options.users ?? { ocne: 'ocne-test-password' };
  const [username, password] = Object.entries(users)[0] ?? ['', ''];
  const dir = await mkdtemp(join(tmpdir(), 'ocne-registry-'));
  // Removed (and the registry killed) even when this process dies without stop().
  guardDirectory(dir);
  let daemon: LoggedProcess | undefined;
  let tokenServer: TokenServer | undefined;
  const cleanUp = async () => {
    if (daemon) await stopProcess(daemon);
    await tokenServer?.close();
    await rm(dir, { recursive: true, force: true });
    releaseDirectory(dir);
  };
  try {
    const pki = await makeTestPki(dir);
    const certDir = join(dir, 'certs.d');
    await mkdir(certDir);
    await writeFile(join(certDir, 'ca.crt'), pki.ca);
    const storage = join(dir, 'storage');
    await mkdir(storage);

    let authConfig: Record<string, unknown> = {};
    if (auth === 'basic') {
      const htpasswd = join(dir, 'htpasswd');
      await writeFile(htpasswd, '');
      for (const [user, pass] of Object.entries(users)) {
        await run('htpasswd', ['-B', '-b', htpasswd, user, pass]);
      }
      authConfig = { htpasswd: { realm: 'ocne-test', path: htpasswd } };
    } else if (auth === 'token') {
      const service = 'ocne-test-registry';
      const issuer = 'ocne-test-token-server';
      tokenServer = await startTokenServer({ ...pki, users, service, issuer });
      authConfig = {
        token: { realm: tokenServer.realm, service, issuer, rootcertbundle: pki.tokenCertPath },
      };
    }

    const logPath = join(dir, 'registry.log');
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      const url = `https://${host}`;
      const config = {
        version: 0.1,
        log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
        http: {
          addr: host,
          secret: 'ocne-test-registry-secret',
          tls: { certificate: pki.certPath, key: pki.keyPath },
        },
        ...(auth === 'none' ? {} : { auth: authConfig }),
      };
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, JSON.stringify(config, null, 2));
      daemon = await spawnLogged('docker-registry', ['serve', configPath], { logPath });
      const until = Date.now() + 15_000;
      let status: number | undefined;
      while (Date.now() < until && daemon.child.exitCode === null) {
        status = await ping(url, pki.ca);
        if (status !== undefined) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (status === undefined) {
        await stopProcess(daemon);
        daemon = undefined;
        // The port may have been taken between the probe and the start: try another one.
        if (attempt < 2) continue;
        const log = await readFile(logPath, 'utf8').catch(() => '');
        throw new Error(`docker-registry did not start on ${host}:\n${log.slice(-2000)}`);
      }
      const authFile = join(dir, 'auth.json');
      await writeFile(
        authFile,
        JSON.stringify({
          auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } },
        }),
        { mode: 0o600 },
      );
      const running = daemon;
      return {
        host,
        url,
        auth,
        username,
        password,
        pki,
        certDir,
        authFile,
        pid: running.pid,
        logPath,
        tokenServer,
        requests: async () => parseRequests(await readFile(logPath, 'utf8')),
        stop: cleanUp,
      };
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
