// `ocne cluster console` as a user runs it (the real CLI process) against the real test node of
// the integration project: the command's output and exit code, piped stdin, `--direct` in the
// node's root (only harmless commands, in a folder this test owns), the toolbox image, and an
// interrupt that still removes the admin pod.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type KubeClient } from '@ocne/kubernetes';
import { NODE_TOOLBOX_IMAGE } from '@ocne/test-control-plane';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, spawnOcne } from '../cli-process.js';

const { source } = controlPlanesFromInject();
const node = testNodeFromInject();
const POD = { apiVersion: 'v1', kind: 'Pod', namespace: 'ocne-system', name: `console-${node.name}` };
let home: string;
let kube: KubeClient;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'ocne-console-'));
  kube = await connect({ kubeconfig: source.kubeconfig });
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `ocne cluster console -N <node> -k <kubeconfig> ARGS`, with `input` piped to its stdin. */
async function consoleRun(args: readonly string[], input = ''): Promise<Result> {
  const child = spawnOcne(
    home,
    ['cluster', 'console', '-N', node.name, '-k', source.kubeconfigPath, ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin!.end(input);
  const { code, signal } = await exited(child);
  return { code, signal, stdout, stderr };
}

describe('ocne cluster console', () => {
  it("prints the node's `uname -a` and exits with the command's exit code", async () => {
    const result = await consoleRun(['--', 'uname', '-a']);
    expect(result).toMatchObject({ code: 0, stdout: execFileSync('uname', ['-a'], { encoding: 'utf8' }) });
    const failing = await consoleRun(['--', 'sh', '-c', 'echo to-stderr >&2; exit 5']);
    expect(failing).toMatchObject({ code: 5, stdout: '' });
    expect(failing.stderr).toContain('to-stderr');
    expect(await kube.get(POD)).toBeUndefined();
  });

  it('passes piped stdin to the command, and to a shell when there is no command', async () => {
    expect(await consoleRun(['--', 'tr', 'a-z', 'A-Z'], 'piped to the node\n')).toMatchObject({
      code: 0,
      stdout: 'PIPED TO THE NODE\n',
    });
    // No command: a shell, which reads its commands from the pipe.
    expect(await consoleRun([], 'echo from the shell\nexit 4\n')).toMatchObject({
      code: 4,
      stdout: 'from the shell\n',
    });
  });

  it("--direct runs in the node's root; without it the command runs in the admin pod's own file system", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocne-console-direct-'));
    try {
      await writeFile(join(dir, 'mark'), 'on the node\n');
      expect(await consoleRun(['--direct', '--', 'cat', join(dir, 'mark')])).toMatchObject({
        code: 0,
        stdout: 'on the node\n',
      });
      expect(await consoleRun(['-d', '--', 'sh', '-c', `echo written > ${join(dir, 'out')}`])).toMatchObject({
        code: 0,
      });
      expect(await readFile(join(dir, 'out'), 'utf8')).toBe('written\n');
      // In the pod, the host's files are only under /hostroot.
      expect(
        await consoleRun(['--', 'sh', '-c', `cat ${join(dir, 'mark')} || cat /hostroot${join(dir, 'mark')}`]),
      ).toMatchObject({ code: 0, stdout: 'on the node\n' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--toolbox runs in the toolbox image', async () => {
    const running = consoleRun(['--toolbox', '--', 'sleep', '3']);
    const [pod] = await kube.waitFor<{ kind?: string; spec?: { containers: { image: string }[] } }>(
      { ...POD, name: POD.name },
      (pods) => pods.length === 1,
      { timeoutMs: 20_000 },
    );
    expect(pod?.spec?.containers[0]?.image).toBe('olcne/ock:toolbox');
    expect(NODE_TOOLBOX_IMAGE).toBe('docker.io/olcne/ock:toolbox');
    expect((await running).code).toBe(0);
  });

  it('an interrupt stops the command and removes the admin pod; the exit code is 130', async () => {
    const child = spawnOcne(
      home,
      ['cluster', 'console', '-N', node.name, '-k', source.kubeconfigPath, '--', 'sleep', '60'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Interrupted once the command runs in the pod.
    await kube.waitFor<{
      kind?: string;
      status?: { containerStatuses?: { state?: { running?: unknown } }[] };
    }>(POD, (pods) => pods[0]?.status?.containerStatuses?.[0]?.state?.running !== undefined, {
      timeoutMs: 30_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 130, signal: null });
    expect(await kube.get(POD)).toBeUndefined();
  });

  it('an unknown node fails with exit code 1 and says so; no pod is left', async () => {
    const child = spawnOcne(
      home,
      ['cluster', 'console', '-N', 'no-such-node', '-k', source.kubeconfigPath, '--', 'true'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    expect((await exited(child)).code).toBe(1);
    expect(stderr).toContain('the cluster has no node no-such-node');
  });
});
