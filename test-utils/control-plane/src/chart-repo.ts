// A Helm chart repository for tests: packages chart folders with the real helm, indexes them and
// serves the folder over http on 127.0.0.1. `/<prefix>/<file>` serves a file; `/hang/...` never
// answers (for cancel and timeout tests).
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options of {@link serveChartRepository}. */
export interface ChartRepositoryOptions {
  /** Path of the helm binary. */
  helmPath: string;
  /** Chart folders to package. */
  charts: readonly string[];
  /** A folder of the test's own: the packages and helm's homes go below it. */
  workDir: string;
  /** First path segment of the repository URL. @defaultValue 'charts' */
  prefix?: string;
}

/** A served repository. */
export interface ChartRepository {
  /** `http://127.0.0.1:<port>/<prefix>` */
  readonly url: string;
  /** A URL on the same server that never answers. */
  readonly hangUrl: string;
  close(): Promise<void>;
}

/** Packages, indexes and serves charts; close it when done. */
export async function serveChartRepository(options: ChartRepositoryOptions): Promise<ChartRepository> {
  const repoDir = join(options.workDir, 'repo');
  await mkdir(repoDir, { recursive: true });
  // The test's helm keeps its homes away from ~/.cache/helm too.
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(options.workDir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(options.workDir, 'helm', 'config'),
    HELM_DATA_HOME: join(options.workDir, 'helm', 'data'),
  };
  for (const chart of options.charts)
    await run(options.helmPath, ['package', chart, '--destination', repoDir], { env });
  await run(options.helmPath, ['repo', 'index', repoDir], { env });
  const prefix = options.prefix ?? 'charts';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/hang/')) return;
    const name = basename(path);
    if (!path.startsWith(`/${prefix}/`) || !/^[\w.-]+\.(tgz|yaml)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(repoDir, name)).then(
      (body) => res.writeHead(200).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${prefix}`,
    hangUrl: `http://127.0.0.1:${port}/hang`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
