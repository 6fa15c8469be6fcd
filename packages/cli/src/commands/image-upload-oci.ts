/**
 * `ocne image upload --type oci`: an OCK image into Oracle Cloud (Object Storage, then a custom
 * image). The `image upload` command calls {@link imageUploadOci} for `--type oci`. As upstream,
 * a flag wins over `providers.oci.{compartment,imageBucket,profile}` of the configuration
 * (`~/.ocne/defaults.yaml`, then `--config`); unlike upstream, a flag that was not given does not
 * override the configuration with its default. Oracle Cloud is reached through the profile of
 * `$OCI_CONFIG_FILE` or `~/.oci/config`; `OCNE_OCI_ENDPOINT` sends every request to one URL instead
 * of the region's endpoints (a proxy, or a test server).
 */
import type { CliContext } from '../context.js';

/** The flags of `image upload` that `--type oci` reads; `undefined` means not given. */
export interface ImageUploadOciOptions {
  /** `-f/--file`: the qcow2 image. */
  readonly file: string;
  /** `-a/--arch`: `amd64` or `arm64`. */
  readonly arch: string;
  /** `-c/--compartment`: an OCID or a path. */
  readonly compartment?: string | undefined;
  /** `-b/--bucket` (upstream's default: `ocne-images`). */
  readonly bucket?: string | undefined;
  /** `-i/--image-name` (default `ock`). */
  readonly imageName?: string | undefined;
  /** `-v/--version`: the Kubernetes version tag (default `1.33`). */
  readonly version?: string | undefined;
  /** `-p/--profile` of the OCI config file (default `DEFAULT`). */
  readonly profile?: string | undefined;
  /** `--config`: a cluster configuration file whose `providers.oci` settings apply. */
  readonly config?: string | undefined;
}

/** Uploads and imports the image; logs its OCID (upstream's `Image OCID is …`). */
export async function imageUploadOci(context: CliContext, options: ImageUploadOciOptions): Promise<void> {
  const { OcneError } = await import('@ocne/core');
  if (options.arch !== 'amd64' && options.arch !== 'arm64') {
    throw new OcneError('OCNE_USAGE', `--arch must be amd64 or arm64, not "${options.arch}"`);
  }
  const [{ loadConfig }, { uploadOciImage }] = await Promise.all([
    import('@ocne/config'),
    import('@ocne/provider-oci'),
  ]);
  const base = context.base();
  const resolved = await loadConfig({
    ...(base.home ? { home: base.home } : {}),
    env: context.env,
    ...(options.config ? { configPath: options.config } : {}),
    // The flag counts as configuration, so that a file without a compartment validates.
    ...(options.compartment
      ? { overrides: { providers: { oci: { compartment: options.compartment } } } }
      : {}),
    defaultProvider: 'oci',
    ...(base.signal ? { signal: base.signal } : {}),
  });
  const oci = resolved.cluster.providers.oci;
  const compartment = options.compartment ?? oci.compartment;
  await context.follow(
    uploadOciImage({
      ...context.operationOptions,
      env: context.env,
      ...(base.home ? { home: base.home } : {}),
      file: options.file,
      architecture: options.arch,
      compartment,
      bucket: options.bucket ?? (oci.imageBucket || 'ocne-images'),
      imageName: options.imageName ?? 'ock',
      kubernetesVersion: options.version ?? '1.33',
      profile: options.profile ?? (oci.profile || 'DEFAULT'),
    }),
  );
}
