/**
 * The API-signing credentials of an OCI profile for the Cluster API and oci-ccm Secrets, read by
 * the same reader the session signs requests with (`cloud/oci-config.ts`), so the controllers get
 * exactly the profile the SDK uses. The key is handed on as text, unchecked, as upstream does; an
 * empty passphrase is left empty here: `@ocne/capi` puts upstream's placeholder in.
 */
import type { OciCredentials } from '@ocne/capi';
import { readOciProfile } from '../cloud/oci-config.js';
import type { CredentialsPort } from './ports.js';

/** Options of {@link fileCredentials}. */
export interface FileCredentialsOptions {
  /** The OCI configuration file. @defaultValue `$OCI_CONFIG_FILE` of the cluster, else `<home>/.oci/config` */
  configFile?: string;
}

/** The default {@link CredentialsPort}: the profile of the OCI configuration file. */
export function fileCredentials(options: FileCredentialsOptions = {}): CredentialsPort {
  return {
    async read({ home, env, profile, signal }) {
      const read = await readOciProfile({ configFile: options.configFile, home, env, profile, signal });
      const credentials: OciCredentials = {
        region: read.region,
        tenancy: read.tenancy,
        user: read.user,
        fingerprint: read.fingerprint,
        key: read.key,
      };
      if (read.passphrase) credentials.passphrase = read.passphrase;
      return credentials;
    },
  };
}
