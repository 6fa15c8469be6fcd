// `main` of the CLI in this process, for the integration tests that run a command against a real
// daemon with the environment they give: its exit code and what it wrote to stderr.
import { main } from '@ocne/cli';

/** Runs `ocne <argv>` with `env` (HOME included) as the whole environment; no TTY. */
export async function ocneInProcess(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    ({
      write: (chunk: string, callback?: () => void) => {
        write(chunk);
        callback?.();
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main({
    argv,
    stdout: sink(() => {}),
    stderr: sink((s) => {
      stderr += s;
    }),
    env,
    tty: false,
  });
  return { code, stderr };
}
