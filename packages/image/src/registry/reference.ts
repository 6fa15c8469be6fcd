/**
 * Registry image references as containers/image reads them (`docker/reference`): a first
 * component with a `.` or `:` (or `localhost`) is the registry, otherwise the image is on
 * docker.io, where one-component names live under `library/`; no tag and no digest means
 * `latest`. The `docker://` transport prefix is optional here. Pure string work.
 */
import { OcneError } from '@ocne/core';

/** A parsed registry image reference. */
export interface RegistryReference {
  /** The registry as written in references and auth files, such as `docker.io` or `127.0.0.1:5000`. */
  readonly registry: string;
  /** The repository path, such as `olcne/ock` or `library/busybox`. */
  readonly repository: string;
  /** The tag, if the reference has one (`latest` when it has neither tag nor digest). */
  readonly tag: string | undefined;
  /** The digest (`sha256:…`), if the reference has one; it wins over the tag when both are given. */
  readonly digest: string | undefined;
}

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

// Longer than any valid reference (255 for the name, 128 for a tag, 71 for a digest, a transport).
const MAX_REFERENCE = 512;

/** The reference as a message shows it: clipped, quoted, control characters escaped. */
const shown = (value: string): string =>
  JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);

const invalid = (value: string, why: string) =>
  new OcneError('OCNE_IMAGE_REFERENCE_INVALID', `invalid image reference ${shown(value)}: ${why}`);

/** Parses `[docker://]registry/repository[:tag][@sha256:…]`. */
export function parseRegistryReference(value: string): RegistryReference {
  if (typeof value !== 'string') throw invalid(String(value), 'it is not a string');
  if (value.length > MAX_REFERENCE) throw invalid(value, `it is longer than ${MAX_REFERENCE} characters`);
  let rest = value.startsWith('docker://') ? value.slice('docker://'.length) : value;
  if (rest === '') throw invalid(value, 'it is empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      throw invalid(value, `${shown(digest)} is not a sha256 digest (sha256:<64 hex digits>)`);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const head = rest.slice(0, slash);
    if (/[.:]/.test(head) || head === 'localhost' || head.startsWith('[')) {
      registry = head === 'index.docker.io' ? 'docker.io' : head;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(value, `${shown(tag)} is not a valid tag`);
  }
  if (registry === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!DOMAIN.test(registry)) throw invalid(value, `${shown(registry)} is not a valid registry name`);
  if (!PATH.test(rest))
    throw invalid(
      value,
      `${shown(rest)} is not a valid repository name (lower-case letters, digits, separators)`,
    );
  if (`${registry}/${rest}`.length > 255) throw invalid(value, 'the name is longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: rest, tag, digest };
}

/** The reference in its canonical form, `registry/repository[:tag][@digest]`. */
export function formatRegistryReference(ref: RegistryReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Where the registry's API is: docker.io's lives on registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}
