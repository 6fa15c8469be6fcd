/**
 * The ostree image reference of `image create --type ostree`: upstream joins `osRegistry` and
 * `osTag` with a colon and splits the result into an ostree-ext transport, an image name and a
 * tag (its `ParseOstreeReference`). We keep the same accepted forms and the same refusals.
 */
import { OcneError } from '@ocne/core';

/** The default `osRegistry`, as upstream's. */
export const DEFAULT_OSTREE_REGISTRY =
  'ostree-unverified-registry:container-registry.oracle.com/olcne/ock-ostree';

/** A parsed ostree image reference. */
export interface OstreeReference {
  /** e.g. `ostree-unverified-registry`, `ostree-unverified-image:docker://`. */
  readonly transport: string;
  /** The image name without a tag, e.g. `container-registry.oracle.com/olcne/ock-ostree`. */
  readonly image: string;
  /** The tag (required). */
  readonly tag: string;
  /** `<image>:<tag>`: what a registry client pulls. */
  readonly pullReference: string;
}

function invalid(text: string): OcneError {
  return new OcneError('OCNE_IMAGE_OSTREE_REFERENCE', `${text} is not a valid ostree image reference`);
}

/** Splits `<osRegistry>:<osTag>`; a tag is required, as upstream requires one. */
export function parseOstreeReference(osRegistry: string, osTag: string): OstreeReference {
  const text = `${osRegistry}:${osTag}`;
  let fields = text.split(':');
  let transport = fields[0] ?? '';
  const viaImageTransport = (prefix: string, rest: string[]): string[] => {
    const kind = rest[0];
    if (kind === 'registry') {
      transport = `${prefix}:registry`;
      return rest.slice(1);
    }
    if (kind === 'docker' && rest[1]?.startsWith('//')) {
      transport = `${prefix}:docker://`;
      return [rest[1].slice(2), ...rest.slice(2)];
    }
    throw invalid(text);
  };
  switch (transport) {
    case 'ostree-unverified-registry':
      fields = fields.slice(1);
      break;
    case 'ostree-unverified-image':
    case 'ostree-image-signed':
      fields = viaImageTransport(transport, fields.slice(1));
      break;
    case 'ostree-remote-image':
      if (fields.length < 4) throw invalid(text);
      fields = viaImageTransport(`${transport}:${fields[1]}`, fields.slice(2));
      break;
    default:
      throw invalid(text);
  }
  const reference = fields.join(':');
  if (reference.includes('@')) {
    throw new OcneError('OCNE_IMAGE_OSTREE_REFERENCE', `ostree image ${text} must name a tag, not a digest`);
  }
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  const image = colon > slash ? reference.slice(0, colon) : reference;
  const tag = colon > slash ? reference.slice(colon + 1) : '';
  if (image === '' || !/^[a-z0-9]/.test(image)) throw invalid(text);
  if (tag === '') throw new OcneError('OCNE_IMAGE_OSTREE_REFERENCE', `ostree image ${image} requires a tag`);
  return { transport, image, tag, pullReference: `${image}:${tag}` };
}
