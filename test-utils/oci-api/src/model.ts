/**
 * The resource model of the OCI API server: the tenancy with its compartment tree, regions,
 * compute images with freeform tags, their shape compatibility entries and capability schemas,
 * the global capability schema, and the work requests that import images. Image imports move on
 * the test clock and are decided lazily when read: a work request is ACCEPTED, then IN_PROGRESS
 * with a growing percentage, then SUCCEEDED (the image AVAILABLE) or FAILED (the image DELETED).
 */
import { randomBytes } from 'node:crypto';
import type { TestClock } from './clock.js';

/** An error answer of the API: status, OCI error code, message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A random OCID of a resource type. */
export function ocid(type: string, region = ''): string {
  return `ocid1.${type}.oc1.${region}.aaaaaaaa${randomBytes(16).toString('hex')}`;
}

/** A compartment as Identity returns it. */
export interface Compartment {
  id: string;
  compartmentId: string;
  name: string;
  description: string;
  lifecycleState: 'ACTIVE' | 'DELETED';
  timeCreated: string;
}

/** An image as Compute returns it. */
export interface Image {
  id: string;
  compartmentId: string;
  displayName: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, never>;
  lifecycleState: 'PROVISIONING' | 'IMPORTING' | 'AVAILABLE' | 'EXPORTING' | 'DISABLED' | 'DELETED';
  operatingSystem: string;
  operatingSystemVersion: string;
  timeCreated: string;
  launchMode: 'PARAVIRTUALIZED' | 'NATIVE' | 'EMULATED' | 'CUSTOM';
  createImageAllowed: boolean;
  sizeInMBs?: number;
}

/** The import's outcome, once known. */
export type ImportResult =
  | { ok: true; shapes: string[]; firmware?: string }
  | { ok: false; code: string; message: string };

/** A work request of an image import. */
export interface ImportWorkRequest {
  readonly id: string;
  readonly compartmentId: string;
  readonly imageId: string;
  readonly acceptedAt: number;
  /** Set by the import's check of the object (asynchronously). */
  result?: ImportResult;
  /** Set when the test or a fault decides the outcome. */
  forced?: { status: 'SUCCEEDED' | 'FAILED' | 'CANCELED'; error?: { code: string; message: string } };
  /** Set once the outcome was applied to the image. */
  final?: {
    status: 'SUCCEEDED' | 'FAILED' | 'CANCELED';
    finishedAt: number;
    error?: { code: string; message: string };
  };
}

/** An image capability schema. */
export interface ImageCapabilitySchema {
  id: string;
  compartmentId: string;
  imageId: string;
  computeGlobalImageCapabilitySchemaId: string;
  computeGlobalImageCapabilitySchemaVersionName: string;
  displayName: string;
  schemaData: Record<string, unknown>;
  timeCreated: string;
}

/** The shapes OCI makes an image compatible with when its metadata names none. */
export const DEFAULT_IMAGE_SHAPES: readonly string[] = [
  'VM.Standard.E4.Flex',
  'VM.Standard.E5.Flex',
  'VM.Standard3.Flex',
  'VM.Standard.Generic',
];

/** Options of the model. */
export interface ModelOptions {
  readonly clock: TestClock;
  /** Page size of every list without `limit`. */
  readonly pageSize: number;
  /** How long an import stays ACCEPTED. */
  readonly acceptDelayMs: number;
  /** How long an import runs once started. */
  readonly importDurationMs: number;
  /** The region names ListRegions returns (one name: a Private Cloud Appliance). */
  readonly regions: readonly string[];
  /** How many global capability schemas exist (OCI has one; upstream fails on any other count). */
  readonly globalSchemas: number;
}

const ALLOWED_DESCRIPTORS: Record<string, readonly string[]> = {
  'Compute.Firmware': ['BIOS', 'UEFI_64'],
  'Compute.LaunchMode': ['NATIVE', 'EMULATED', 'PARAVIRTUALIZED', 'CUSTOM'],
  'Network.AttachmentType': ['E1000', 'VFIO', 'PARAVIRTUALIZED'],
  'Storage.BootVolumeType': ['ISCSI', 'SCSI', 'IDE', 'PARAVIRTUALIZED'],
};

/** The state of one emulated tenancy. */
export class OciModel {
  readonly tenancyId: string = ocid('tenancy', '');
  readonly compartments: Map<string, Compartment> = new Map();
  readonly images: Map<string, Image> = new Map();
  readonly imageShapes: Map<string, Set<string>> = new Map();
  readonly capabilitySchemas: Map<string, ImageCapabilitySchema> = new Map();
  readonly workRequests: Map<string, ImportWorkRequest> = new Map();
  readonly globalSchemaId: string = ocid('computeglobalimgcapschema', '');
  readonly globalSchemaVersion: string = 'a1b2c3d4-0000-4000-8000-000000000001';
  readonly options: ModelOptions;

