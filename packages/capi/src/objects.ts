// Hand-written Kubernetes object metadata shared by the generated Cluster API types
// (src/generated/types.ts). The CRD schemas leave `metadata` untyped (the API server owns it),
// so the generator refers to these instead.

/** The label CAPI puts on the objects of a cluster, with the cluster's name as value. */
export const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

/** A reference from an object to the object that owns it (`metadata.ownerReferences[]`). */
export interface OwnerReference {
  /** API version of the owner, `group/version`. */
  apiVersion: string;
  /** Kind of the owner. */
  kind: string;
  /** Name of the owner. */
  name: string;
  /** UID of the owner. */
  uid: string;
  /** Whether the owner is the managing controller. At most one owner reference is a controller. */
  controller?: boolean;
  /** Whether the owner cannot be deleted (foreground deletion) before this object is gone. */
  blockOwnerDeletion?: boolean;
}

/**
 * The standard Kubernetes object metadata, as far as the SDK reads or writes it. Server-set
 * fields (`uid`, `resourceVersion`, `generation`, timestamps, `managedFields`) are absent from
 * objects the SDK builds.
 */
export interface ObjectMeta {
  /** Name, unique per kind within a namespace. */
  name?: string;
  /** Prefix the server completes to a unique name when `name` is not set. */
  generateName?: string;
  /** Namespace of a namespaced object. */
  namespace?: string;
  /** Labels: identifying key/value pairs that selectors match. */
  labels?: Record<string, string>;
  /** Annotations: non-identifying key/value pairs. */
  annotations?: Record<string, string>;
  /** Unique ID the server assigns. */
  uid?: string;
  /** Version of the object for optimistic concurrency, set by the server. */
  resourceVersion?: string;
  /** Sequence number of the desired state, set by the server. */
  generation?: number;
  /** Creation time (RFC 3339), set by the server. */
  creationTimestamp?: string;
  /** Time (RFC 3339) after which the object is deleted, set by the server on deletion. */
  deletionTimestamp?: string;
  /** Seconds the object is allowed to terminate gracefully, set by the server on deletion. */
  deletionGracePeriodSeconds?: number;
  /** The objects this one depends on. */
  ownerReferences?: OwnerReference[];
  /** Keys that must be removed before the server deletes the object. */
  finalizers?: string[];
  /** Field ownership records of server-side apply, set by the server. */
  managedFields?: Array<Record<string, unknown>>;
}
