/**
 * What the BYO provider does inside a cluster, shared by joins and node moves. This module imports
 * `@ocne/kubernetes` itself, so it is only ever loaded with `await import(...)`: a BYO start or a
 * manual join never loads the Kubernetes client.
 */
import { type EventSink, OcneError, type OcneErrorCode } from '@ocne/core';
import { type KubeClient, runOnNodeOrThrow } from '@ocne/kubernetes';

/** The name of the first control-plane node (by the kubeadm role label), as upstream finds it. */
export async function firstControlPlaneNode(
  kube: KubeClient,
  missing: { code: OcneErrorCode; message: string },
): Promise<string> {
  const { items } = await kube.list('v1', 'Node', { labelSelector: 'node-role.kubernetes.io/control-plane' });
  const name = items[0]?.metadata?.name;
  if (name === undefined) throw new OcneError(missing.code, missing.message);
  return name;
}

/**
 * Uploads the control-plane certificates with `kubeadm init phase upload-certs` from an admin pod
 * on `node`, so that a joining control-plane node can fetch them with `certificateKey`. The step's
 * text is `description`: the key must not appear in events.
 */
export async function uploadCertificates(
  kube: KubeClient,
  node: string,
  certificateKey: string,
  options: { description: string; emit?: EventSink | undefined; signal?: AbortSignal | undefined },
): Promise<void> {
  const command = [
    'chroot',
    '/hostroot',
    'kubeadm',
    'init',
    'phase',
    'upload-certs',
    '--certificate-key',
    certificateKey,
    '--upload-certs',
  ];
  await runOnNodeOrThrow(kube, node, command, {
    description: options.description,
    ...(options.emit ? { emit: options.emit } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
