import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsNs from 'ajv-formats';
import type { Contract } from './contract.ts';

type AddFormats = (ajv: Ajv2020) => Ajv2020;
// ajv-formats is CommonJS: depending on the loader the default import is the plugin or its module.
export const addFormats: AddFormats =
  typeof addFormatsNs === 'function' ? (addFormatsNs as unknown as AddFormats) : (addFormatsNs as unknown as { default: AddFormats }).default;

/** Thrown (in tests) when an answer is not what the contract documents. */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

export interface ResponseFacts {
  operationId: string | undefined;
  status: number;
  contentType: string | undefined;
  headers: Record<string, unknown>;
  body: unknown;
}

/**
 * Checks answers against the bundled contract: the status is documented for the operation,
 * the media type is one it lists, required headers are present and the body validates.
 * Answers outside any operation (unknown path) and statuses every operation can give
 * (404/405/500) are checked against the document's `x-global-responses`.
 * openapi-backend's own validateResponse only knows application/json, so problem+json
 * bodies would go unchecked there.
 */
export class ResponseChecker {
  readonly #ajv: Ajv2020;
  readonly #contract: Contract;
  readonly #cache = new Map<string, ValidateFunction>();

  constructor(contract: Contract) {
    this.#contract = contract;
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema(contract.document, 'contract');
  }

  /** Returns a list of violations (empty when the answer conforms). */
  check(r: ResponseFacts): string[] {
    const where = `${r.operationId ?? 'no operation'} ${r.status}`;
    const global = (this.#contract.document['x-global-responses'] ?? {}) as Record<string, unknown>;
    let pointer: string;
    if (r.operationId === undefined) {
      if (!(String(r.status) in global)) return [`${where}: status not documented in x-global-responses`];
      pointer = `#/x-global-responses/${r.status}`;
    } else {
      const op = this.#contract.operation(r.operationId);
      const responses = (op.raw.responses ?? {}) as Record<string, unknown>;
      const key = [String(r.status), `${String(r.status)[0]}XX`, 'default'].find((k) => k in responses);
      if (key !== undefined) pointer = `#/paths/${escape(op.path)}/${op.method}/responses/${escape(key)}`;
      else if (String(r.status) in global) pointer = `#/x-global-responses/${r.status}`;
      else return [`${where}: status not documented (documented: ${Object.keys(responses).join(', ')})`];
    }
    // A documented response may itself be a $ref: point at its target, because Ajv cannot
    // follow a JSON pointer through a $ref when compiling the body schema below.
    for (let node = this.#raw(pointer); typeof node?.$ref === 'string' && node.$ref.startsWith('#/'); node = this.#raw(pointer)) {
      pointer = node.$ref;
    }
    const response = this.#resolve(pointer);
    const errors: string[] = [];

    for (const [name, header] of Object.entries<Record<string, unknown>>(response.headers ?? {})) {
      const h = this.#deref(header);
      if (h.required === true && r.headers[name.toLowerCase()] === undefined) errors.push(`${where}: header ${name} missing`);
    }
    const content = (response.content ?? {}) as Record<string, unknown>;
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) {
      if (r.body !== undefined && r.body !== null && r.body !== '') errors.push(`${where}: body present but none documented`);
      return errors;
    }
    const mediaType = (r.contentType ?? '').split(';')[0]?.trim() ?? '';
    if (!mediaTypes.includes(mediaType)) {
      errors.push(`${where}: media type "${mediaType}" not documented (${mediaTypes.join(', ')})`);
      return errors;
    }
    return [...errors, ...this.#checkBody(`${pointer}/content/${escape(mediaType)}/schema`, r.body, where)];
  }

  #checkBody(pointer: string, body: unknown, where: string): string[] {
    let validate = this.#cache.get(pointer);
    if (validate === undefined) {
      validate = this.#ajv.compile({ $ref: `contract${encodeURI(pointer)}` });
      this.#cache.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message ?? 'is invalid'}`);
  }

  /** The node at `pointer` itself (its parents dereferenced, the node not). */
  #raw(pointer: string): any {
    const parts = pointer.replace(/^#\//, '').split('/');
    const last = (parts.pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
    return (parts.length === 0 ? this.#contract.document : this.#resolve(`#/${parts.join('/')}`))[last];
  }

  /** Follows a JSON pointer into the document, resolving `$ref`s on the way. */
  #resolve(pointer: string): Record<string, any> {
    let node: any = this.#contract.document;
    for (const part of pointer.replace(/^#\//, '').split('/')) {
      node = this.#deref(node)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`contract: ${pointer} not found`);
    }
    return this.#deref(node);
  }

  #deref(node: any): Record<string, any> {
    while (node !== null && typeof node === 'object' && typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
      node = this.#resolve(node.$ref);
    }
    return node;
  }
}

function escape(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}
