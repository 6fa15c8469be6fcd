// The kubeconfig of a test's HTTP proxy in front of a control plane's API server: plain HTTP to
// the proxy (it speaks TLS to the API server), with the control plane's admin token. client-node
// takes an http: server only with `insecure-skip-tls-verify`, which has no TLS to skip here.
export function proxyKubeconfig(port: number, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'proxy', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'admin' } }],
    'current-context': 'proxy',
  });
}
