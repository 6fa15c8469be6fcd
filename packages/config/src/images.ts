/**
 * Container and OSTree image references, as upstream `pkg/image` reads them. Pure string work.
 */
import { isSupportedKubernetesVersion } from './kubernetes-versions.js';

/** Transports that containers/image knows (`alltransports`). */
const TRANSPORTS = new Set([
  'atomic',
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

/** An OSTree native container reference split into transport, image, tag and digest. */
export interface OstreeReference {
  /**
   * Everything before the image, as upstream writes it to `/etc/ocne/update.yaml`: such as
   * `ostree-unverified-registry`, `ostree-unverified-image:registry` or
   * `ostree-image-signed:docker://` (the `//` belongs to the transport).
   */
  transport: string;
  baseImage: string;
  /** The tag, or `''`. */
  tag: string;
  /** The digest (`sha256:…`), or `''`. */
  digest: string;
}

/** The OSTree transports (the first field of a reference), as ostree-rs-ext and upstream know them. */
const OSTREE_TRANSPORTS = [
  'ostree-unverified-registry',
  'ostree-unverified-image',
  'ostree-image-signed',
  'ostree-remote-image',
];

/** What may follow `ostree-unverified-image:` and `ostree-image-signed:`. */
const OSTREE_IMAGE_TRANSPORTS = [
  'registry',
  'docker',
  'containers-storage',
  'docker-archive',
  'oci',
  'oci-archive',
];

/**
 * Reads an OSTree native container reference as upstream's `ParseOstreeReference` does, and the
 * image in it as containers/image reads a `docker://` reference. Returns the reference, or why it
 * is refused. Deliberate differences from upstream, each of which upstream turns into a broken
 * node or a panic: `docker:` without `//` and an `ostree-remote-image` whose transport is neither
 * `registry` nor `docker://` are refused (upstream strips two characters blindly, or takes the
 * rest as the image), and so is an empty remote name.
 */
function readOstreeReference(value: string): OstreeReference | string {
  const fields = value.split(':');
  const first = fields[0]!;
  if (fields.length < 2 || !OSTREE_TRANSPORTS.includes(first)) {
    return `it has no OSTree transport (expected ${OSTREE_TRANSPORTS.map((t) => `${t}:`).join(', ')})`;
  }
  let transport: string;
  let rest: string;
  if (first === 'ostree-unverified-registry') {
    transport = first;
    rest = fields.slice(1).join(':');
  } else if (first === 'ostree-remote-image') {
    const remote = fields[1]!;
    const inner = fields[2];
    if (remote === '' || (inner !== 'registry' && inner !== 'docker')) {
      return 'expected ostree-remote-image:<remote>:registry:<image> or ostree-remote-image:<remote>:docker://<image>';
    }
    transport = `${first}:${remote}:${inner}`;
    rest = fields.slice(3).join(':');
  } else {
    const inner = fields[1]!;
    if (!OSTREE_IMAGE_TRANSPORTS.includes(inner)) {
      return `unknown transport "${inner}" after ${first}: (expected one of ${OSTREE_IMAGE_TRANSPORTS.join(', ')})`;
    }
    transport = `${first}:${inner}`;
    rest = fields.slice(2).join(':');
    // Archives and OCI layouts are paths, not registry images: upstream takes them as they are.
    if (inner === 'docker-archive' || inner === 'oci' || inner === 'oci-archive') {
      if (rest === '') return `no path after ${transport}:`;
      return { transport, baseImage: rest, tag: '', digest: '' };
    }
  }
  if (transport.endsWith(':docker')) {
    if (!rest.startsWith('//')) return `expected "//" after ${transport}: (docker://registry/repository)`;
    transport = `${transport}://`;
    rest = rest.slice(2);
  }
  if (rest === '') return `no image after ${transport}${transport.endsWith('//') ? '' : ':'}`;
  const image = readRegistryImage(rest);
  if (typeof image === 'string') return image;
  return { transport, ...image };
}

/** The registry image of an OSTree reference, read as upstream's `SplitImage` reads it. */
function readRegistryImage(value: string): Omit<OstreeReference, 'transport'> | string {
  // A containers/image transport in front: only `docker://` names a registry image.
  const explicit = imageTransport(value);
  let name = value;
  if (explicit !== undefined) {
    if (explicit !== 'docker') return `transport "${explicit}:" does not name a registry image`;
    if (!value.startsWith('docker://')) return 'expected "//" after docker: (docker://registry/repository)';
    name = value.slice('docker://'.length);
  }
  const problem = checkDockerReference(name);
  if (problem !== undefined) return problem;
  const { baseImage, tag, digest } = splitImage(name);
  return { baseImage, tag, digest };
}

/** Grammar of containers/image `docker/reference`, written so that no pattern can backtrack far. */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** Hex digits of the digest algorithms go-digest knows (lower case only). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const NAME_MAX = 255;

/**
 * Checks a registry image reference (`registry/repository[:tag][@digest]`, with docker.io and
 * `library/` implied as docker does) by containers/image's rules: `reference.ParseNormalizedNamed`,
 * go-digest's digest check and the docker transport's refusal of a tag together with a digest.
 * Returns the problem, or `undefined` when the reference is valid.
 */
export function checkDockerReference(value: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(value)) {
    return 'a repository name cannot be a 64-character hexadecimal string (an image ID)';
  }
  // docker's normalization: a first component without "." or ":" (and not localhost) is not a
  // registry, so the image is on docker.io, where one-component names live under library/.
  const slash = value.indexOf('/');
  let domain = 'docker.io';
  let remainder = value;
  if (slash >= 0) {
    const head = value.slice(0, slash);
    if (/[.:]/.test(head) || head === 'localhost') {
      domain = head === 'index.docker.io' ? 'docker.io' : head;
      remainder = value.slice(slash + 1);
    }
  }
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) return `repository name "${remote}" must be lower-case`;

  let rest = remainder;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const tagColon = rest.indexOf(':');
  if (tagColon >= 0) {
    tag = rest.slice(tagColon + 1);
    rest = rest.slice(0, tagColon);
  }
  // The registry part is optional in the grammar: when it is not a valid host, the whole name
  // may still be a valid repository path (such as `my_registry.com/x`).
  const name = `${domain}/${rest}`;
  if (!(DOMAIN.test(domain) && PATH.test(rest)) && !PATH.test(name)) {
    return rest === '' ? 'the repository name is empty' : `invalid repository name "${name}"`;
  }
  if (name.length > NAME_MAX) return `the repository name is longer than ${NAME_MAX} characters`;
  if (tag !== undefined && !TAG.test(tag)) {
    return `invalid tag "${tag}" (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`;
  }
  if (at >= 0) {
    const problem = checkDigest(digest);
    if (problem !== undefined) return problem;
    if (tag !== undefined) return 'a reference cannot have both a tag and a digest';
  }
  return undefined;
}

