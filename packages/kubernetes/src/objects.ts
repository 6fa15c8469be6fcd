/**
 * The shape of a Kubernetes object in this package's public types. It is the part of
 * `@kubernetes/client-node`'s `KubernetesObject` (and `V1ObjectMeta`) the SDK reads, declared here
 * so that the published declarations never load client-node's: those need the `ws` types and,
 * through js-yaml, TypeScript 5.7 or later, and break a consumer that checks libraries
 * (`skipLibCheck: false`). Client-node's objects (`V1Deployment`, `V1Pod`…) fit these types as
 * they are.
 */

/** An owner of an object (`metadata.ownerReferences[]`). */
export interface KubeOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** An object's `metadata`, as far as the SDK reads it. */
export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  finalizers?: string[];
  ownerReferences?: KubeOwnerReference[];
  /** Who owns which fields (server-side apply). */
  managedFields?: Array<{
    apiVersion?: string;
    fieldsType?: string;
    fieldsV1?: object;
    manager?: string;
    operation?: string;
    subresource?: string;
    time?: Date;
  }>;
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  deletionGracePeriodSeconds?: number;
}

/** Any Kubernetes object: `apiVersion`, `kind` and `metadata`, the rest depends on the kind. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
}
