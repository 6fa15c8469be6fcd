/**
 * The OCI SDK, loaded on first use: the five per-service `oci-*` packages (one pinned version)
 * are CommonJS and take about a second to import, so nothing imports them until a call needs
 * Oracle Cloud (a template with OCIDs only never does).
 */
import { commonJsExports } from '@ocne/core';

/** The loaded SDK modules. */
export interface OciSdk {
  readonly common: typeof import('oci-common');
  readonly core: typeof import('oci-core');
  readonly identity: typeof import('oci-identity');
  readonly objectStorage: typeof import('oci-objectstorage');
  readonly workRequests: typeof import('oci-workrequests');
}

let loading: Promise<OciSdk> | undefined;

/** The SDK modules (imported once per process). */
export function loadOciSdk(): Promise<OciSdk> {
  loading ??= (async () => {
    const [common, core, identity, objectStorage, workRequests] = await Promise.all([
      import('oci-common'),
      import('oci-core'),
      import('oci-identity'),
      import('oci-objectstorage'),
      import('oci-workrequests'),
    ]);
    return {
      common: commonJsExports(common, 'ConfigFileAuthenticationDetailsProvider'),
      core: commonJsExports(core, 'ComputeClient'),
      identity: commonJsExports(identity, 'IdentityClient'),
      objectStorage: commonJsExports(objectStorage, 'ObjectStorageClient'),
      workRequests: commonJsExports(workRequests, 'WorkRequestClient'),
    };
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
