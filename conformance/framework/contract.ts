import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Contract, ContractOperation, RateLimitPolicy, ResponseSpec } from './types.ts';

// The suite's only view of the API: everything (operations, statuses, headers, schemas, rate
// limits) comes from the bundled document, so a contract change needs no suite edit.

// ajv-formats is CommonJS typed as an ES default export.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => void;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
const DOC_ID = 'contract.json';

type Json = Record<string, unknown>;

const escapePointer = (segment: string): string => segment.replace(/~/gu, '~0').replace(/\//gu, '~1');

export function loadContract(path: string): Contract {
  return createContract(JSON.parse(readFileSync(path, 'utf8')) as Json);
}

export function createContract(document: Json): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document, DOC_ID);
  const pointers = new WeakMap<object, string>();
  const compiled = new WeakMap<object, ReturnType<Ajv2020['compile']>>();

  const resolve = <T>(node: T): T => {
    let current: unknown = node;
    for (let depth = 0; depth < 20; depth += 1) {
      const ref = (current as Json | null)?.['$ref'];
      if (typeof ref !== 'string' || !ref.startsWith('#/')) break;
      current = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, seg) => (at as Json | undefined)?.[seg.replace(/~1/gu, '/').replace(/~0/gu, '~')], document);
    }
    return current as T;
  };

  /** Remembers where in the document a schema lives so that Ajv resolves its local $refs. */
  const schemaAt = (node: unknown, pointer: string): unknown => {
    if (node && typeof node === 'object') pointers.set(node, pointer);
    return node;
  };

  const operations: ContractOperation[] = [];
  const paths = (document['paths'] ?? {}) as Record<string, Json>;
  const rootSecurity = (document['security'] ?? []) as Array<Record<string, string[]>>;
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = resolve(rawItem);
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const base = `#/paths/${escapePointer(path)}/${method}`;
      const security = ((op['security'] as Array<Record<string, string[]>> | undefined) ?? rootSecurity).map(
        (alternative) => Object.keys(alternative),
      );
      const body = resolve(op['requestBody'] as Json | undefined);
      const jsonBody = (body?.['content'] as Record<string, Json> | undefined)?.['application/json'];
      const responses: Record<string, ResponseSpec> = {};
      for (const [status, rawResponse] of Object.entries((op['responses'] ?? {}) as Record<string, Json>)) {
        const response = resolve(rawResponse);
        const content = (response['content'] ?? {}) as Record<string, Json>;
        const headers: ResponseSpec['headers'] = {};
        for (const [name, rawHeader] of Object.entries((response['headers'] ?? {}) as Record<string, Json>)) {
          const header = resolve(rawHeader);
          headers[name.toLowerCase()] = { required: header['required'] === true, schema: resolve(header['schema']) };
        }
        const responsePointer = typeof rawResponse['$ref'] === 'string' ? rawResponse['$ref'] : `${base}/responses/${status}`;
        responses[status] = {
          status,
          contentTypes: Object.keys(content),
          schemas: Object.fromEntries(
            Object.entries(content).map(([type, media]) => [
              type,
              schemaAt(media['schema'], `${responsePointer}/content/${escapePointer(type)}/schema`),
            ]),
          ),
          requiredHeaders: Object.entries(headers)
            .filter(([, h]) => h.required)
            .map(([name]) => name),
          headers,
        };
      }
      const bodyPointer =
        typeof (op['requestBody'] as Json | undefined)?.['$ref'] === 'string'
          ? ((op['requestBody'] as Json)['$ref'] as string)
          : `${base}/requestBody`;
      operations.push({
        operationId: String(op['operationId']),
        method: method.toUpperCase(),
        path,
        tags: (op['tags'] as string[] | undefined) ?? [],
        security,
        requestSchema: jsonBody
          ? schemaAt(resolve(jsonBody['schema']), pointerOf(jsonBody['schema'], `${bodyPointer}/content/application~1json/schema`))
          : undefined,
        requestBodyRequired: body?.['required'] === true,
        statuses: Object.keys(responses)
          .filter((s) => /^\d{3}$/u.test(s))
          .map(Number)
          .sort((a, b) => a - b),
        responses,
        rateLimit: op['x-rate-limit'] as RateLimitPolicy | undefined,
        rateLimitFailures: op['x-rate-limit-failures'] as RateLimitPolicy | undefined,
      });
    }
  }
  const byId = new Map(operations.map((op) => [op.operationId, op]));

  const validate = (schema: unknown, value: unknown): { valid: boolean; errors: string[] } => {
    if (schema === undefined || schema === null) return { valid: true, errors: [] };
    if (typeof schema !== 'object') return { valid: schema !== false, errors: schema === false ? ['schema is false'] : [] };
    let fn = compiled.get(schema);
    if (!fn) {
      const pointer = pointers.get(schema);
      fn = pointer ? ajv.compile({ $ref: `${DOC_ID}${pointer}` }) : ajv.compile(rebase(schema));
      compiled.set(schema, fn);
    }
    const valid = fn(value) as boolean;
    const errors = (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${paramsText(e.params)}`);
    return { valid, errors };
  };

  return {
    document,
    operations,
    operation(operationId) {
      const op = byId.get(operationId);
      if (!op) throw new Error(`the contract has no operation "${operationId}"`);
      return op;
    },
    policies() {
      const found = new Map<string, RateLimitPolicy & { operations: string[] }>();
      for (const op of operations) {
        for (const policy of [op.rateLimit, op.rateLimitFailures]) {
          if (!policy) continue;
          const entry = found.get(policy.policy) ?? { ...policy, operations: [] };
          entry.operations.push(op.operationId);
          found.set(policy.policy, entry);
        }
      }
      return [...found.values()];
    },
    bodyLimitBytes: Number(document['x-request-body-limit-bytes'] ?? 16384),
    resolve,
    validate,
  };
}

/** When the schema is itself a $ref, Ajv can compile the referenced pointer directly. */
function pointerOf(schema: unknown, fallback: string): string {
  const ref = (schema as Json | undefined)?.['$ref'];
  return typeof ref === 'string' && ref.startsWith('#/') ? ref : fallback;
}

/** A schema built outside the document (e.g. by a check): local refs point into the document. */
function rebase(schema: object): object {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === '$ref' && typeof value === 'string' && value.startsWith('#') ? `${DOC_ID}${value}` : value,
  ) as object;
}

function paramsText(params: Record<string, unknown>): string {
  const values = Object.entries(params ?? {})
    .filter(([, v]) => v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`);
  return values.length ? ` (${values.join(', ')})` : '';
}
