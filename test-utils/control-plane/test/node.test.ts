// The real test node of the global setup, as kubectl sees it: a Ready node at the API server's
// version, running a privileged host-network pod from the locally built admin image, with `exec`
// (piped stdin, exit codes, the host's root at /hostroot) going through the API server and kubelet.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  NODE_ADMIN_IMAGE,
  NODE_APISERVER_ARGS,
  startControlPlane,
  startTestNode,
} from '@ocne/test-control-plane';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
import { TOOL_VERSIONS, testTool } from '@ocne/test-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const { source, destination } = controlPlanesFromInject();
const node = testNodeFromInject();
const pod = `node-test-${process.pid}`;

const kubectl = (args: readonly string[]) =>
  execFileAsync(testTool('kubectl'), ['--kubeconfig', source.kubeconfigPath, '-n', 'default', ...args]);

/** `kubectl exec -i`, with `input` on stdin: its output and exit code. */
function exec(command: readonly string[], input: string): Promise<{ stdout: string; code: number | null }> {
  const child = spawn(testTool('kubectl'), [
    '--kubeconfig',
    source.kubeconfigPath,
    '-n',
    'default',
    'exec',
    '-i',
    pod,
    '--',
    ...command,
  ]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ stdout, code })));
}

beforeAll(async () => {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod },
    spec: {
      nodeName: node.name,
      hostNetwork: true,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'admin',
          image: NODE_ADMIN_IMAGE,
          command: ['sleep', '600'],
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'hostroot', mountPath: '/hostroot' }],
        },
      ],
      volumes: [{ name: 'hostroot', hostPath: { path: '/' } }],
    },
  };
  const dir = await mkdtemp(join(tmpdir(), 'node-test-'));
  await writeFile(join(dir, 'pod.json'), JSON.stringify(manifest));
  await kubectl(['apply', '-f', join(dir, 'pod.json')]);
  await rm(dir, { recursive: true });
  await kubectl(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s']);
});

afterAll(async () => {
  await kubectl(['delete', 'pod', pod, '--grace-period=0', '--force', '--ignore-not-found']);
});

describe('the test node', () => {
  it('is a Ready node of the source control plane, with a kubelet at the API server version', async () => {
    const { stdout } = await kubectl(['get', 'node', node.name, '-o', 'json']);
    const object = JSON.parse(stdout) as {
      status: {
        nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
        conditions: { type: string; status: string }[];
      };
    };
    expect(object.status.nodeInfo.kubeletVersion).toBe(TOOL_VERSIONS.kubelet);
    expect(object.status.nodeInfo.kubeletVersion).toBe(TOOL_VERSIONS['kube-apiserver']);
    expect(object.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
    expect(object.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.pids.kubelet).toBeGreaterThan(0);
  });

  it('has a twin registered with the destination control plane, with a kubelet of its own', async () => {
    const twin = testNodeFromInject('destination');
    const { stdout } = await execFileAsync(testTool('kubectl'), [
      '--kubeconfig',
      destination.kubeconfigPath,
      'get',
      'node',
      twin.name,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    expect(stdout).toBe('True');
    expect(twin.pids.kubelet).not.toBe(node.pids.kubelet);
  });

  it("keeps what pods write to the host's /etc in the node's folder, not in /etc", async () => {
    const name = `ocne-node-test-${process.pid}`;
    expect(
      await exec(['sh', '-c', `echo kept > /hostroot/etc/${name}; cat /hostroot/etc/${name}`], ''),
    ).toEqual({
      stdout: 'kept\n',
      code: 0,
    });
    expect(existsSync(`/etc/${name}`)).toBe(false);
    expect(await readFile(join(node.hostWrites.etc, name), 'utf8')).toBe('kept\n');
    // Removed through the overlay: its upper folder must not change under it.
    expect(await exec(['rm', `/hostroot/etc/${name}`], '')).toEqual({ stdout: '', code: 0 });
  });

  it('execs commands in pods: piped stdin reaches the command, whose exit code comes back', async () => {
    const result = await exec(['sh', '-c', 'tr a-z A-Z; exit 7'], 'piped input\n');
    expect(result).toEqual({ stdout: 'PIPED INPUT\n', code: 7 });
    const uname = await exec(['uname', '-n'], '');
    expect(uname).toEqual({ stdout: `${hostname()}\n`, code: 0 });
  });

  it("mounts the host's root at /hostroot, and the node's bin folder is on the admin image's PATH", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'node-test-'));
    try {
      await writeFile(join(dir, 'mark'), 'written on the host\n');
      await writeFile(join(node.binDir, `node-test-${process.pid}`), '#!/bin/sh\necho double "$@"\n', {
        mode: 0o755,
      });
      expect(await exec(['cat', `/hostroot${dir}/mark`], '')).toEqual({
        stdout: 'written on the host\n',
        code: 0,
      });
      expect(await exec(['chroot', '/hostroot', `node-test-${process.pid}`, 'a', 'b'], '')).toEqual({
        stdout: 'double a b\n',
        code: 0,
      });
    } finally {
      await rm(dir, { recursive: true });
      await rm(join(node.binDir, `node-test-${process.pid}`), { force: true });
    }
  });

  it("a second run's node on the same machine starts and stops without touching this node's pods or the host paths they use", async () => {
    const before = await exec(['sh', '-c', 'echo alive'], '');
    expect(before).toEqual({ stdout: 'alive\n', code: 0 });
    {
      await using plane = await startControlPlane({ name: 'other-run', extraArgs: [...NODE_APISERVER_ARGS] });
      await using other = await startTestNode({ controlPlane: plane });
      expect(other.pids.kubelet).not.toBe(node.pids.kubelet);
    }
    // The other node is gone; its kubelet and its stop cleaned up only what was its own.
    expect(existsSync('/run/containerd')).toBe(true);
    expect(await exec(['sh', '-c', 'echo still alive'], '')).toEqual({ stdout: 'still alive\n', code: 0 });
    const { stdout } = await kubectl([
      'get',
      'pod',
      pod,
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount}',
    ]);
    expect(stdout).toBe('0');
  }, 180_000);
});
