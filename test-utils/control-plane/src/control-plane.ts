// A real Kubernetes control plane for integration tests: etcd + kube-apiserver (the versions of
// @ocne/test-tools) on 127.0.0.1, in a temporary directory of its own, with an admin bearer
// token in system:masters and a self-signed serving certificate that the kubeconfig trusts.
// Flags and timings: docs of scripts/test-tools.sh and the kube-tools notes.
import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { testTool } from '@ocne/test-tools';
import { stringify as stringifyYaml } from 'yaml';
import { request } from './http.ts';
import {
  guardDirectory,
  hasExited,
  type LoggedProcess,
  releaseDirectory,
  spawnLogged,
  stopProcess,
} from './processes.ts';

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Cancels the start: both processes are stopped, the temp dir removed, and the reason thrown. */
  signal?: AbortSignal;
  /**
   * Names the control plane in the kubeconfig (cluster and context) and its temp dir; lowercase
   * letters, digits and `-`. Default `control-plane-<n>`.
   */
  name?: string;
  /** Extra kube-apiserver flags, after the built-in ones (a repeated scalar flag wins). */
  extraArgs?: string[];
  /** Bound on the whole start (certificates, etcd, kube-apiserver `/readyz`, namespace `default`); 60000 ms by default. */
  startTimeoutMs?: number;
}

/** A running control plane. Stop it with {@link ControlPlane.stop} (or `await using`). */
export interface ControlPlane {
  readonly name: string;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /**
   * Admin kubeconfig (YAML): a static bearer token in `system:masters`, the serving certificate as
   * `certificate-authority-data` (verified TLS, no insecure-skip), context `name`, namespace `default`.
   */
  readonly kubeconfig: string;
  /** The same kubeconfig, written to the control plane's temp dir with mode 0600. */
  readonly kubeconfigPath: string;
  /** The admin bearer token. */
  readonly token: string;
  /** PEM of the self-signed serving certificate, which is also the CA to trust. */
  readonly ca: string;
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /**
   * Stops kube-apiserver, then etcd: SIGTERM by PID, SIGKILL after 5 s, waiting for each to exit;
   * then removes the temp dir. Idempotent: later calls return the first call's promise.
   */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 5;
const LOG_TAIL_LINES = 40;
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
const ADDRESS_IN_USE = /address already in use/i;

let started = 0;

/**
 * Starts etcd and kube-apiserver on free ports of 127.0.0.1 and resolves once `/readyz` is `ok`
 * and namespace `default` exists (about 2-4 s). On failure both processes are stopped, the temp
 * dir is removed, and the Error carries the last 40 lines of each process's log; on abort the
 * signal's reason is thrown after the same cleanup.
 *
 * `stop()` is the normal way to end a control plane. As a safety net, processes still running
 * when this Node process exits are SIGKILLed by an exit handler, and by a watchdog process if
 * this one dies from a signal (see processes.ts).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const { signal, extraArgs = [], startTimeoutMs = DEFAULT_START_TIMEOUT_MS } = options;
  signal?.throwIfAborted();
  started += 1;
  const name = options.name ?? `control-plane-${started}`;
  if (!NAME_PATTERN.test(name))
    throw new TypeError(`control plane name ${JSON.stringify(name)} is not lowercase letters, digits and -`);
  const etcdBinary = testTool('etcd');
  const apiserverBinary = testTool('kube-apiserver');

  const deadline = AbortSignal.timeout(startTimeoutMs);
  const startSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  const dir = await mkdtemp(join(tmpdir(), `ocne-cp-${name}-`));
  guardDirectory(dir);
  const processes: LoggedProcess[] = [];
  const logs = { etcd: join(dir, 'etcd.log'), apiserver: join(dir, 'apiserver.log') };
  try {
    const { ca, token } = await writeCredentials(dir, startSignal);

    const etcd = await startWithFreePorts(2, startSignal, async (ports) => {
      const [client, peer] = ports as [number, number];
      await rm(join(dir, 'etcd'), { recursive: true, force: true });
      const proc = await spawnLogged(etcdBinary, etcdArgs(dir, client, peer), { logPath: logs.etcd });
      processes.push(proc);
      await pollUntil(proc, 'etcd', '/health was ok', startSignal, async (probeSignal) => {
        const res = await request(`http://127.0.0.1:${client}/health`, { signal: probeSignal });
        return res.status === 200 && /"health":\s*"true"/.test(res.body);
      });
      return { proc, client };
    });

    const apiserver = await startWithFreePorts(1, startSignal, async (ports) => {
      const [port] = ports as [number];
      const url = `https://127.0.0.1:${port}`;
      const args = [...apiserverArgs(dir, port, etcd.client), ...extraArgs];
      const proc = await spawnLogged(apiserverBinary, args, { logPath: logs.apiserver });
      processes.push(proc);
      await pollUntil(proc, 'kube-apiserver', '/readyz was ok', startSignal, async (probeSignal) => {
        const res = await request(`${url}/readyz`, { ca, token, signal: probeSignal });
        return res.status === 200 && res.body === 'ok';
      });
      return { proc, url };
    });

    const { url } = apiserver;
    await pollUntil(
      apiserver.proc,
      'kube-apiserver',
      'namespace default existed',
      startSignal,
      async (probeSignal) => {
        const res = await request(`${url}/api/v1/namespaces/default`, { ca, token, signal: probeSignal });
        return res.status === 200;
      },
    );
    if (hasExited(etcd.proc)) throw new ProcessExitedError(etcd.proc, 'etcd', 'kube-apiserver was ready');

    const kubeconfig = adminKubeconfig({ name, url, ca, token });
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeSecret(kubeconfigPath, kubeconfig);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await stopAll(processes);
        await removeDirectory(dir);
      })();
      return stopping;
    };
    return Object.freeze({
      name,
      url,
      kubeconfig,
      kubeconfigPath,
      token,
      ca,
      pids: Object.freeze({ etcd: etcd.proc.pid, apiserver: apiserver.proc.pid }),
      stop,
      [Symbol.asyncDispose]: stop,
    });
  } catch (error) {
    const tails = await Promise.all([logTail(logs.etcd), logTail(logs.apiserver)]);
    await stopAll(processes);
    await removeDirectory(dir);
    if (signal?.aborted) throw signal.reason;
    const why = deadline.aborted
      ? `was not ready within ${startTimeoutMs} ms`
      : `failed to start: ${error instanceof Error ? error.message : String(error)}`;
    throw new Error(`control plane ${JSON.stringify(name)} ${why}\n${tails.join('\n')}`, { cause: error });
  }
}

function etcdArgs(dir: string, client: number, peer: number): string[] {
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--unsafe-no-fsync',
    // A single member elects itself; the default 1 s election timeout only delays the start.
    '--heartbeat-interval=10',
    '--election-timeout=100',
  ];
}

function apiserverArgs(dir: string, port: number, etcdClient: number): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${join(dir, 'serving.crt')}`,
    `--tls-private-key-file=${join(dir, 'serving.key')}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--service-account-issuer=https://127.0.0.1:${port}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
  ];
}

const execFileAsync = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Writes the serving certificate and key (self-signed ECDSA P-256, CN and SAN 127.0.0.1 plus DNS
 * localhost, by the openssl CLI: node:crypto cannot issue certificates), the service-account key
 * pair (RSA 2048) and `tokens.csv` with a random admin token in system:masters.
 */
async function writeCredentials(dir: string, signal: AbortSignal): Promise<{ ca: string; token: string }> {
  const token = randomBytes(32).toString('hex');
  const serving = execFileAsync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'serving.key'),
      '-out',
      join(dir, 'serving.crt'),
    ],
    { signal },
  ).catch((error: unknown) => {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(
      `openssl could not create the serving certificate${stderr ? `: ${String(stderr)}` : ''}`,
      {
        cause: error,
      },
    );
  });
  const serviceAccount = generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const [, { publicKey, privateKey }] = await Promise.all([serving, serviceAccount]);
  await Promise.all([
    writeSecret(join(dir, 'sa.key'), privateKey),
    writeSecret(join(dir, 'sa.pub'), publicKey),
    writeSecret(join(dir, 'tokens.csv'), `${token},admin,admin-uid,system:masters\n`),
    chmod(join(dir, 'serving.key'), 0o600),
  ]);
  const ca = await readFile(join(dir, 'serving.crt'), 'utf8');
  return { ca, token };
}

