/**
 * `createImage`: `ocne image create` without a cluster. For `oci` and `olvm` it takes the OCK boot
 * disk out of the pulled image, makes upstream's edits on it with a local disk editor, and writes
 * it atomically as `~/.ocne/images/boot.qcow2-<kubernetesVersion>-<arch>.<type>` (still qcow2:
 * the suffix is only a name, as upstream's). `ostree` goes to `createOstreeImage`.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BOOT_IMAGE, DEFAULT_KUBERNETES_VERSION, ensureBootImageVersion } from '@ocne/config';
import { OcneError, type Operation, type OperationOptions, runStep, startOperation } from '@ocne/core';
import { extractBootQcow2 } from '../boot-qcow2.js';
import { type DiskEditor, type DiskEditorName, selectDiskEditor } from '../disk/editor.js';
import {
  type CreateOstreeImageOptions,
  createOstreeImage,
  type OstreeImageResult,
} from '../ostree/create.js';
import { pullImage } from '../pull.js';
import type { ImageArchitecture, ImageType, PullImage } from '../types.js';
import { OCI_DHCLIENT_FILES } from './dhclient-files.js';
import { type BootDiskEditReport, editBootDisk } from './edit-disk.js';
import { kernelArgumentsSeparator } from './edits.js';

/** The boot image types: edits of the OCK boot disk. */
export type BootImageType = Exclude<ImageType, 'ostree'>;

/** Options of `createImage` for the boot images (`oci`, `olvm`). */
export interface CreateBootImageOptions extends OperationOptions {
  /** @defaultValue `oci` */
  type?: BootImageType;
  /** @defaultValue `amd64` */
  arch?: ImageArchitecture;
  /** @defaultValue the SDK's default Kubernetes version */
  kubernetesVersion?: string;
  /**
   * The OCK image holding the boot disk; `docker://` is assumed without a transport, and its tag
   * follows `kubernetesVersion` as upstream's `EnsureBootImageVersion` decides.
   * @defaultValue `container-registry.oracle.com/olcne/ock`
   */
  bootVolumeContainerImage?: string;
  /**
   * The platform id written for `ignition.platform.id=qemu` (`oci`); whitespace is refused. The
   * `olvm` type always writes `openstack`, as upstream's script does.
   * @defaultValue `oci`
   */
  ignitionProvider?: string;
  /** Appended to the kernel command line of the boot entry. */
  kernelArguments?: string;
  /** The disk editor. @defaultValue `auto`: `loop` when it can run here, else `guestfs` */
  editor?: DiskEditorName | 'auto' | DiskEditor;
  /** The home whose `.ocne` holds the image cache and the result. @defaultValue the user's home */
  home?: string;
  /** Environment for the registry auth files (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`) of the default pull. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Pulls the OCK image into a `dir:` layout and says where.
   * @defaultValue {@link pullImage} into `~/.ocne/images/<reference with / → _>`
   */
  pull?: PullImage;
  /** New UUIDs for the /boot and root file systems. @defaultValue `crypto.randomUUID` */
  randomUuid?: () => string;
}

/** Options of `createImage`: a boot image, or (`type: 'ostree'`) the OSTree server image. */
export type CreateImageOptions = CreateBootImageOptions | (CreateOstreeImageOptions & { type: 'ostree' });

/** What `createImage` made for a boot image (`oci`, `olvm`). */
export interface BootImageResult {
  /** The written image. */
  readonly path: string;
  /** `oci` or `olvm` (tells it apart from an {@link OstreeImageResult} in an {@link ImageResult}). */
  readonly type: BootImageType;
  /** The architecture of the boot disk. */
  readonly arch: ImageArchitecture;
  /** The Kubernetes version of the OCK image and in the file name. */
  readonly kubernetesVersion: string;
  /** The OCK image the disk came from. */
  readonly bootVolumeContainerImage: string;
  /** The editor that made the edits. */
  readonly editor: string;
  /** The UUIDs before and after, the deployment edited, the machine-ids removed. */
  readonly edits: BootDiskEditReport;
}

/** What `createImage` made: {@link BootImageResult} or, for `ostree`, {@link OstreeImageResult}. */
export type ImageResult = BootImageResult | OstreeImageResult;

const ARCHITECTURES: readonly ImageArchitecture[] = ['amd64', 'arm64'];
const TYPES: readonly ImageType[] = ['oci', 'olvm', 'ostree'];

/** The reference upstream pulls: `docker://` added when there is no transport, then the tag. */
export function bootImageReference(kubernetesVersion: string, image: string = DEFAULT_BOOT_IMAGE): string {
  return ensureBootImageVersion(kubernetesVersion, image);
}

function validate(options: CreateBootImageOptions): { type: BootImageType; arch: ImageArchitecture } {
  const type = options.type ?? 'oci';
  const arch = options.arch ?? 'amd64';
  // `ostree` never gets here (createImage dispatches it); the check is for untyped callers.
  if (!TYPES.includes(type))
    throw new OcneError('OCNE_USAGE', `Image type must be one of: ${TYPES.join(', ')}`);
  if (!ARCHITECTURES.includes(arch)) {
    throw new OcneError('OCNE_USAGE', `Architecture must be one of: ${ARCHITECTURES.join(', ')}`);
  }
  if (options.ignitionProvider !== undefined && /[ \t\n]/.test(options.ignitionProvider)) {
    throw new OcneError('OCNE_USAGE', `'${options.ignitionProvider}' is not a valid ignition provider`);
  }
  if (options.kernelArguments) kernelArgumentsSeparator(options.kernelArguments);
  return { type, arch };
}

