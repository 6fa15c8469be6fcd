import { describe, expect, it } from 'vitest';
import {
  type CapiProviderPlan,
  capiProviderCharts,
  EMPTY_PASSPHRASE_PLACEHOLDER,
  type OciCredentials,
} from '../src/index.js';

const credentials: OciCredentials = {
  region: 'us-ashburn-1',
  tenancy: 'ocid1.tenancy.oc1..aaaa',
  user: 'ocid1.user.oc1..bbbb',
  fingerprint: '12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0',
  key: '-----BEGIN PRIVATE KEY-----\nTEST\n-----END PRIVATE KEY-----\n',
  passphrase: 'hunter2',
};

/** The capoci entry's authConfig. */
const authConfig = (plan: CapiProviderPlan[]) =>
  plan.find((p) => p.release === 'capoci')?.values.authConfig as Record<string, unknown>;

describe('capiProviderCharts', () => {
  it('lists upstream releases, charts and namespaces in install order', () => {
    const plan = capiProviderCharts({ credentials });
    expect(plan.map((p) => [p.release, p.chart, p.namespace, p.deployment])).toEqual([
      ['cert-manager', 'cert-manager', 'cert-manager', undefined],
      ['core-capi', 'core-capi', 'capi-system', 'core-capi-controller-manager'],
      ['capoci', 'oci-capi', 'cluster-api-provider-oci-system', 'capoci-controller-manager'],
      [
        'bootstrap-capi',
        'bootstrap-capi',
        'capi-kubeadm-bootstrap-system',
        'bootstrap-capi-controller-manager',
      ],
      [
        'control-plane-capi',
        'control-plane-capi',
        'capi-kubeadm-control-plane-system',
        'control-plane-capi-controller-manager',
      ],
    ]);
  });

  it("carries upstream's waiter texts, typos included", () => {
    const waiters = Object.fromEntries(capiProviderCharts({ credentials }).map((p) => [p.release, p.waiter]));
    expect(waiters).toEqual({
      'cert-manager': undefined,
      'core-capi': 'Waiting for Core Cluster API Controllers',
      capoci: 'Waiting for OCI Cluster API Controllers',
      'bootstrap-capi': 'Waiting for Kubadm Boostrap Cluster API Controllers',
      'control-plane-capi': 'Waiting for Kubadm Control Plane Cluster API Controllers',
    });
  });

  it('gives capoci the authConfig with useInstancePrincipal as a string, and every CAPI chart the proxy', () => {
    const plan = capiProviderCharts({ credentials });
    const emptyProxy = { httpsProxy: '', httpProxy: '', noProxy: '' };
    expect(plan[0]?.values).toEqual({});
    expect(plan[2]?.values).toEqual({
      authConfig: {
        fingerprint: credentials.fingerprint,
        key: credentials.key,
        passphrase: 'hunter2',
        region: 'us-ashburn-1',
        tenancy: credentials.tenancy,
        useInstancePrincipal: 'false',
        user: credentials.user,
      },
      proxy: emptyProxy,
    });
    for (const p of plan.slice(1)) expect(p.values.proxy).toEqual(emptyProxy);
    const principal = capiProviderCharts({ credentials: { ...credentials, useInstancePrincipal: true } });
    expect(authConfig(principal).useInstancePrincipal).toBe('true');
  });

  it('passes the proxy settings to core, capoci, bootstrap and control-plane charts', () => {
    const proxy = {
      httpsProxy: 'http://proxy:3128',
      httpProxy: 'http://proxy:3128',
      noProxy: '.local,10.0.0.0/8',
    };
    const plan = capiProviderCharts({ credentials, proxy });
    expect(plan[0]?.values).toEqual({});
    for (const p of plan.slice(1)) expect(p.values.proxy).toEqual(proxy);
    const partial = capiProviderCharts({ credentials, proxy: { noProxy: 'x' } });
    expect(partial[1]?.values.proxy).toEqual({ httpsProxy: '', httpProxy: '', noProxy: 'x' });
    // Each chart has its own copy: editing one plan does not change another.
    expect(plan[1]?.values.proxy).not.toBe(plan[3]?.values.proxy);
  });

  it("replaces an empty or absent passphrase with upstream's placeholder (the chart needs one)", () => {
    expect(EMPTY_PASSPHRASE_PLACEHOLDER).toBe('fiddlesticks');
    for (const passphrase of [undefined, '']) {
      const { passphrase: _drop, ...rest } = credentials;
      const creds: OciCredentials = passphrase === undefined ? rest : { ...rest, passphrase };
      expect(authConfig(capiProviderCharts({ credentials: creds })).passphrase).toBe('fiddlesticks');
    }
  });

  it('is pure: same input, same output, input untouched', () => {
    const input = structuredClone(credentials);
    expect(capiProviderCharts({ credentials: input })).toEqual(capiProviderCharts({ credentials }));
    expect(input).toEqual(credentials);
  });
});