  constructor(options: ModelOptions) {
    this.options = options;
  }

  iso(ms: number = this.options.clock.now()): string {
    return new Date(ms).toISOString();
  }

  // ---- Identity ----

  /** Adds a compartment below `parentId` (default: the tenancy) and returns it. */
  addCompartment(name: string, parentId: string = this.tenancyId): Compartment {
    const compartment: Compartment = {
      id: ocid('compartment', ''),
      compartmentId: parentId,
      name,
      description: name,
      lifecycleState: 'ACTIVE',
      timeCreated: this.iso(),
    };
    this.compartments.set(compartment.id, compartment);
    return compartment;
  }

  /** Adds every missing level of `a/b/c` below the tenancy; returns the last one's id. */
  addCompartmentPath(path: string): string {
    let parent = this.tenancyId;
    for (const name of path.split('/')) {
      const existing = [...this.compartments.values()].find(
        (c) => c.compartmentId === parent && c.name === name,
      );
      parent = (existing ?? this.addCompartment(name, parent)).id;
    }
    return parent;
  }

  childrenOf(parentId: string): Compartment[] {
    return [...this.compartments.values()].filter(
      (c) => c.compartmentId === parentId && c.lifecycleState === 'ACTIVE',
    );
  }

  /** True for the tenancy and every compartment. */
  isCompartment(id: string): boolean {
    return id === this.tenancyId || this.compartments.has(id);
  }

  // ---- Images ----

  /** Adds an image directly (no import), AVAILABLE unless said otherwise. */
  addImage(fields: Partial<Image> & { compartmentId: string; displayName: string }): Image {
    const image: Image = {
      id: ocid('image', 'iad'),
      freeformTags: {},
      definedTags: {},
      lifecycleState: 'AVAILABLE',
      operatingSystem: 'Oracle Linux',
      operatingSystemVersion: '8',
      timeCreated: this.iso(),
      launchMode: 'PARAVIRTUALIZED',
      createImageAllowed: true,
      ...fields,
    };
    this.images.set(image.id, image);
    this.imageShapes.set(image.id, new Set(DEFAULT_IMAGE_SHAPES));
    return image;
  }

  /** An image with its import's progress applied. */
  image(id: string): Image {
    const image = this.images.get(id);
    if (image === undefined || image.lifecycleState === 'DELETED') {
      throw new ApiError(
        404,
        'NotAuthorizedOrNotFound',
        `Authorization failed or requested resource not found: ${id}`,
      );
    }
    for (const request of this.workRequests.values())
      if (request.imageId === id) this.workRequestView(request);
    return image;
  }

  // ---- Work requests ----

  /** Starts an import: the image is IMPORTING until its work request ends. */
  startImport(image: Image, check: Promise<ImportResult>): ImportWorkRequest {
    const request: ImportWorkRequest = {
      id: ocid('coreservicesworkrequest', 'iad'),
      compartmentId: image.compartmentId,
      imageId: image.id,
      acceptedAt: this.options.clock.now(),
    };
    check.then(
      (result) => {
        request.result = result;
      },
      (error: unknown) => {
        request.result = { ok: false, code: 'InternalError', message: String(error) };
      },
    );
    this.workRequests.set(request.id, request);
    return request;
  }

  /** Ends a work request now, as the test says. */
  finishWorkRequest(
    id: string,
    status: 'SUCCEEDED' | 'FAILED' | 'CANCELED',
    error?: { code: string; message: string },
  ): void {
    const request = this.workRequests.get(id);
    if (request === undefined) throw new Error(`no work request ${id}`);
    request.forced = { status, ...(error ? { error } : {}) };
  }