/** go-digest's `Digest.Validate`, for the algorithms it knows. */
function checkDigest(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `invalid digest "${digest}" (expected algorithm:hex, such as sha256:…)`;
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined)
    return `unsupported digest algorithm "${algorithm}" (expected sha256, sha384 or sha512)`;
  if (hex.length !== length)
    return `a ${algorithm} digest has ${length} hexadecimal digits, found ${hex.length}`;
  if (!/^[a-f0-9]+$/.test(hex)) return `a ${algorithm} digest is written in lower-case hexadecimal`;
  return undefined;
}

/**
 * Why an OSTree native container reference (`osRegistry`) is refused, or `undefined` when it is
 * valid: the transport must be an OSTree one, and the registry image must be a valid
 * containers/image reference (known transport, valid lower-case repository name, tag and digest
 * syntax). Whether a tag is allowed is the caller's business.
 */
export function checkOstreeReference(value: string): string | undefined {
  const ref = readOstreeReference(value);
  return typeof ref === 'string' ? ref : undefined;
}

/**
 * Parses an OSTree native container reference (`ostree-unverified-registry:x/y:tag`,
 * `ostree-image-signed:docker://x/y`, `ostree-remote-image:remote:registry:x/y`, ...) as upstream's
 * `ParseOstreeReference` does. Returns `undefined` when the value has no OSTree transport or is not
 * a valid reference (`checkOstreeReference` says why).
 */
export function parseOstreeReference(value: string): OstreeReference | undefined {
  const ref = readOstreeReference(value);
  return typeof ref === 'string' ? undefined : ref;
}

/**
 * Upstream's `MakeOstreeReference`: prefixes `ostree-unverified-registry:` when there is no OSTree
 * transport. Unlike upstream, a value that has an OSTree transport but is invalid stays as it is,
 * so that the error names what the user wrote rather than a prefixed copy of it.
 */
export function makeOstreeReference(value: string): string {
  return OSTREE_TRANSPORTS.some((t) => value.startsWith(`${t}:`))
    ? value
    : `ostree-unverified-registry:${value}`;
}
