import type { Contract, ContractOperation, Exchange, ResponseSpec, Violation } from './types.ts';

// Every exchange is judged here against the contract, whatever check made it: documented
// status, media type, required headers, body schema, RFC 9457 problem shape, no 5xx.

export const CONTRACT_REQUIREMENTS: Record<string, string> = {
  'CONTRACT-STATUS': 'Every status code answered is documented for the operation (or the global 404/405)',
  'CONTRACT-MEDIA-TYPE': 'Every response uses a media type the contract documents for that status',
  'CONTRACT-PROBLEM': 'Every error is application/problem+json whose status equals the HTTP status (SEC 25)',
  'CONTRACT-SCHEMA': 'Every response body validates against the schema the contract documents',
  'CONTRACT-HEADERS': 'Every header the contract marks required is present and valid (Retry-After, RateLimit, WWW-Authenticate…)',
  'CONTRACT-NO-5XX': 'No request the suite sends is answered with a 5xx (SEC 25)',
  'CONTRACT-ALLOW': 'A known path with another method answers 405 with an Allow header listing the documented methods',
  'CONTRACT-HTTP': 'Every request gets an HTTP answer',
};

export interface RouteInfo {
  /** Methods the contract documents for the requested path, empty for an unknown path. */
  allowed: string[];
}

const mediaType = (headers: Record<string, string>): string =>
  (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** The response spec that applies: exact status, then `4XX`-style range, then `default`. */
export function responseSpec(op: ContractOperation, status: number): ResponseSpec | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses['default'];
}

export function validateExchange(
  contract: Contract,
  op: ContractOperation | undefined,
  route: RouteInfo,
  ex: Exchange,
): Violation[] {
  const v: Violation[] = [];
  const add = (requirement: string, message: string): void => {
    v.push({ requirement, message });
  };
  if (ex.status === 0) {
    add('CONTRACT-HTTP', `no HTTP answer: ${ex.error ?? 'unknown error'}`);
    return v;
  }
  const status = ex.status;
  const type = mediaType(ex.headers);
  if (status >= 500 && !ex.provoked5xx) {
    add('CONTRACT-NO-5XX', `answered ${status}${/\n\s+at\s|\.(?:js|ts):\d+/u.test(ex.text) ? ' with what looks like a stack trace' : ''}`);
  }
  if (status >= 400) checkProblem(contract, ex, type, add);

  let spec: ResponseSpec | undefined;
  if (op) {
    spec = responseSpec(op, status);
    if (!spec && status < 500) add('CONTRACT-STATUS', `${status} is not documented for ${op.operationId} (documented: ${op.statuses.join(', ')})`);
  } else if (route.allowed.length === 0) {
    if (status !== 404) add('CONTRACT-STATUS', `an unknown path answered ${status}, expected 404`);
  } else if (status !== 405) {
    add('CONTRACT-STATUS', `${ex.request.method} on a path documented only for ${route.allowed.join(', ')} answered ${status}, expected 405`);
  } else {
    const allow = (ex.headers['allow'] ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
    const missing = route.allowed.filter((m) => !allow.includes(m));
    if (!ex.headers['allow']) add('CONTRACT-ALLOW', '405 without an Allow header');
    else if (missing.length) add('CONTRACT-ALLOW', `Allow: ${ex.headers['allow']} lacks ${missing.join(', ')}`);
  }

  if (spec) {
    checkBody(contract, op!, spec, ex, type, add);
    checkHeaders(contract, spec, ex, add);
  }
  // RFC 6750 §3 and RFC 9110 §10.2.3 — whatever the contract says.
  if (status === 401 && !/^Bearer\b/iu.test(ex.headers['www-authenticate'] ?? '')) {
    add('CONTRACT-HEADERS', `401 without a WWW-Authenticate: Bearer challenge (got ${JSON.stringify(ex.headers['www-authenticate'] ?? null)})`);
  }
  if (status === 429 && !/^\d+$/u.test(ex.headers['retry-after'] ?? '')) {
    add('CONTRACT-HEADERS', `429 without an integer Retry-After (got ${JSON.stringify(ex.headers['retry-after'] ?? null)})`);
  } else if (status === 429 && Number(ex.headers['retry-after']) < 1) {
    add('CONTRACT-HEADERS', `429 with Retry-After ${ex.headers['retry-after']} (must be ≥ 1)`);
  }
  return dedupe(v);
}

function checkProblem(contract: Contract, ex: Exchange, type: string, add: (r: string, m: string) => void): void {
  if (type !== 'application/problem+json') {
    add('CONTRACT-PROBLEM', `${ex.status} answered as ${type || 'no media type'}, not application/problem+json`);
    return;
  }
  const body = ex.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') {
    add('CONTRACT-PROBLEM', `${ex.status} problem body is not a JSON object`);
    return;
  }
  if (body['status'] !== ex.status) add('CONTRACT-PROBLEM', `problem "status" is ${JSON.stringify(body['status'])}, HTTP status is ${ex.status}`);
  if (typeof body['title'] !== 'string' || typeof body['type'] !== 'string') add('CONTRACT-PROBLEM', 'problem without "type" and "title" strings');
  // The Problem schema's description: `type` is `https://app.quazzar.space/problems/<code>`, and
  // a 422 validation_failed says which field (`errors[].pointer`).
  if (typeof body['type'] === 'string' && typeof body['code'] === 'string' && !body['type'].endsWith(`/${body['code']}`)) {
    add('CONTRACT-PROBLEM', `problem "type" ${JSON.stringify(body['type'])} does not end with its code "${body['code']}"`);
  }
  if (body['code'] === 'validation_failed') {
    const errors = body['errors'];
    const ok = Array.isArray(errors) && errors.length > 0 && errors.every((e) => !!e && typeof e === 'object' && typeof (e as Record<string, unknown>)['pointer'] === 'string');
    if (!ok) add('CONTRACT-PROBLEM', 'validation_failed without errors[] naming each field (pointer)');
  }
  // Outside any operation (404/405), the contract's shared Problem schema still applies.
  const problem = (contract.document?.components?.schemas ?? {})['Problem'];
  if (problem && !ex.operationId) {
    const result = contract.validate({ $ref: '#/components/schemas/Problem' }, body);
    if (!result.valid) add('CONTRACT-SCHEMA', `problem body: ${result.errors.slice(0, 5).join('; ')}`);
  }
}