  #finalize(request: ImportWorkRequest, final: NonNullable<ImportWorkRequest['final']>): void {
    request.final = final;
    const image = this.images.get(request.imageId);
    if (image === undefined) return;
    if (final.status === 'SUCCEEDED') {
      image.lifecycleState = 'AVAILABLE';
      const result = request.result;
      if (result?.ok && result.shapes.length > 0) this.imageShapes.set(image.id, new Set(result.shapes));
    } else {
      image.lifecycleState = 'DELETED';
    }
  }

  /** The work request as GetWorkRequest returns it, decided from the clock. */
  workRequestView(request: ImportWorkRequest): Record<string, unknown> {
    const now = this.options.clock.now();
    const { acceptDelayMs, importDurationMs } = this.options;
    const startedAt = request.acceptedAt + acceptDelayMs;
    if (request.final === undefined) {
      if (request.forced !== undefined) {
        this.#finalize(request, { ...request.forced, finishedAt: now });
      } else if (
        // A broken object is found a little into the import, not at once.
        now >= startedAt + importDurationMs / 10 &&
        request.result !== undefined &&
        !request.result.ok
      ) {
        const { code, message } = request.result;
        this.#finalize(request, { status: 'FAILED', finishedAt: now, error: { code, message } });
      } else if (now >= startedAt + importDurationMs && request.result?.ok) {
        this.#finalize(request, { status: 'SUCCEEDED', finishedAt: now });
      }
    }
    const final = request.final;
    const status = final?.status ?? (now < startedAt ? 'ACCEPTED' : 'IN_PROGRESS');
    const percent =
      final?.status === 'SUCCEEDED'
        ? 100
        : status === 'ACCEPTED'
          ? 0
          : Math.min(99, Math.floor((100 * (now - startedAt)) / Math.max(1, importDurationMs)));
    return {
      id: request.id,
      operationType: 'CreateImage',
      status,
      compartmentId: request.compartmentId,
      resources: [
        {
          entityType: 'image',
          actionType: final?.status === 'SUCCEEDED' ? 'CREATED' : 'IN_PROGRESS',
          identifier: request.imageId,
          entityUri: `/20160918/images/${request.imageId}`,
        },
      ],
      percentComplete: percent,
      timeAccepted: this.iso(request.acceptedAt),
      ...(status === 'ACCEPTED' ? {} : { timeStarted: this.iso(startedAt) }),
      ...(final ? { timeFinished: this.iso(final.finishedAt) } : {}),
    };
  }

  // ---- Capability schemas ----

  globalSchemas(): Record<string, unknown>[] {
    return Array.from({ length: this.options.globalSchemas }, (_, i) => ({
      id: i === 0 ? this.globalSchemaId : ocid('computeglobalimgcapschema', ''),
      displayName: i === 0 ? 'OCI.ComputeGlobalImageCapabilitySchema' : `schema-${i}`,
      currentVersionName: this.globalSchemaVersion,
      timeCreated: this.iso(0),
    }));
  }

  createCapabilitySchema(body: Record<string, unknown>): ImageCapabilitySchema {
    const {
      compartmentId,
      imageId,
      computeGlobalImageCapabilitySchemaVersionName: version,
      schemaData,
    } = body;
    if (typeof compartmentId !== 'string' || typeof imageId !== 'string' || typeof version !== 'string') {
      throw new ApiError(
        400,
        'MissingParameter',
        'compartmentId, imageId and computeGlobalImageCapabilitySchemaVersionName are required',
      );
    }
    if (!this.isCompartment(compartmentId)) {
      throw new ApiError(404, 'NotAuthorizedOrNotFound', `compartment ${compartmentId} not found`);
    }
    if (!this.images.has(imageId)) {
      throw new ApiError(400, 'RelatedResourceNotAuthorizedOrNotFound', `image ${imageId} not found`);
    }
    if (version !== this.globalSchemaVersion) {
      throw new ApiError(400, 'InvalidParameter', `unknown global schema version ${version}`);
    }
    if (typeof schemaData !== 'object' || schemaData === null) {
      throw new ApiError(400, 'MissingParameter', 'schemaData is required');
    }
    for (const [key, descriptor] of Object.entries(schemaData)) {
      const allowed = ALLOWED_DESCRIPTORS[key];
      const d = descriptor as {
        descriptorType?: unknown;
        values?: unknown;
        defaultValue?: unknown;
        source?: unknown;
      };
      if (allowed === undefined)
        throw new ApiError(400, 'InvalidParameter', `${key} is not in the global schema`);
      if (d.descriptorType !== 'enumstring')
        throw new ApiError(400, 'InvalidParameter', `${key}: descriptorType must be enumstring`);
      if (!Array.isArray(d.values) || d.values.some((v) => !allowed.includes(String(v)))) {
        throw new ApiError(400, 'InvalidParameter', `${key}: values must be some of ${allowed.join(', ')}`);
      }
      if (d.defaultValue !== undefined && !d.values.includes(d.defaultValue)) {
        throw new ApiError(400, 'InvalidParameter', `${key}: defaultValue must be one of the values`);
      }
    }
    if ([...this.capabilitySchemas.values()].some((s) => s.imageId === imageId)) {
      throw new ApiError(409, 'Conflict', `image ${imageId} already has a capability schema`);
    }
    const schema: ImageCapabilitySchema = {
      id: ocid('computeimgcapschema', 'iad'),
      compartmentId,
      imageId,
      computeGlobalImageCapabilitySchemaId: this.globalSchemaId,
      computeGlobalImageCapabilitySchemaVersionName: version,
      displayName: `schema-${imageId.slice(-6)}`,
      schemaData: schemaData as Record<string, unknown>,
      timeCreated: this.iso(),
    };
    this.capabilitySchemas.set(schema.id, schema);
    return schema;
  }

  /** The shapes an image is compatible with (throws 404 for an unknown image). */
  shapes(imageId: string): Set<string> {
    this.image(imageId);
    let shapes = this.imageShapes.get(imageId);
    if (shapes === undefined) {
      shapes = new Set();
      this.imageShapes.set(imageId, shapes);
    }
    return shapes;
  }
}
