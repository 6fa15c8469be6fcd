/**
 * Container and OSTree image references, as upstream `pkg/image` reads them. Pure string work.
 */
import { isSupportedKubernetesVersion } from './kubernetes-versions.js';

/** Transports that containers/image knows (`alltransports`). */
const TRANSPORTS = new Set([
  'containers-storage',
  'dir',
  'docker',
  'docker-archive',
  'docker-daemon',
  'oci',
  'oci-archive',
  'ostree',
  'sif',
  'tarball',
]);

/** The transport of an image name such as `docker://x/y:1`, or `undefined` when it has none. */
export function imageTransport(name: string): string | undefined {
  const i = name.indexOf(':');
  if (i <= 0) return undefined;
  const t = name.slice(0, i);
  return TRANSPORTS.has(t) ? t : undefined;
}

/** An image reference split into its parts. */
export interface ImageReference {
  /** Transport without `://`, such as `docker`. */
  transport: string;
  /** Registry and repository, such as `container-registry.oracle.com/olcne/ock`. */
  baseImage: string;
  /** The tag, or `''`. */
  tag: string;
  /** The digest (`sha256:…`), or `''`. */
  digest: string;
}

/**
 * Splits `[transport:][//]registry/repo[:tag][@digest]`; `docker` is assumed when there is no
 * transport. Like upstream's `SplitImage`, an untagged reference has tag `''` (not `latest`).
 */
export function splitImage(name: string): ImageReference {
  const explicit = imageTransport(name);
  const transport = explicit ?? 'docker';
  let rest = explicit ? name.slice(explicit.length + 1) : name;
  if (rest.startsWith('//')) rest = rest.slice(2);
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { transport, baseImage: rest, tag, digest };
}

/**
 * The boot image with its Kubernetes tag, as upstream's `EnsureBootImageVersion` does: a tag
 * that is itself a supported Kubernetes version (`1.31`, `1.33.5`) is replaced by
 * `kubernetesVersion` (without `v`); another tag (`1.33.0`, `mytag`) or a digest is kept; an
 * untagged image gets `:<version>`. A missing transport becomes `docker://` first.
 */
export function ensureBootImageVersion(kubernetesVersion: string, image: string): string {
  let result = imageTransport(image) ? image : `docker://${image}`;
  const ref = splitImage(result);
  let tag = ref.tag;
  if (tag !== '' && isSupportedKubernetesVersion(tag)) {
    const at = result.indexOf('@');
    const head = at >= 0 ? result.slice(0, at) : result;
    result = head.slice(0, head.lastIndexOf(':')) + (at >= 0 ? result.slice(at) : '');
    tag = '';
  }
  if (tag === '' && ref.digest === '') {
    return `${result}:${kubernetesVersion.startsWith('v') ? kubernetesVersion.slice(1) : kubernetesVersion}`;
  }
  return result;
}

/** An OSTree native container reference split into transport, image and tag. */
export interface OstreeReference {
  /** Everything before the image, such as `ostree-unverified-registry` or `ostree-image-signed:docker`. */
  transport: string;
  baseImage: string;
  tag: string;
}

/**
 * Parses an OSTree native container reference (`ostree-unverified-registry:x/y:tag`,
 * `ostree-image-signed:docker://x/y`, `ostree-remote-image:remote:registry:x/y`, ...). Returns
 * `undefined` when the value has no OSTree transport.
 */
export function parseOstreeReference(value: string): OstreeReference | undefined {
  const fields = value.split(':');
  if (fields.length < 2) return undefined;
  const [first] = fields;
  let transport: string;
  let rest: string;
  switch (first) {
    case 'ostree-unverified-registry':
      transport = first;
      rest = fields.slice(1).join(':');
      break;
    case 'ostree-unverified-image':
    case 'ostree-image-signed': {
      const inner = fields[1];
      if (inner === 'registry' || inner === 'containers-storage' || inner === 'docker') {
        transport = `${first}:${inner}`;
        rest = fields.slice(2).join(':');
        if (inner === 'docker') {
          if (!rest.startsWith('//')) return undefined;
          rest = rest.slice(2);
        }
      } else if (inner === 'docker-archive' || inner === 'oci' || inner === 'oci-archive') {
        return { transport: `${first}:${inner}`, baseImage: fields.slice(2).join(':'), tag: '' };
      } else {
        return undefined;
      }
      break;
    }
    case 'ostree-remote-image': {
      if (fields.length < 4) return undefined;
      const inner = fields[2];
      if (inner !== 'registry' && inner !== 'docker') return undefined;
      transport = `${first}:${fields[1]}:${inner}`;
      rest = fields.slice(3).join(':');
      if (inner === 'docker') {
        if (!rest.startsWith('//')) return undefined;
        rest = rest.slice(2);
      }
      break;
    }
    default:
      return undefined;
  }
  if (rest === '') return undefined;
  const image = splitImage(rest);
  return { transport, baseImage: image.baseImage, tag: image.tag };
}

/** Upstream's `MakeOstreeReference`: prefixes `ostree-unverified-registry:` when there is no OSTree transport. */
export function makeOstreeReference(value: string): string {
  return parseOstreeReference(value) ? value : `ostree-unverified-registry:${value}`;
}
