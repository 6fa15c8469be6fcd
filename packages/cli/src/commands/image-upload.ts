/**
 * `ocne image upload`: upstream's flags. `--type ostree` copies the oci-archive of `--file` to
 * `--destination` (`docker://host/repo:tag`, or a local `oci-archive:`/`dir:` copy) through
 * `@ocne/image`'s `uploadImage`, with the registry credentials of the containers and docker auth
 * files. `--type oci` goes to Oracle Cloud through `@ocne/provider-oci` ({@link imageUploadOci}:
 * Object Storage, then a custom image); `olvm` says it is not available.
 */
import { type Command, Option, type OptionValues } from 'commander';
import type { CliContext } from '../context.js';
import { choice, InvalidArgumentError, requiredText, text } from '../option-values.js';
import { imageUploadOci } from './image-upload-oci.js';

const TYPES = ['oci', 'ostree', 'olvm'] as const;
const ARCHES = ['amd64', 'arm64'] as const;

/** The flags of `image upload`; `undefined` means not given. */
export interface ImageUploadOptions {
  readonly type: (typeof TYPES)[number];
  readonly file: string;
  readonly destination: string | undefined;
  readonly arch: (typeof ARCHES)[number];
  readonly version: string;
  readonly imageName: string;
  readonly bucket: string;
  readonly compartment: string | undefined;
  readonly profile: string;
  readonly config: string | undefined;
}

/** `--arch`: upstream has no default but refuses anything but its architectures, so it is required. */
const arch = (value: string): string => {
  if (!(ARCHES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`allowed values: ${ARCHES.join(', ')}`);
  return value;
};

const uploadOptions = (values: OptionValues): ImageUploadOptions => ({
  type: choice(values, 'type', TYPES),
  file: requiredText(values, 'file'),
  destination: text(values, 'destination'),
  arch: choice(values, 'arch', ARCHES),
  version: requiredText(values, 'version'),
  imageName: requiredText(values, 'imageName'),
  bucket: requiredText(values, 'bucket'),
  compartment: text(values, 'compartment'),
  profile: requiredText(values, 'profile'),
  config: text(values, 'config'),
});

/** Runs `image upload`: progress as events, a closing log line with the digest. */
export async function imageUpload(context: CliContext, options: ImageUploadOptions): Promise<void> {
  if (options.type === 'oci') {
    await imageUploadOci(context, {
      file: options.file,
      arch: options.arch,
      compartment: options.compartment,
      bucket: options.bucket,
      imageName: options.imageName,
      version: options.version,
      profile: options.profile,
      config: options.config,
    });
    return;
  }
  const { uploadImage } = await import('@ocne/image');
  const home = context.env.HOME;
  const upload = uploadImage({
    ...context.operationOptions,
    type: options.type,
    source: options.file,
    destination: options.destination ?? '',
    arch: options.arch,
    ...(home ? { home } : {}),
    env: context.env,
  });
  const result = await context.follow(upload);
  const skipped = result.blobs.filter((b) => b.skipped).length;
  context.log(
    'info',
    `Uploaded ${options.file} to ${result.destination} (${result.manifestDigest}; ${result.blobs.length - skipped} blobs sent, ${skipped} already there)`,
  );
}

/** The flags and action of `image upload` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .addOption(new Option('-t, --type <type>', 'the provider type').choices(TYPES).default('oci'))
    .requiredOption('-f, --file <path>', 'the local image file path')
    .option('-d, --destination <location>', 'the location to upload to, such as docker://host/repo:tag')
    .requiredOption(
      '-a, --arch <arch>',
      `the architecture of the image, allowed values: ${ARCHES.join(', ')}`,
      arch,
    )
    .option('-v, --version <version>', 'the version of Kubernetes embedded in the image', '1.33')
    .option('-i, --image-name <name>', 'the name of the compute image to create', 'ock')
    .option('-b, --bucket <name>', 'the object storage bucket to upload the image into', 'ocne-images')
    .option('-c, --compartment <name>', 'the compartment to create the image in')
    .option('-p, --profile <name>', 'the OCI configuration profile', 'DEFAULT')
    // Accepted as upstream's flags are; no cluster is needed to upload.
    .option('-k, --kubeconfig <path>', 'kubeconfig of an existing cluster (not needed)')
    .option('--config <path>', 'cluster configuration file')
    .action(async (values: OptionValues, command: Command) => {
      const options = uploadOptions(values);
      if (options.type === 'ostree' && !options.destination) {
        command.error('error: --destination is required for --type ostree (such as docker://host/repo:tag)', {
          exitCode: 2,
          code: 'ocne.usage',
        });
      }
      await imageUpload(context, options);
    });
}
