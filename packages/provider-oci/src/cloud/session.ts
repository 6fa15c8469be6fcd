/**
 * A session with Oracle Cloud: the OCI configuration (a profile of `~/.oci/config`, or an
 * authentication provider the embedder made, e.g. instance principals), the four service clients
 * configured one by one (the SDK's process-wide retry and circuit-breaker settings are never
 * touched), and {@link OciSession.call}, through which every request goes: a time limit per
 * attempt, the caller's signal, retries with backoff for transient answers, and errors mapped to
 * `OcneError`s. The SDK has no per-call signal or timeout, so each attempt's signal reaches its
 * `fetch` through `httpOptions`, read when the request is sent.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { OcneError } from '@ocne/core';
import type { AuthenticationDetailsProvider, Region } from 'oci-common';
import type { ComputeClient } from 'oci-core';
import type { IdentityClient } from 'oci-identity';
import type { ObjectStorageClient } from 'oci-objectstorage';
import type { WorkRequestClient } from 'oci-workrequests';
import { isRetryable, ociError } from './errors.js';
import { type OciConfigProfile, readOciProfile } from './oci-config.js';
import { loadOciSdk } from './sdk.js';

/** How failed requests are retried. */
export interface OciRetryOptions {
  /** Attempts in all, including the first (default 5). */
  readonly attempts?: number;
  /** The first delay; it doubles per attempt, with jitter (default 1000 ms). */
  readonly baseDelayMs?: number;
  /** The largest delay (default 30 s). */
  readonly maxDelayMs?: number;
}

/**
 * What signs requests: any `oci-common` `AuthenticationDetailsProvider` (instance principals,
 * resource principals, session tokens, a key in memory). Typed by the methods the SDK calls, so
 * that the SDK's own type declarations stay out of this package's API.
 */
export interface OciAuthenticationProvider {
  getKeyId(): Promise<string>;
  getPrivateKey(): string;
  getPassphrase(): string | null;
}

/** How to reach Oracle Cloud. */
export interface OciCloudOptions {
  /** The profile of the OCI config file (`providers.oci.profile`; default `DEFAULT`). */
  readonly profile?: string;
  /** The OCI config file (default: `$OCI_CONFIG_FILE`, else `~/.oci/config`). */
  readonly configFile?: string;
  /** The region (default: the profile's). */
  readonly region?: string;
  /**
   * Signs requests instead of the config file: any `oci-common` authentication details provider the
   * embedding program made (instance principals, resource principals, session tokens).
   */
  readonly authenticationProvider?: OciAuthenticationProvider;
  /** The tenancy OCID, when the authentication provider cannot tell it (compartment paths start there). */
  readonly tenancyId?: string;
  /**
   * One base URL for every service instead of the region's endpoints (a proxy, or a test server);
   * default `$OCNE_OCI_ENDPOINT`.
   */
  readonly endpoint?: string;
  /** Where `~/.oci` is (default: `$HOME`, else the user's home). */
  readonly home?: string;
  /** The environment read for `OCI_CONFIG_FILE`, `OCNE_OCI_ENDPOINT`, `OCI_DEFAULT_CERTS_PATH` and `HOME` (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How failed requests are retried (default: 5 attempts, 1 s doubling to 30 s). */
  readonly retry?: OciRetryOptions;
  /** The time limit of one attempt of one request (default 120 s; uploads of a part included). */
  readonly requestTimeoutMs?: number;
  /**
   * Certificates (PEM) trusted for the endpoints besides the system's: a TLS-inspecting proxy's CA,
   * a private cloud's. Only these clients trust them. Default: the file `$OCI_DEFAULT_CERTS_PATH`
   * names (the variable the OCI Go SDK and upstream read), else none.
   */
  readonly caCertificates?: string;
}

/** The clients of a session. */
export interface OciClients {
  readonly identity: IdentityClient;
  readonly compute: ComputeClient;
  readonly workRequests: WorkRequestClient;
  readonly objectStorage: ObjectStorageClient;
}