/** Moves a finished file to its place atomically (a copy first when the folders are on different file systems). */
async function moveInto(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EXDEV') throw error;
    const temp = `${target}.${process.pid}.tmp`;
    try {
      await copyFile(source, temp);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }
}

/**
 * Creates an image of the given type, as `ocne image create` does, with no cluster: for `oci`
 * (the default) and `olvm` a boot image (below); for `ostree` the OSTree server image, exactly
 * {@link createOstreeImage} (its options, its {@link OstreeImageResult}).
 *
 * Events: the log lines upstream prints (`Getting local boot image for architecture: …`,
 * `New boot image was created successfully at …`), steps for the extraction and the edit,
 * byte progress while layer 0 is read, and debug logs of every disk tool run.
 *
 * @throws (through the operation) `OcneError`: `OCNE_USAGE` for a bad type, architecture or
 *   ignition provider; `OCNE_IMAGE_KERNEL_ARGS_INVALID`; the pull's errors (`OCNE_REGISTRY_*`); `OCNE_IMAGE_BOOT_SOURCE_INVALID`; `OCNE_IMAGE_EDITOR_UNAVAILABLE`;
 *   `OCNE_IMAGE_LAYOUT_INVALID` (nothing written); `OCNE_IMAGE_EDIT_FAILED`; for `ostree`,
 *   those of {@link createOstreeImage}.
 */
export function createImage(options?: CreateBootImageOptions): Operation<BootImageResult>;
/** The OSTree server image: {@link createOstreeImage}. */
export function createImage(
  options: CreateOstreeImageOptions & { type: 'ostree' },
): Operation<OstreeImageResult>;
/** Any type, decided at run time: the result says which by its `type`. */
export function createImage(options: CreateImageOptions): Operation<ImageResult>;
export function createImage(options: CreateImageOptions = {}): Operation<ImageResult> {
  if (options.type === 'ostree') return createOstreeImage(options);
  return createBootImage(options);
}

function createBootImage(options: CreateBootImageOptions): Operation<BootImageResult> {
  return startOperation(async ({ signal, emit }) => {
    const { type, arch } = validate(options);
    const kubernetesVersion = options.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
    const home = options.home ?? homedir();
    const reference = bootImageReference(kubernetesVersion, options.bootVolumeContainerImage);
    const uuid = options.randomUuid ?? randomUUID;
    const ignitionProvider = type === 'olvm' ? 'openstack' : (options.ignitionProvider ?? 'oci');

    emit({ type: 'log', level: 'info', message: `Getting local boot image for architecture: ${arch}` });
    // The OCK image comes through the caller's `pull`, else from its registry into upstream's
    // cache (reused when complete; a complete cached copy also serves when the registry is down).
    const env = options.env;
    const pull: PullImage =
      options.pull ?? ((request) => pullImage({ ...request, home, ...(env ? { env } : {}) }));
    const { directory } = await pull({ reference, arch, signal, emit });
    signal.throwIfAborted();

    const tmp = join(home, '.ocne', 'tmp');
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(tmp, 'create-images'));
    try {
      const disk = join(work, `boot.qcow2${type}`);
      const step = `Extracting the boot disk from ${reference}`;
      await runStep(emit, step, () =>
        extractBootQcow2({
          directory,
          destination: disk,
          signal,
          onProgress: (done, total) =>
            emit({ type: 'progress', step, transferredBytes: done, totalBytes: total }),
        }),
      );
      const editor = await selectDiskEditor(options.editor ?? 'auto');
      const edits = await runStep(emit, `Editing the boot image with the ${editor.name} editor`, async () => {
        const log = (message: string): void => emit({ type: 'log', level: 'debug', message });
        const session = await editor.open(disk, { signal, log });
        let report: BootDiskEditReport;
        try {
          report = await editBootDisk(session, {
            ignitionProvider,
            kernelArguments: options.kernelArguments,
            olvmConsole: type === 'olvm',
            bootUuid: uuid(),
            rootUuid: uuid(),
            files: type === 'oci' ? OCI_DHCLIENT_FILES : [],
            log,
            signal,
          });
        } catch (error) {
          await session.close().catch(() => {});
          throw error;
        }
        await session.close();
        return report;
      });
      signal.throwIfAborted();
      const images = join(home, '.ocne', 'images');
      await mkdir(images, { recursive: true, mode: 0o700 });
      const path = join(images, `boot.qcow2-${kubernetesVersion}-${arch}.${type}`);
      await moveInto(disk, path);
      emit({ type: 'log', level: 'info', message: `New boot image was created successfully at ${path}` });
      return {
        path,
        type,
        arch,
        kubernetesVersion,
        bootVolumeContainerImage: reference,
        editor: editor.name,
        edits,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, options);
}
