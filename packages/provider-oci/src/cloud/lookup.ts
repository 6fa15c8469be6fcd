/**
 * The real `OciLookup` (the port of `@ocne/capi/templates` the template uses): compartment paths and the
 * newest OCK image per architecture, read from Oracle Cloud through every page of each list.
 * Upstream reads only the first page of both lists, so in a large tenancy it misses compartments
 * and images that are there; it also lets an image still importing win, which this one does not.
 */
import type { OciImageQuery, OciLookup } from '@ocne/capi/templates';
import { OcneError } from '@ocne/core';
import type { models as core } from 'oci-core';
import type { models as identity } from 'oci-identity';
import { type OciCloudOptions, type OciSession, openOciSession } from './session.js';

/** Reads every page of a list call (`opc-next-page`). */
export async function listAll<T>(
  session: OciSession,
  operation: string,
  list: (page: string | undefined) => Promise<{ items: T[]; opcNextPage?: string | undefined }>,
  signal?: AbortSignal,
): Promise<T[]> {
  const items: T[] = [];
  let page: string | undefined;
  do {
    const response = await session.call(operation, () => list(page), signal ? { signal } : {});
    items.push(...response.items);
    page = response.opcNextPage || undefined;
  } while (page !== undefined);
  return items;
}

/** The OCID of a compartment path (`parent/child`) below the tenancy; an OCID is returned as is. */
export async function resolveCompartment(
  session: OciSession,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  if (path.startsWith('ocid1.compartment') || path.startsWith('ocid1.tenancy')) return path;
  let current = session.tenancyId;
  const walked: string[] = [];
  for (const name of path.split('/').filter((part) => part !== '')) {
    const children = await listAll<identity.Compartment>(
      session,
      'ListCompartments',
      (page) =>
        session.clients.identity.listCompartments({
          compartmentId: current,
          lifecycleState: 'ACTIVE',
          ...(page ? { page } : {}),
        }),
      signal,
    );
    const found = children.find((child) => child.name === name);
    if (found === undefined) {
      throw new OcneError(
        'OCNE_OCI_COMPARTMENT_NOT_FOUND',
        `could not find compartment named ${name} in ${walked.length === 0 ? 'the tenancy' : walked.join('/')} ` +
          `(it has ${children.length} active compartment(s)${children.length > 0 ? `: ${children.map((c) => c.name).join(', ')}` : ''}); ` +
          'check providers.oci.compartment, or give the compartment OCID',
      );
    }
    walked.push(name);
    current = found.id;
  }
  return current;
}

const time = (value: Date | string | undefined): number =>
  value === undefined ? 0 : new Date(value).getTime();

/**
 * The newest image named `query.name` with the version and architecture tags, if any, among those
 * in one of `states` (AVAILABLE by default; a start that resumes also takes one still importing).
 */
export async function findLatestImage(
  session: OciSession,
  query: Omit<OciImageQuery, 'profile'>,
  signal?: AbortSignal,
  states: readonly string[] = ['AVAILABLE'],
): Promise<core.Image | undefined> {
  const images = await listAll<core.Image>(
    session,
    'ListImages',
    (page) =>
      session.clients.compute.listImages({
        compartmentId: query.compartmentId,
        displayName: query.name,
        ...(page ? { page } : {}),
      }),
    signal,
  );
  return images
    .filter(
      (image) =>
        states.includes(image.lifecycleState ?? '') &&
        image.freeformTags?.['ocne/kubernetes'] === query.kubernetesVersion &&
        image.freeformTags?.['ocne/architecture'] === query.architecture,
    )
    .sort((a, b) => time(b.timeCreated) - time(a.timeCreated))[0];
}

/** An `OciLookup` (of `@ocne/capi/templates`) that also releases its clients. */
export interface OciCloudLookup extends OciLookup {
  /** Closes the sessions it opened. */
  close(): void;
}

/**
 * The lookups against Oracle Cloud. Nothing is loaded or read until the first call; one session
 * per profile is opened then and kept until {@link OciCloudLookup.close}.
 */
export function createOciLookup(options: OciCloudOptions = {}): OciCloudLookup {
  const sessions = new Map<string, Promise<OciSession>>();
  const session = (profile: string): Promise<OciSession> => {
    const key = options.authenticationProvider ? '' : profile;
    let open = sessions.get(key);
    if (open === undefined) {
      open = openOciSession({ ...options, profile: profile || options.profile || 'DEFAULT' });
      open.catch(() => sessions.delete(key));
      sessions.set(key, open);
    }
    return open;
  };
  return {
    async compartmentId(path, profile, signal) {
      return resolveCompartment(await session(profile), path, signal);
    },
    async latestImage(query, signal) {
      const { profile, ...rest } = query;
      return (await findLatestImage(await session(profile), rest, signal))?.id;
    },
    close() {
      for (const open of sessions.values())
        open.then(
          (s) => s.close(),
          () => {},
        );
      sessions.clear();
    },
  };
}
