/**
 * Test-only OSTree fixtures, made with the real tools and cached by the hash of their inputs in the
 * temp directory (never committed): F2, an ostree-ext v1 container image (`encapsulate.py`, the
 * ostree CLI + libostree through python3-gi), and F3, a tiny base "nginx" image (`base-image.py`).
 * Also the small helpers tests use around them: the ostree and skopeo CLIs, a static HTTP server.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
// The system Python: python3-gi is a Debian package, not in a pyenv's site-packages.
const python = '/usr/bin/python3';

/** What `ostreeImageFixture` made. */
export interface OstreeImageFixture {
  /** An OCI image layout; the image is tagged `ock` (`oci:<layout>:ock`). */
  readonly layout: string;
  /** The archive repository the commit was made in (ref `ock`): the oracle for comparisons. */
  readonly sourceRepo: string;
  /** The commit checksum (the `ostree.commit` label). */
  readonly commit: string;
  readonly diffIds: readonly string[];
  readonly manifestDigest: string;
  readonly contentObjects: number;
  readonly metadataObjects: number;
}

/** Which image to make: a good one, or one an importer must refuse. */
export type OstreeImageVariant = 'normal' | 'tampered' | 'tampered-large' | 'derived' | 'nolabel';

async function cached(key: string, make: (dir: string) => Promise<void>): Promise<string> {
  const root = join(tmpdir(), 'ocne-test-ostree');
  const dir = join(root, key);
  try {
    await stat(join(dir, '.complete'));
    return dir;
  } catch {
    // not made yet
  }
  await mkdir(root, { recursive: true });
  const partial = `${dir}.partial.${process.pid}.${Date.now()}`;
  try {
    await make(partial);
    await run('touch', [join(partial, '.complete')]);
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    // Another process may have won the race with an identical result.
    try {
      await stat(join(dir, '.complete'));
    } catch {
      throw error;
    }
  }
  return dir;
}

async function inputKey(script: string, params: unknown): Promise<string> {
  const text = await readFile(join(here, script));
  return createHash('sha256').update(text).update(JSON.stringify(params)).digest('hex').slice(0, 16);
}

/**
 * F2: an ostree-ext v1 ("chunked") image: a commit layer and one component layer, from a small
 * tree with the awkward cases (xattrs, setuid, symlinks, hardlinks, empty files, `usr/etc`, a
 * 998:997 file, kernel and initramfs placeholders, long and non-ASCII names). `bigMb` adds that
 * much generated content under `usr/share/big` (for benchmarks).
 */
export async function ostreeImageFixture(
  options: { variant?: OstreeImageVariant; bigMb?: number } = {},
): Promise<OstreeImageFixture> {
  const variant = options.variant ?? 'normal';
  const bigMb = options.bigMb ?? 0;
  const key = await inputKey('encapsulate.py', { variant, bigMb });
  const dir = await cached(`f2-${key}`, async (out) => {
    await run(python, [join(here, 'encapsulate.py'), out, '--variant', variant, '--big', String(bigMb)], {
      maxBuffer: 1 << 24,
    });
  });
  const info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as Omit<
    OstreeImageFixture,
    'layout' | 'sourceRepo'
  >;
  return { ...info, layout: join(dir, 'oci'), sourceRepo: join(dir, 'src-repo') };
}

/** F3: a base "nginx" image (stub nginx, docroot `/usr/share/nginx/html`) as an OCI layout tagged `nginx`. */
export async function nginxBaseFixture(): Promise<{ layout: string; tag: string }> {
  const key = await inputKey('base-image.py', {});
  const dir = await cached(`f3-${key}`, async (out) => {
    await run(python, [join(here, 'base-image.py'), join(out, 'oci')]);
  });
  return { layout: join(dir, 'oci'), tag: 'nginx' };
}

/**
 * F4: a base image with a real nginx (Debian's binary and its libraries, copied from this machine;
 * `src/base-image.py --real`) whose config serves `/usr/share/nginx/html` on port 80, as an OCI layout
 * tagged `nginx`. Needs the Debian package `nginx` (never started as a service).
 */
export async function nginxRealBaseFixture(): Promise<{ layout: string; tag: string }> {
  // The image copies the host's nginx: a new nginx package makes a new fixture.
  const binary = await stat('/usr/sbin/nginx');
  const key = await inputKey('base-image.py', { real: true, size: binary.size, mtime: binary.mtimeMs });
  const dir = await cached(`f4-${key}`, async (out) => {
    await run(python, [join(here, 'base-image.py'), join(out, 'oci'), '--real']);
  });
  return { layout: join(dir, 'oci'), tag: 'nginx' };
}

/** A running nginx from an unpacked image's root file system. */
export interface RootfsNginx {
  /** `http://127.0.0.1:<port>`: the image's docroot. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Runs the image's own nginx the way its `CMD` does (`nginx -g 'daemon off;'`), chrooted into an
 * unpacked root file system (root only). Its config's `listen 80;` is changed to a free loopback
 * port first, the only edit: a test must not take port 80 or listen beyond 127.0.0.1.
 */
export async function startRootfsNginx(rootfs: string): Promise<RootfsNginx> {
  const conf = join(rootfs, 'etc', 'nginx', 'nginx.conf');
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((ok) => probe.close(() => ok()));
  const text = await readFile(conf, 'utf8');
  if (!/listen 80;/.test(text)) throw new Error(`${conf} has no "listen 80;"`);
  await writeFile(conf, text.replace(/listen 80;/, `listen 127.0.0.1:${port};`));
  const child = spawn('chroot', [rootfs, '/usr/sbin/nginx', '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  // Ready when it answers; event-driven enough: each try is one request, with a generous ceiling.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${url}/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nginx did not answer on ${url}: ${stderr}`);
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    stop: async () => {
      if (child.exitCode === null) {
        // SIGQUIT: nginx's graceful stop of the master and its worker.
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * What a client of the server image does: `ostree pull` of the ref `ock` from `<url>/ostree` into a
 * new archive repository at `repo`; returns the commit it got and `ostree fsck`'s output.
 */
export async function pullOverHttp(url: string, repo: string): Promise<{ commit: string; fsck: string }> {
  await tool('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
  await tool('ostree', ['remote', 'add', `--repo=${repo}`, '--no-gpg-verify', 'ock', `${url}/ostree`]);
  await tool('ostree', ['pull', `--repo=${repo}`, 'ock', 'ock']);
  const commit = (await tool('ostree', ['rev-parse', `--repo=${repo}`, 'ock/ock'])).trim();
  return { commit, fsck: await tool('ostree', ['fsck', `--repo=${repo}`]) };
}

/** Runs a CLI (ostree, skopeo, umoci) and returns its stdout. */
export async function tool(command: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(command, [...args], { maxBuffer: 1 << 26 });
  return stdout;
}

/**
 * Copies an image with skopeo into a containers `dir:` layout: what the registry client's pull
 * leaves in the cache.
 */
export async function copyToDir(source: string, directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await tool('skopeo', ['copy', '--quiet', source, `dir:${directory}`]);
}

/** A static file server on 127.0.0.1, as nginx would serve the docroot. */
export async function serveDirectory(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = normalize(join(base, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (path !== base && !path.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    stat(path).then(
      (s) => {
        if (!s.isFile()) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
