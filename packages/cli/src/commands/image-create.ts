/**
 * `ocne image create`: an OCK boot image for a provider, made locally (no cluster, no builder pod),
 * with upstream's flags. `-k` is accepted and unused: upstream needs a cluster for its builder pod,
 * the SDK does not.
 */
import type { Command, OptionValues } from 'commander';
import type { CliContext } from '../context.js';
import { choice, configPath, InvalidArgumentError, text } from '../option-values.js';

const TYPES = ['oci', 'ostree', 'olvm'] as const;
const ARCHITECTURES = ['amd64', 'arm64'] as const;
const EDITORS = ['auto', 'loop', 'guestfs'] as const;

/** The flags of `image create`; `undefined` means not given. */
export interface ImageCreateOptions {
  readonly config: string | undefined;
  readonly type: (typeof TYPES)[number];
  readonly arch: (typeof ARCHITECTURES)[number];
  readonly ignitionProvider: string | undefined;
  readonly kernelArgs: string | undefined;
  readonly version: string | undefined;
  readonly bootVolumeContainerImage: string | undefined;
  readonly editor: (typeof EDITORS)[number];
  readonly baseImage: string | undefined;
}

/** Upstream validates these in its command, before anything runs: a usage error here. */
const oneOf =
  <const T extends string>(choices: readonly T[], message: string) =>
  (value: string): T => {
    const found = choices.find((c) => c === value);
    if (found === undefined) throw new InvalidArgumentError(message);
    return found;
  };

const imageCreateOptions = (values: OptionValues): ImageCreateOptions => ({
  config: text(values, 'config'),
  type: choice(values, 'type', TYPES),
  arch: choice(values, 'arch', ARCHITECTURES),
  ignitionProvider: text(values, 'ignitionProvider'),
  kernelArgs: text(values, 'kernelArgs'),
  version: text(values, 'version'),
  bootVolumeContainerImage: text(values, 'bootVolumeContainerImage'),
  editor: choice(values, 'editor', EDITORS),
  baseImage: text(values, 'baseImage'),
});

/** Runs `image create`: the image path is logged, as upstream logs it. */
export async function imageCreate(context: CliContext, options: ImageCreateOptions): Promise<void> {
  const [{ loadConfig }, { createImage }] = await Promise.all([
    import('@ocne/config'),
    import('@ocne/image'),
  ]);
  const base = context.base();
  // The Kubernetes version and the boot image come from the layered configuration, as upstream's
  // GetFullConfig gives them; -v and --boot-volume-container-image override it.
  const config = await loadConfig({
    ...(base.home !== undefined ? { home: base.home } : {}),
    ...(base.env !== undefined ? { env: base.env } : {}),
    ...(base.signal !== undefined ? { signal: base.signal } : {}),
    ...(options.config !== undefined ? { configPath: options.config } : {}),
    ...(options.version !== undefined ? { overrides: { kubernetesVersion: options.version } } : {}),
    ...(options.bootVolumeContainerImage !== undefined
      ? { configOverrides: { bootVolumeContainerImage: options.bootVolumeContainerImage } }
      : {}),
  });
  if (options.type === 'ostree') {
    // The OSTree server image: the ock-ostree image (osRegistry:osTag of the configuration, as
    // upstream reads them) unpacked into an archive repository on an nginx image.
    const { cluster } = config;
    await context.follow(
      createImage({
        ...context.operationOptions,
        type: 'ostree',
        arch: options.arch,
        kubernetesVersion: cluster.kubernetesVersion,
        ...(cluster.osRegistry !== undefined ? { osRegistry: cluster.osRegistry } : {}),
        ...(cluster.osTag !== undefined ? { osTag: cluster.osTag } : {}),
        ...(options.baseImage !== undefined ? { baseImage: options.baseImage } : {}),
        ...(base.home !== undefined ? { home: base.home } : {}),
        env: context.env,
      }),
    );
    return;
  }
  context.log('info', 'Creating Image');
  await context.follow(
    createImage({
      ...context.operationOptions,
      type: options.type,
      arch: options.arch,
      kubernetesVersion: config.cluster.kubernetesVersion,
      bootVolumeContainerImage: config.cluster.bootVolumeContainerImage,
      editor: options.editor,
      ...(base.home !== undefined ? { home: base.home } : {}),
      env: context.env,
      ...(options.ignitionProvider !== undefined ? { ignitionProvider: options.ignitionProvider } : {}),
      ...(options.kernelArgs !== undefined ? { kernelArguments: options.kernelArgs } : {}),
    }),
  );
}

/** The flags and action of `image create` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-k, --kubeconfig <path>', 'kubeconfig (unused: the image is made locally)')
    .option('--config <path>', 'cluster configuration file', configPath)
    .option(
      '-t, --type <type>',
      `The provider type, allowed values: ${TYPES.join(', ')}`,
      oneOf(TYPES, `Provider type must be one of: ${TYPES.join(', ')}`),
      'oci',
    )
    .option(
      '-a, --arch <arch>',
      `The architecture of the image to create, allowed values: ${ARCHITECTURES.join(', ')}`,
      oneOf(ARCHITECTURES, `Architecture must be one of: ${ARCHITECTURES.join(', ')}`),
      'amd64',
    )
    .option(
      '-i, --ignition-provider <provider>',
      'The kernel command line arguments to configure the ignition provider',
    )
    .option(
      '-K, --kernel-args <args>',
      'Additional kernel command line arguments to append to the end of the argument list',
    )
    .option('-v, --version <version>', 'Kubernetes version')
    .option('--boot-volume-container-image <image>', 'the OCK image holding the boot disk (SDK addition)')
    .option(
      '--base-image <image>',
      'the nginx image the ostree repository is added to, for --type ostree (SDK addition; upstream builds one with podman)',
    )
    .option(
      '--editor <editor>',
      `how the disk is edited (SDK addition): ${EDITORS.join(', ')}`,
      oneOf(EDITORS, `Editor must be one of: ${EDITORS.join(', ')}`),
      'auto',
    )
    .action((values: OptionValues) => imageCreate(context, imageCreateOptions(values)));
}
