/**
 * Running the disk tools (qemu-img, losetup, xfs_admin, guestfish…) through execa, with one error
 * mapping: a missing program is `OCNE_DEPENDENCY_MISSING`, a failing one `OCNE_IMAGE_EDIT_FAILED`
 * with its stderr, an aborted one the signal's reason.
 */
import { OcneError } from '@ocne/core';
import { execa } from 'execa';

/** Options of {@link runTool}. */
export interface RunToolOptions {
  signal?: AbortSignal | undefined;
  env?: Record<string, string | undefined>;
  log?: ((message: string) => void) | undefined;
}

/** Runs a program to completion and returns its stdout. */
export async function runTool(
  command: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<string> {
  options.signal?.throwIfAborted();
  options.log?.(`${command} ${args.join(' ')}`);
  try {
    const result = await execa(command, args, {
      env: { LC_ALL: 'C', ...options.env },
      stdin: 'ignore',
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    return result.stdout;
  } catch (error) {
    options.signal?.throwIfAborted();
    const e = error as { code?: unknown; stderr?: unknown; shortMessage?: unknown };
    if (e.code === 'ENOENT') {
      throw new OcneError('OCNE_DEPENDENCY_MISSING', `${command} is not installed`, { cause: error });
    }
    const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
    throw new OcneError(
      'OCNE_IMAGE_EDIT_FAILED',
      `${command} ${args.join(' ')} failed${stderr ? `: ${stderr}` : `: ${String(e.shortMessage ?? error)}`}`,
      { cause: error },
    );
  }
}

/** The virtual size and format of a disk image, from `qemu-img info`. */
export async function imageInfo(
  path: string,
  options: RunToolOptions = {},
): Promise<{ format: string; virtualSize: number; actualSize: number }> {
  const info = JSON.parse(await runTool('qemu-img', ['info', '--output=json', path], options)) as {
    format?: unknown;
    'virtual-size'?: unknown;
    'actual-size'?: unknown;
  };
  return {
    format: String(info.format),
    virtualSize: Number(info['virtual-size']),
    actualSize: Number(info['actual-size'] ?? 0),
  };
}
