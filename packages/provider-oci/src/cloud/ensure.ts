/**
 * What `cluster start` does to a freshly imported OCK image before instances use it (upstream's
 * `EnsureImageDetails`): an image capability schema that says UEFI firmware and paravirtualized
 * launch, made against the one global capability schema; and for arm64 images, shape
 * compatibility limited to the Ampere shapes (every other non-generic shape removed, then
 * `VM.Standard.A1.Flex`, `BM.Standard.A1.160` and `VM.Standard.A2.Flex` added, in that order).
 * Running it twice is harmless: an existing schema is left as it is, adding a shape is idempotent.
 */
import { OcneError, type Operation, type OperationOptions, runStep, startOperation } from '@ocne/core';
import type { models as core } from 'oci-core';
import { OciServiceError } from './errors.js';
import type { OciImageArchitecture } from './image-archive.js';
import { listAll } from './lookup.js';
import { type OciCloudOptions, openOciSession } from './session.js';

/** The shapes an arm64 OCK image is made compatible with, in upstream's order. */
export const OCI_ARM_SHAPES: readonly string[] = [
  'VM.Standard.A1.Flex',
  'BM.Standard.A1.160',
  'VM.Standard.A2.Flex',
];

/** Options of {@link ensureOciImageDetails}. */
export interface EnsureOciImageDetailsOptions extends OciCloudOptions, OperationOptions {
  /** The OCID of the imported image. */
  readonly imageId: string;
  /** The compartment OCID of the image (where the schema is made). */
  readonly compartmentId: string;
  /** The image's architecture: arm64 images get their shapes fixed. */
  readonly architecture: OciImageArchitecture;
}

const keepsShape = (shape: string): boolean =>
  ['.A1.', '.A2.', 'Generic'].some((part) => shape.includes(part));

const UEFI_PARAVIRTUALIZED = {
  'Compute.Firmware': {
    descriptorType: 'enumstring',
    values: ['UEFI_64'],
    defaultValue: 'UEFI_64',
    source: 'IMAGE',
  },
  'Compute.LaunchMode': {
    descriptorType: 'enumstring',
    values: ['PARAVIRTUALIZED'],
    defaultValue: 'PARAVIRTUALIZED',
    source: 'IMAGE',
  },
};

/** Makes the image's capability schema and, for arm64, fixes its compatible shapes. */
export function ensureOciImageDetails(options: EnsureOciImageDetailsOptions): Operation<void> {
  return startOperation(async ({ signal, emit }) => {
    const session = await openOciSession(options);
    const { compute } = session.clients;
    try {
      await runStep(emit, 'Creating the image capability schema', async () => {
        const schemas = await listAll<core.ComputeGlobalImageCapabilitySchemaSummary>(
          session,
          'ListComputeGlobalImageCapabilitySchemas',
          (page) => compute.listComputeGlobalImageCapabilitySchemas({ ...(page ? { page } : {}) }),
          signal,
        );
        const [global] = schemas;
        if (schemas.length !== 1 || global === undefined) {
          throw new OcneError(
            'OCNE_OCI_CAPABILITY_SCHEMA',
            `Oracle Cloud lists ${schemas.length} global image capability schemas, not one: the image's schema cannot be made. Report this to Oracle support`,
          );
        }
        try {
          await session.call(
            'CreateComputeImageCapabilitySchema',
            () =>
              compute.createComputeImageCapabilitySchema({
                createComputeImageCapabilitySchemaDetails: {
                  compartmentId: options.compartmentId,
                  imageId: options.imageId,
                  computeGlobalImageCapabilitySchemaVersionName: global.currentVersionName ?? '',
                  schemaData: UEFI_PARAVIRTUALIZED as never,
                },
              }),
            { signal },
          );
        } catch (error) {
          // A schema made by an earlier run stays.
          if (!(error instanceof OciServiceError && error.status === 409 && error.serviceCode === 'Conflict'))
            throw error;
          emit({
            type: 'log',
            level: 'info',
            message: `Image ${options.imageId} already has a capability schema`,
          });
        }
      });
      if (options.architecture !== 'arm64') return;
      await runStep(emit, 'Setting the compatible shapes of the arm64 image', async () => {
        const entries = await listAll<core.ImageShapeCompatibilitySummary>(
          session,
          'ListImageShapeCompatibilityEntries',
          (page) =>
            compute.listImageShapeCompatibilityEntries({
              imageId: options.imageId,
              limit: 50,
              ...(page ? { page } : {}),
            }),
          signal,
        );
        for (const { shape } of entries) {
          if (keepsShape(shape)) continue;
          try {
            await session.call(
              'RemoveImageShapeCompatibilityEntry',
              () =>
                compute.removeImageShapeCompatibilityEntry({ imageId: options.imageId, shapeName: shape }),
              { signal },
            );
          } catch (error) {
            signal.throwIfAborted();
            // As upstream: a shape that cannot be removed is a warning, not a failure.
            emit({
              type: 'warning',
              code: 'OCNE_OCI_REQUEST_FAILED',
              message: `could not remove shape ${shape} from image ${options.imageId}: ${(error as Error).message}`,
            });
          }
        }
        for (const shape of OCI_ARM_SHAPES) {
          await session.call(
            'AddImageShapeCompatibilityEntry',
            () =>
              compute.addImageShapeCompatibilityEntry({
                imageId: options.imageId,
                shapeName: shape,
                // Required by the TypeScript SDK even when empty.
                addImageShapeCompatibilityEntryDetails: {},
              }),
            { signal },
          );
        }
      });
    } finally {
      session.close();
    }
  }, options);
}
