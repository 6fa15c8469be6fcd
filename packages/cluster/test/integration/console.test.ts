// Cluster.console through the facade, on the real test node: the caller's streams get the
// command's output, stdin reaches it, the exit code is returned; an abort ends the session with
// OCNE_CANCELLED and the admin pod is gone; the kubeconfig comes from KUBECONFIG when not given.
import { PassThrough, Readable } from 'node:stream';
import { Cluster } from '@ocne/cluster';
import { connect } from '@ocne/kubernetes';
import { controlPlanesFromInject, testNodeFromInject } from '@ocne/test-control-plane/vitest';
import { describe, expect, it } from 'vitest';

const { source } = controlPlanesFromInject();
const node = testNodeFromInject();

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('Cluster.console', () => {
  it("streams stdin to the command and its output back, and returns the command's exit code", async () => {
    const out = collect();
    const err = collect();
    const code = await Cluster.console({
      node: node.name,
      env: { KUBECONFIG: source.kubeconfigPath },
      command: ['sh', '-c', 'read line; echo "got $line"; echo warned >&2; exit 6'],
      stdin: Readable.from(['a line\n']),
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(code).toBe(6);
    expect(out.text()).toBe('got a line\n');
    expect(err.text()).toBe('warned\n');
  });

  it('an abort ends the session with OCNE_CANCELLED and deletes the admin pod', async () => {
    const controller = new AbortController();
    const out = collect();
    out.stream.once('data', () => controller.abort());
    const error = await Cluster.console({
      node: node.name,
      kubeconfigPath: source.kubeconfigPath,
      command: ['sh', '-c', 'echo started; sleep 60'],
      stdout: out.stream,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OCNE_CANCELLED' });
    const kube = await connect({ kubeconfig: source.kubeconfig });
    expect(
      await kube.get({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: 'ocne-system',
        name: `console-${node.name}`,
      }),
    ).toBeUndefined();
  });
});
