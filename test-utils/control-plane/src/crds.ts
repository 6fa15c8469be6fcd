// A CustomResourceDefinition that takes any content, for kinds a bare control plane must serve in a
// test (Cluster API kinds whose real schemas a test does not need): namespaced, with a status
// subresource, one served and stored version.

/** A kind for {@link simpleCrd}. */
export interface SimpleKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** A namespaced CRD with a status subresource whose one version takes any content. */
export function simpleCrd(kind: SimpleKind, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.plural}.${kind.group}`, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
    spec: {
      group: kind.group,
      scope: 'Namespaced',
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
      },
      versions: [
        {
          name: kind.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}