async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

function adminKubeconfig(input: { name: string; url: string; ca: string; token: string }): string {
  const { name, url, ca, token } = input;
  const user = `${name}-admin`;
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') } },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name, context: { cluster: name, user, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** Ports that were free a moment ago: bound on 127.0.0.1 port 0 together, then closed. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address === null || typeof address === 'string') reject(new Error('no TCP port was bound'));
              else resolve(address.port);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    );
  }
}

/**
 * Runs `start` with `count` free ports; when the process it started exits because one of them was
 * taken in the meantime (a race with another process), stops it and tries again with new ports.
 */
async function startWithFreePorts<T>(
  count: number,
  signal: AbortSignal,
  start: (ports: number[]) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !(error instanceof ProcessExitedError)) throw error;
      const output = (await readFile(error.proc.logPath, 'utf8').catch(() => '')).slice(error.proc.logOffset);
      if (!ADDRESS_IN_USE.test(output)) throw error;
    }
  }
}

export class ProcessExitedError extends Error {
  readonly proc: LoggedProcess;
  constructor(proc: LoggedProcess, what: string, before: string) {
    const { exitCode, signalCode } = proc.child;
    super(`${what} exited (${signalCode ?? `code ${exitCode}`}) before ${before}`);
    this.name = 'ProcessExitedError';
    this.proc = proc;
  }
}

/** Polls `check` every 100 ms until it returns true; fails when `proc` exits or `signal` aborts. */
export async function pollUntil(
  proc: LoggedProcess,
  processName: string,
  condition: string,
  signal: AbortSignal,
  check: (probeSignal: AbortSignal) => Promise<boolean>,
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (hasExited(proc)) throw new ProcessExitedError(proc, processName, condition);
    // A probe ends early when the process exits: a port taken by someone else may never answer.
    const probe = new AbortController();
    try {
      const ready = await Promise.race([
        check(AbortSignal.any([signal, probe.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)])).catch(
          () => false, // not listening yet, or a probe timeout: try again
        ),
        proc.exited.then(() => false),
      ]);
      if (ready) return;
    } finally {
      probe.abort();
    }
    await sleep(POLL_INTERVAL_MS, undefined, { signal });
  }
}

async function stopAll(processes: readonly LoggedProcess[]): Promise<void> {
  // kube-apiserver first: on SIGTERM it still talks to etcd while it shuts down.
  for (const proc of [...processes].reverse()) await stopProcess(proc, { graceMs: STOP_GRACE_MS });
}

async function removeDirectory(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  releaseDirectory(dir);
}

export async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return `--- ${path}: no log`;
  const lines = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES);
  return `--- last ${lines.length} lines of ${path}\n${lines.join('\n')}`;
}
