// Strict JSON-Schema validators for Cluster API objects, from the CRDs (with Oracle's patch). The
// API server prunes unknown fields instead of rejecting them, so `additionalProperties: false` is
// added wherever a schema lists its properties and does not preserve unknown fields: a misspelt
// field fails here, where the API server would silently drop it.
import { Ajv, type ValidateFunction } from 'ajv';
import { CRD_SOURCES, type CrdSource, crdSchema, loadCrd } from '../scripts/crds.ts';

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps names to schemas: keep the names, tighten the schemas.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strict(v)]))
        : strict(value);
  }
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });
for (const format of ['int32', 'int64', 'byte', 'date-time', 'duration', 'uri']) ajv.addFormat(format, true);

/** The CAPI release folders the objects must validate against (1.10.8 primary, 1.9.9 for ocne 2.2). */
export const CAPI_RELEASES: readonly string[] = ['v1.10.8', 'v1.9.9'];

const cache = new Map<string, ValidateFunction>();

function validator(source: CrdSource): ValidateFunction {
  const key = `${source.module}/${source.path}`;
  let v = cache.get(key);
  if (v === undefined) {
    v = ajv.compile(strict(crdSchema(source, loadCrd(source))) as object);
    cache.set(key, v);
  }
  return v;
}

/** Schema errors of an object against its kind's CRD in one CAPI release ([] when valid). */
export function crdErrors(object: { apiVersion: string; kind: string }, release = 'v1.10.8'): string[] {
  const base = CRD_SOURCES.find((s) => s.kind === object.kind && s.apiVersion === object.apiVersion);
  if (base === undefined) return [`no CRD for ${object.apiVersion} ${object.kind}`];
  const source = { ...base, module: base.module.replace('@v1.10.8', `@${release}`) };
  const validate = validator(source);
  const { kind } = object;
  return validate(object)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${kind} ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
      );
}
