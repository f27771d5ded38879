/**
 * Checks a JSON body against the response schema the OpenAPI document gives for an operation and
 * status, with a JSON Schema 2020-12 validator (OpenAPI 3.1's dialect). The document's component
 * schemas are closed objects, so a missing field or an extra one is an error.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

export interface OpenApiDocument {
  components: { schemas: Record<string, object> };
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

const ID = 'https://wod.invalid/openapi.json';

/** `#/components/schemas/X` → `<ID>#/$defs/X`, everywhere in a schema. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace(/^#\/components\/schemas\//, `${ID}#/$defs/`) : rewriteRefs(v)]),
    );
  }
  return value;
}

export class ResponseChecker {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDocument) {
    // strict: an unknown keyword in the document is an error too; OpenAPI's own are declared.
    this.ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: true });
    this.ajv.addKeyword('example');
    // The service writes every timestamp as toISOString() does (and zod's pattern says so too).
    this.ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    this.ajv.addSchema({ $id: ID, $defs: rewriteRefs(doc.components.schemas) as Record<string, object> });
  }

  /** The documented JSON schema of a response, or null when the status has no JSON body (or is not documented: see `statuses`). */
  schemaOf(path: string, method: string, status: number): object | null {
    const response = this.doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(status)];
    return response?.content?.['application/json']?.schema ?? null;
  }

  statuses(path: string, method: string): number[] {
    return Object.keys(this.doc.paths[path]?.[method.toLowerCase()]?.responses ?? {}).map(Number);
  }

  /** Problems of a body against the operation's response for its status: empty when it conforms. */
  problems(path: string, method: string, status: number, body: unknown): string[] {
    const op = `${method.toUpperCase()} ${path}`;
    if (!this.statuses(path, method).includes(status)) return [`${op}: status ${status} is not documented (documented: ${this.statuses(path, method).join(', ')})`];
    const schema = this.schemaOf(path, method, status);
    if (!schema) return body === null || body === undefined ? [] : [`${op} ${status}: a body where none is documented`];
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as object);
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${op} ${status}: ${e.instancePath || '(body)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    );
  }
}