function checkBody(
  contract: Contract,
  op: ContractOperation,
  spec: ResponseSpec,
  ex: Exchange,
  type: string,
  add: (r: string, m: string) => void,
): void {
  if (spec.contentTypes.length === 0) {
    if (ex.text.length > 0) add('CONTRACT-MEDIA-TYPE', `${op.operationId} ${ex.status} documents no body but one was sent (${ex.text.length} bytes)`);
    return;
  }
  if (!spec.contentTypes.includes(type)) {
    if (ex.status < 400) add('CONTRACT-MEDIA-TYPE', `${op.operationId} ${ex.status} answered as ${type || 'no media type'}; documented: ${spec.contentTypes.join(', ')}`);
    return;
  }
  if (/json/u.test(type) && ex.body === undefined) {
    add('CONTRACT-SCHEMA', `${op.operationId} ${ex.status}: body is not valid JSON`);
    return;
  }
  const result = contract.validate(spec.schemas[type], ex.body ?? ex.text);
  if (!result.valid) add('CONTRACT-SCHEMA', `${op.operationId} ${ex.status}: ${result.errors.slice(0, 6).join('; ')}`);
}

function checkHeaders(contract: Contract, spec: ResponseSpec, ex: Exchange, add: (r: string, m: string) => void): void {
  for (const [name, header] of Object.entries(spec.headers)) {
    const value = ex.headers[name];
    if (value === undefined) {
      if (header.required) add('CONTRACT-HEADERS', `${ex.status} without the required ${name} header`);
      continue;
    }
    const schema = contract.resolve(header.schema) as Record<string, unknown> | undefined;
    const numeric = schema && (schema['type'] === 'integer' || schema['type'] === 'number');
    if (numeric && !/^-?\d+(\.\d+)?$/u.test(value.trim())) {
      add('CONTRACT-HEADERS', `${name}: ${JSON.stringify(value)} is not a number`);
      continue;
    }
    const result = contract.validate(header.schema, numeric ? Number(value) : value);
    if (!result.valid) add('CONTRACT-HEADERS', `${name}: ${JSON.stringify(value)} ${result.errors.join('; ')}`);
  }
}

function dedupe(list: Violation[]): Violation[] {
  const seen = new Set<string>();
  return list.filter((x) => (seen.has(x.requirement + x.message) ? false : (seen.add(x.requirement + x.message), true)));
}
