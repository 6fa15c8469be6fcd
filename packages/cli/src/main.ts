import pkg from '../package.json' with { type: 'json' };

/** Where the CLI writes; the defaults are the process streams. */
export interface MainOptions {
  /** Arguments after the program name. */
  argv: readonly string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const usage = `Usage: ocne [--help] [--version]

The cluster, image and node commands arrive with the issues that implement them.
`;

const version: string = pkg.version;

/**
 * Runs the CLI and resolves to its exit code: 0 ok, 1 the operation failed, 2 usage error.
 */
export async function main(options: MainOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const [first, ...rest] = options.argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    stdout.write(usage);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' && rest.length === 0) {
    stdout.write(`${version}\n`);
    return 0;
  }
  stderr.write(`Error: unknown command "${first}" for "ocne"\n\n${usage}`);
  return 2;
}