/** Options of one {@link OciSession.call}. */
export interface OciCallOptions {
  readonly signal?: AbortSignal;
  /** Called before each retry with the failed attempt's error. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/** An open session. */
export interface OciSession {
  readonly clients: OciClients;
  /** The tenancy OCID (the root of compartment paths). */
  readonly tenancyId: string;
  readonly profile: string;
  /**
   * Runs one OCI request with the session's time limit per attempt, retries and error mapping.
   * `operation` names it in errors (`ListCompartments`).
   */
  call<T>(operation: string, request: () => Promise<T>, options?: OciCallOptions): Promise<T>;
  /** Closes the clients. */
  close(): void;
}

const attemptSignal = new AsyncLocalStorage<AbortSignal>();

/** The agent of a session with its own trust roots, closed with the session. */
interface Dispatcher {
  close(): Promise<void>;
}

/**
 * `fetch` options whose `signal` is the current attempt's (read by the SDK at send time), and,
 * when given, the dispatcher that trusts the session's own CA certificates.
 */
function fetchOptions(dispatcher: object | undefined): object {
  return {
    get signal(): AbortSignal | undefined {
      return attemptSignal.getStore();
    },
    ...(dispatcher === undefined ? {} : { dispatcher }),
  };
}

/**
 * A dispatcher trusting the system's roots and `ca`. The SDK calls Node's own `fetch`, whose
 * bundled undici speaks the older handler interface: the wrapper adapts this undici's agent to it.
 */
async function trustingDispatcher(ca: string): Promise<{ dispatcher: object; agent: Dispatcher }> {
  const { Agent, Dispatcher1Wrapper } = await import('undici');
  const agent = new Agent({ connect: { ca: [...rootCertificates, ca] } });
  return { dispatcher: new Dispatcher1Wrapper(agent), agent };
}

function configError(message: string, cause: unknown): OcneError {
  const detail = typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : String(cause);
  return new OcneError('OCNE_OCI_CONFIG_INVALID', `${message}: ${detail}`, { cause });
}

/**
 * Signs with a profile of the configuration file. The key is checked here, so that a file that is
 * no key or a wrong passphrase fails before the first request, not mid-upload.
 */
function signingProvider(
  sdk: Awaited<ReturnType<typeof loadOciSdk>>,
  read: OciConfigProfile,
  regionOverride: string | undefined,
): AuthenticationDetailsProvider {
  const what = `profile ${read.profile} of the OCI configuration file ${read.file}`;
  for (const key of ['tenancy', 'user', 'fingerprint', 'key_file'] as const) {
    const value = key === 'key_file' ? read.keyFile : read[key];
    if (value === '') throw new OcneError('OCNE_OCI_CONFIG_INVALID', `${what} has no ${key}`);
  }
  try {
    createPrivateKey({
      key: read.key,
      format: 'pem',
      ...(read.passphrase ? { passphrase: read.passphrase } : {}),
    });
  } catch (error) {
    throw configError(
      `the key file ${read.keyFile} of ${what} is not a private key, or its passphrase (pass_phrase) is wrong`,
      error,
    );
  }
  const regionId = regionOverride ?? read.region;
  let region: Region | null = null;
  if (regionId !== '') {
    // A region this SDK version does not know is taken to be in the commercial realm, as the SDK's own reader does.
    region =
      sdk.common.Region.fromRegionId(regionId) ?? sdk.common.Region.register(regionId, sdk.common.Realm.OC1);
  }
  return new sdk.common.SimpleAuthenticationDetailsProvider(
    read.tenancy,
    read.user,
    read.fingerprint,
    read.key,
    read.passphrase ?? null,
    region as Region,
  );
}

/** Opens a session: reads the configuration and makes the clients (loading the SDK). */
export async function openOciSession(options: OciCloudOptions = {}): Promise<OciSession> {
  const sdk = await loadOciSdk();
  const env = options.env ?? process.env;
  const profile = options.profile ?? 'DEFAULT';
  let auth: AuthenticationDetailsProvider;
  let tenancyId = options.tenancyId;
  if (options.authenticationProvider !== undefined) {
    auth = options.authenticationProvider as AuthenticationDetailsProvider;
  } else {
    const read = await readOciProfile({
      configFile: options.configFile,
      home: options.home,
      env,
      profile,
    });
    auth = signingProvider(sdk, read, options.region);
  }
  tenancyId ??= (auth as { getTenantId?: () => string }).getTenantId?.();
  if (tenancyId === undefined || tenancyId === '') {
    throw new OcneError(
      'OCNE_OCI_CONFIG_INVALID',
      'the tenancy OCID is unknown: the authentication provider does not give it; pass tenancyId',
    );
  }
  let ca = options.caCertificates;
  if (ca === undefined && env.OCI_DEFAULT_CERTS_PATH) {
    const path = env.OCI_DEFAULT_CERTS_PATH;
    ca = await readFile(path, 'utf8').catch((error: unknown) => {
      throw configError(`cannot read the CA certificates of OCI_DEFAULT_CERTS_PATH ${path}`, error);
    });
  }
  const trusting = ca === undefined ? undefined : await trustingDispatcher(ca);
  const configuration = {
    // Retries are this layer's (with a signal and a time limit per attempt); the SDK's are off
    // for these clients only.
    retryConfiguration: sdk.common.NoRetryConfigurationDetails,
    circuitBreaker: new sdk.common.CircuitBreaker({ disableClientCircuitBreaker: true }),
    httpOptions: fetchOptions(trusting?.dispatcher),
  };
  const params = { authenticationDetailsProvider: auth };
  let clients: OciClients;
  try {
    clients = {
      identity: new sdk.identity.IdentityClient(params, configuration),
      compute: new sdk.core.ComputeClient(params, configuration),
      workRequests: new sdk.workRequests.WorkRequestClient(params, configuration),
      objectStorage: new sdk.objectStorage.ObjectStorageClient(params, configuration),
    };
  } catch (error) {
    // The clients' signer parses the key: a file that is no key, or a wrong passphrase, ends here.
    throw configError(`cannot use the private key of profile ${profile}`, error);
  }
  const endpoint = options.endpoint ?? env.OCNE_OCI_ENDPOINT;
  for (const client of Object.values(clients) as { regionId: string; endpoint: string }[]) {
    if (options.region !== undefined) client.regionId = options.region;
    // Last: setting the region recomputes the endpoint.
    if (endpoint !== undefined && endpoint !== '') client.endpoint = endpoint.replace(/\/+$/, '');
  }
  const attempts = Math.max(1, options.retry?.attempts ?? 5);
  const baseDelay = options.retry?.baseDelayMs ?? 1000;
  const maxDelay = options.retry?.maxDelayMs ?? 30_000;
  const timeout = options.requestTimeoutMs ?? 120_000;

  async function call<T>(
    operation: string,
    request: () => Promise<T>,
    callOptions: OciCallOptions = {},
  ): Promise<T> {
    const { signal } = callOptions;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const limit = AbortSignal.timeout(timeout);
      const combined = signal ? AbortSignal.any([signal, limit]) : limit;
      try {
        return await attemptSignal.run(combined, request);
      } catch (error) {
        signal?.throwIfAborted();
        if (attempt >= attempts || !isRetryable(error)) {
          throw ociError(error, {
            operation,
            attempts: attempt,
            timedOut: limit.aborted,
            profile,
            ...(endpoint ? { endpoint } : {}),
          });
        }
        callOptions.onRetry?.(error, attempt);
        const delay = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
        await sleep(delay / 2 + Math.random() * (delay / 2), undefined, signal ? { signal } : {}).catch(
          (sleepError: unknown) => {
            signal?.throwIfAborted();
            throw sleepError;
          },
        );
      }
    }
  }

  return {
    clients,
    tenancyId,
    profile,
    call,
    close() {
      for (const client of Object.values(clients) as { close?: () => void }[]) client.close?.();
      trusting?.agent.close().catch(() => {});
    },
  };
}
