// A small Bearer token server of our own, for the registry's `auth.token` mode: the registry
// answers 401 with `WWW-Authenticate: Bearer realm=<this server>,service=…,scope=…`, the client
// asks this server for a token (with Basic credentials), and the registry checks the token's
// signature against the signer certificate it was configured with (`rootcertbundle`), its issuer,
// audience, lifetime and access claims. Tokens are RS256 JWTs carrying the signer certificate in
// `x5c`. Serves HTTPS on 127.0.0.1 with the registry's own serving certificate.
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What the token server needs. */
export interface TokenServerOptions {
  /** Serving certificate and key (PEM files). */
  certPath: string;
  keyPath: string;
  /** Signer certificate and key (PEM files). */
  tokenCertPath: string;
  tokenKeyPath: string;
  /** `user → password`; a request with other credentials gets 401. */
  users: Readonly<Record<string, string>>;
  /** `auth.token.service` of the registry: the token's audience. */
  service: string;
  /** `auth.token.issuer` of the registry. */
  issuer: string;
}

/** One token request, as the server saw it. */
export interface TokenRequest {
  readonly user: string | undefined;
  readonly scopes: readonly string[];
  readonly status: number;
}

/** A running token server. */
export interface TokenServer {
  /** `https://127.0.0.1:<port>/token`: the registry's `auth.token.realm`. */
  readonly realm: string;
  /** Every request so far. */
  readonly requests: readonly TokenRequest[];
  close(): Promise<void>;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** The access claims a token grants for the scopes asked: whatever a known user asks. */
function access(scopes: readonly string[]): { type: string; name: string; actions: string[] }[] {
  return scopes.flatMap((scope) => {
    // repository:<name>:<actions>; the name may hold a port (host:port is not part of it here).
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) return [];
    return [
      {
        type: scope.slice(0, first),
        name: scope.slice(first + 1, last),
        actions: scope.slice(last + 1).split(','),
      },
    ];
  });
}

/** Starts the token server on a free port of 127.0.0.1. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const [cert, key, tokenCertPem, tokenKeyPem] = await Promise.all(
    [options.certPath, options.keyPath, options.tokenCertPath, options.tokenKeyPath].map((p) => readFile(p)),
  );
  const signer = createPrivateKey(tokenKeyPem!);
  const x5c = [new X509Certificate(tokenCertPem!).raw.toString('base64')];
  const requests: TokenRequest[] = [];

  const server: Server = createServer({ cert: cert!, key: key! }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));
    const header = req.headers.authorization ?? '';
    let user: string | undefined;
    let ok = true;
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = decoded.slice(0, colon);
      ok = colon > 0 && options.users[user] === decoded.slice(colon + 1);
    }
    if (url.pathname !== '/token') {
      requests.push({ user, scopes, status: 404 });
      res.writeHead(404).end();
      return;
    }
    if (!ok) {
      requests.push({ user, scopes, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong user name or password' }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c }));
    const claims = base64url(
      JSON.stringify({
        iss: options.issuer,
        sub: user ?? '',
        aud: options.service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        // Anonymous requests get a token without access: the registry then refuses the request.
        access: user === undefined ? [] : access(scopes),
      }),
    );
    const signature = sign('sha256', Buffer.from(`${head}.${claims}`), signer).toString('base64url');
    const token = `${head}.${claims}.${signature}`;
    requests.push({ user, scopes, status: 200 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
