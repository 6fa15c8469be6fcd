// Expired credentials against a real kube-apiserver: a bootstrap token past its expiration is
// refused (401) and reported as a typed error, while a current one authenticates (then 403: the
// bootstrap group may not list namespaces). Uses a control plane of its own with bootstrap-token
// authentication switched on.
import { connect, createBootstrapToken, type KubeError } from '@ocne/kubernetes';
import { type ControlPlane, startControlPlane } from '@ocne/test-control-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let plane: ControlPlane;
beforeAll(async () => {
  plane = await startControlPlane({
    name: 'bootstrap-auth',
    extraArgs: ['--enable-bootstrap-token-auth=true'],
  });
}, 120_000);
afterAll(async () => {
  await plane?.stop();
});

const withToken = (token: string) => plane.kubeconfig.replace(plane.token, token);

describe('credentials that expired', () => {
  it('an expired bootstrap token is refused as unauthorized (401); a current one authenticates', async () => {
    const admin = await connect({ kubeconfig: plane.kubeconfig });
    const day = 24 * 60 * 60 * 1000;
    await createBootstrapToken(admin, 'exp1re.0123456789abcdef', { now: new Date(Date.now() - 2 * day) });
    await createBootstrapToken(admin, 'fresh1.0123456789abcdef', { now: new Date() });

    const expired = await connect({ kubeconfig: withToken('exp1re.0123456789abcdef') });
    const error = (await expired.list('v1', 'Namespace').catch((e) => e)) as KubeError;
    expect(error).toMatchObject({ code: 'OCNE_KUBE_UNAUTHORIZED', status: { code: 401 } });
    expect(error.message).toContain('listing Namespace');

    const current = await connect({ kubeconfig: withToken('fresh1.0123456789abcdef') });
    const denied = (await current.list('v1', 'Namespace').catch((e) => e)) as KubeError;
    expect(denied).toMatchObject({
      code: 'OCNE_KUBE_UNAUTHORIZED',
      status: { code: 403, reason: 'Forbidden' },
    });
    expect(denied.status?.message).toContain('system:bootstrap:fresh1');
  });
});
