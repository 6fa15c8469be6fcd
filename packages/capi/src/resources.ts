/**
 * The Cluster API resources an OCI cluster starts from: the rendered template, or the user's own
 * (`clusterDefinition` file or `clusterDefinitionInline`), parsed and checked the way upstream's
 * `oci` driver checks them before applying anything. Pure: the file comes in as read by
 * `@ocne/config`'s `readConfigFiles`.
 */
import { configFileContents, type ResolvedClusterConfig } from '@ocne/config';
import { OcneError } from '@ocne/core';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_NAME_LABEL } from './objects.js';
import { fail, type OciTemplateOptions, ociTemplate } from './template.js';

/** A Kubernetes object as read from YAML. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Where the resources of {@link ociClusterResources} came from. */
export type ClusterResourcesSource = 'template' | 'file' | 'inline';

/** The resources to apply for one cluster. */
export interface ClusterResources {
  /** The objects to apply, in order. */
  objects: KubeObject[];
  /** The namespace of the `Cluster` object: every resource is applied there. */
  namespace: string;
  /** The name of the `Cluster` object. */
  clusterName: string;
  source: ClusterResourcesSource;
  /** The file, for `file`. */
  path?: string;
}

/** Where in a resources file an error is. */
export interface ResourcesLocation {
  file: string;
  line: number;
  column: number;
}

/** An error in user-supplied resources, with the file position when one is known. */
export class CapiResourcesError extends OcneError {
  /** The position in the file or inline text. */
  readonly location: ResourcesLocation | undefined;

  constructor(message: string, location?: ResourcesLocation) {
    super(
      'OCNE_CAPI_INVALID_RESOURCES',
      location ? `${location.file}:${location.line}:${location.column}: ${message}` : message,
    );
    this.location = location;
  }
}

/** Parses a multi-document YAML stream of Kubernetes objects; empty documents are skipped. */
export function parseKubeObjects(text: string, source = '<inline>'): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: false })) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const at = lineColumn(text, error.pos[0]);
      throw new CapiResourcesError(error.message.split('\n')[0]!, { file: source, ...at });
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const at = doc.contents?.range ? lineColumn(text, doc.contents.range[0]) : undefined;
    const obj = value as Partial<KubeObject>;
    if (
      typeof value !== 'object' ||
      Array.isArray(value) ||
      typeof obj.apiVersion !== 'string' ||
      typeof obj.kind !== 'string' ||
      typeof obj.metadata?.name !== 'string'
    ) {
      throw new CapiResourcesError(
        'a Kubernetes object needs apiVersion, kind and metadata.name',
        at ? { file: source, ...at } : undefined,
      );
    }
    objects.push(value as KubeObject);
  }
  return objects;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function imageIds(value: unknown, out: { path: string; id: unknown }[], path: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      imageIds(v, out, `${path}[${i}]`);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const here = path === '' ? key : `${path}.${key}`;
      if (key === 'imageId') out.push({ path: here, id: v });
      else imageIds(v, out, here);
    }
  }
}

/**
 * Checks resources as upstream does before applying them: every `imageId` must be an image OCID
 * (`ocid1.image...`), and one `cluster.x-k8s.io/v1beta1` Cluster must carry the cluster-name label
 * (its namespace is where everything goes). Returns that Cluster's namespace and name.
 */
export function checkClusterResources(objects: readonly KubeObject[]): {
  namespace: string;
  clusterName: string;
} {
  for (const object of objects) {
    const found: { path: string; id: unknown }[] = [];
    imageIds(object, found, '');
    for (const { path, id } of found) {
      if (typeof id !== 'string' || !id.startsWith('ocid1.image')) {
        fail(
          'OCNE_CAPI_IMAGE_INVALID',
          `${object.kind} ${object.metadata.name}: ${path} must be an image OCID (ocid1.image...), not ${JSON.stringify(id ?? '')}`,
        );
      }
    }
  }
  const cluster = objects.find(
    (o) =>
      o.apiVersion === 'cluster.x-k8s.io/v1beta1' &&
      o.kind === 'Cluster' &&
      typeof o.metadata.labels?.[CLUSTER_NAME_LABEL] === 'string',
  );
  if (cluster === undefined) {
    fail(
      'OCNE_CAPI_NO_CLUSTER',
      `the resources have no cluster.x-k8s.io/v1beta1 Cluster labelled ${CLUSTER_NAME_LABEL}`,
    );
  }
  return { namespace: cluster.metadata.namespace ?? 'default', clusterName: cluster.metadata.name };
}

/**
 * The resources of an OCI cluster, as upstream's driver chooses them: `clusterDefinitionInline`,
 * else the `clusterDefinition` file (relative to the configuration's `directory`; its contents come
 * in `options.files`), else the rendered template ({@link ociTemplate}). Both definitions at once
 * is an error.
 */
export async function ociClusterResources(
  cluster: ResolvedClusterConfig,
  options: OciTemplateOptions = {},
): Promise<ClusterResources> {
  const file = cluster.clusterDefinition;
  const inline = cluster.clusterDefinitionInline;
  if (file !== '' && inline !== '') {
    fail(
      'OCNE_CAPI_DEFINITION_CONFLICT',
      'cluster configuration has file-based and inline resources: set clusterDefinition or clusterDefinitionInline, not both',
    );
  }
  if (file === '' && inline === '') {
    const template = await ociTemplate(cluster, options);
    const objects = template.objects as unknown as KubeObject[];
    return { objects, ...checkClusterResources(objects), source: 'template' };
  }
  if (inline !== '') {
    const objects = parseKubeObjects(inline, 'clusterDefinitionInline');
    return { objects, ...checkClusterResources(objects), source: 'inline' };
  }
  // A file and no inline text: the file is named, so this is its contents (or a not-read error).
  const { path, text } = configFileContents(cluster, options.files, 'clusterDefinition')!;
  const objects = parseKubeObjects(text, path);
  return { objects, ...checkClusterResources(objects), source: 'file', path };
}
