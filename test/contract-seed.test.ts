// The bundled contract (generated/openapi.json) checked against a table written by hand
// from the seed page (../shared/seed/quazzar-auth-api-reference.txt), plus the rules every
// operation of both contracts must follow, and every example validated against its schema.
// The seed's e-mail addresses were scrambled by the page it was copied from; the contract
// uses jane@example.com in their place.
//
// What is pinned here (README, "What the tests pin"): only what the seed page states literally —
// its endpoints and status codes, its example bodies and their fields, its four rate limits,
// five backup codes. A failure on one of those says "seed fact": the contract departs from the
// reference page. Everything else a designer may change (other limits, optional fields, new
// fields and problem codes, lengths) is read from the contract: the tests check that it is
// consistent — with itself, with its prose, with the decisions it must still contain — never
// that it equals today's numbers. QUAZZAR_CONTRACT_UNDER_TEST=<bundled.json> checks another
// bundle (test/designer-edits.test.ts runs this file on edited copies of the contract).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, any>;

const load = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../generated/${name}`, import.meta.url), 'utf8')) as Json;
const contract: Json = process.env['QUAZZAR_CONTRACT_UNDER_TEST']
  ? (JSON.parse(readFileSync(process.env['QUAZZAR_CONTRACT_UNDER_TEST'], 'utf8')) as Json)
  : load('openapi.json');
const SEED_PAGE = '../shared/seed/quazzar-auth-api-reference.txt';
/** The message of a failed seed pin. */
const seedFact = (what: string): string =>
  `this is a seed fact (${what}): changing it departs from the reference page ${SEED_PAGE}. ` +
  'If the departure is meant, record it in docs/DECISIONS.md and change the seed table in test/contract-seed.test.ts';
const harness = load('harness.json');
/** Where a bundle is registered in Ajv (never fetched), so that its `#/components/...` refs resolve. */
const bundleId = 'https://contract.invalid/bundle.json';

// ajv-formats is CommonJS with `exports.default`; NodeNext sees the whole module object.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

// ---------------------------------------------------------------------------------------
// The seed page, written down by hand.

const seedEmail = 'jane@example.com';
const seedUserId = '550e8400-e29b-41d4-a716-446655440000';

interface SeedEndpoint {
  method: string;
  path: string;
  operationId: string;
  /** Status codes the seed page names for it ("Response (200 OK)", the error tables). */
  statuses: string[];
  /** Request example the seed page shows, if any. */
  request?: Json;
  /** Success response example the seed page shows, if any. */
  response?: Json;
}

const seedEndpoints: SeedEndpoint[] = [
  {
    method: 'post', path: '/auth/login', operationId: 'login', statuses: ['200', '401', '403', '422'],
    request: { email: seedEmail, password: 'your-password' },
    response: {
      access_token: 'eyJhbGciOiJIUzI1NiIs...', token_type: 'bearer',
      user: { id: seedUserId, email: seedEmail, full_name: 'Jane Developer', is_active: true, totp_enabled: false },
    },
  },
  {
    method: 'post', path: '/auth/register', operationId: 'register', statuses: ['201', '409', '422'],
    request: { email: seedEmail, password: 'secure-password-123', full_name: 'Jane Developer', company_name: 'Acme Corp' },
    response: { id: seedUserId, email: seedEmail, full_name: 'Jane Developer', is_active: true, created_at: '2026-03-01T12:00:00Z' },
  },
  {
    method: 'post', path: '/auth/logout', operationId: 'logout', statuses: ['200'],
    response: { message: 'Successfully logged out' },
  },
  {
    method: 'post', path: '/auth/totp/provision', operationId: 'provisionTotp', statuses: ['200'],
    response: {
      secret: 'JBSWY3DPEHPK3PXP',
      uri: `otpauth://totp/Quazzar:${seedEmail}?secret=JBSWY3DPEHPK3PXP&issuer=Quazzar`,
      qr_code: 'data:image/png;base64,iVBOR...',
    },
  },
  {
    method: 'post', path: '/auth/totp/verify', operationId: 'verifyTotp', statuses: ['200'],
    request: { code: '123456' },
    response: { message: 'TOTP successfully enabled', backup_codes: ['a1b2c3d4', 'e5f6g7h8', 'i9j0k1l2', 'm3n4o5p6', 'q7r8s9t0'] },
  },
  { method: 'delete', path: '/auth/totp', operationId: 'disableTotp', statuses: [], request: { code: '123456' } },
  {
    // "always returns 200 OK regardless of whether the email exists"
    method: 'post', path: '/auth/password-reset/request', operationId: 'requestPasswordReset', statuses: ['200'],
    request: { email: seedEmail },
  },
  {
    method: 'post', path: '/auth/password-reset/confirm', operationId: 'confirmPasswordReset', statuses: ['400', '422'],
    request: { token: 'reset-token-from-email', new_password: 'new-secure-password-456' },
  },
  {
    method: 'get', path: '/users/me', operationId: 'getCurrentUser', statuses: ['200'],
    response: {
      id: seedUserId, email: seedEmail, full_name: 'Jane Developer', company_name: 'Acme Corp', phone: '+1-555-0100',
      is_active: true, totp_enabled: true, created_at: '2026-01-15T08:30:00Z',
    },
  },
  {
    // "Returns the updated user object."
    method: 'patch', path: '/users/me', operationId: 'updateCurrentUser', statuses: ['200'],
    request: { full_name: 'Jane M. Developer', phone: '+1-555-0200' },
  },
];

/** The seed's rate-limit table. */
const seedRateLimits = [
  { method: 'post', path: '/auth/login', limit: 10, window_seconds: 60, key: 'ip' },
  { method: 'post', path: '/auth/register', limit: 5, window_seconds: 60, key: 'ip' },
  { method: 'post', path: '/auth/password-reset/request', limit: 3, window_seconds: 60, key: 'ip' },
];
const seedAuthenticatedLimit = { limit: 120, window_seconds: 60, key: 'token' };

/** Bodies the seed shows whose fields the contract must match exactly ("field for field"). */
const seedExactFields: { operationId: string; where: 'request' | 'response'; fields: string[]; nested?: Record<string, string[]> }[] = [
  { operationId: 'login', where: 'request', fields: ['email', 'password', 'totp_code'] },
  { operationId: 'login', where: 'response', fields: ['access_token', 'token_type', 'user'],
    nested: { user: ['id', 'email', 'full_name', 'is_active', 'totp_enabled'] } },
  { operationId: 'register', where: 'request', fields: ['email', 'password', 'full_name', 'company_name'] },
  { operationId: 'register', where: 'response', fields: ['id', 'email', 'full_name', 'is_active', 'created_at'] },
];

// ---------------------------------------------------------------------------------------
// Walking a bundled document.

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation { method: string; path: string; op: Json }

function operationsOf(doc: Json): Operation[] {
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const method of methods) if (item[method]) found.push({ method, path, op: item[method] });
  }
  return found;
}

/** Follows local `$ref`s (the bundle has no other kind). */
function deref(doc: Json, node: any): any {
  let current = node;
  for (let hops = 0; current && typeof current.$ref === 'string'; hops++) {
    if (hops > 20) throw new Error(`ref loop at ${node.$ref}`);
    expect(current.$ref.startsWith('#/'), `non-local $ref ${current.$ref}`).toBe(true);
    current = current.$ref.slice(2).split('/')
      .map((part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((at: any, key: string) => at?.[key], doc);
    expect(current, `dangling $ref ${node.$ref}`).toBeDefined();
  }
  return current;
}

function operationById(doc: Json, id: string): Operation {
  const found = operationsOf(doc).find((o) => o.op.operationId === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
}

function responsesOf(doc: Json, op: Json): [string, Json][] {
  return Object.entries(op.responses as Json).map(([status, response]) => [status, deref(doc, response)]);
}

/** Every example value of a media type (`example` or `examples.*.value`). */
function examplesOf(doc: Json, media: Json): [string, unknown][] {
  const list: [string, unknown][] = [];
  if ('example' in media) list.push(['example', media.example]);
  for (const [name, example] of Object.entries((media.examples ?? {}) as Json)) list.push([name, deref(doc, example).value]);
  return list;
}

/** All property names of an object schema, through `allOf`. */
function propertyNames(doc: Json, schemaRef: Json): string[] {
  const schema = deref(doc, schemaRef);
  const own = Object.keys(schema.properties ?? {});
  const inherited = (schema.allOf ?? []).flatMap((part: Json) => propertyNames(doc, part));
  return [...new Set([...own, ...inherited])];
}

const isSecured = (doc: Json, op: Json): boolean =>
  (op.security ?? doc.security ?? []).some((requirement: Json) => Object.keys(requirement).length > 0);

const successOf = (op: Json): string => Object.keys(op.responses).find((s) => s.startsWith('2'))!;

// ---------------------------------------------------------------------------------------

describe('the contract against the seed page', () => {
  it('serves the seed base URL and sends credentials as Bearer tokens', () => {
    expect(contract.openapi).toBe('3.1.0');
    expect(contract.servers.map((s: Json) => s.url)).toContain('https://app.quazzar.space');
    for (const name of ['session', 'apiKey']) {
      expect(contract.components.securitySchemes[name]).toMatchObject({ type: 'http', scheme: 'bearer' });
    }
  });

  it.each(seedEndpoints)('has $method $path as $operationId with the seed status codes', (seed) => {
    const op = contract.paths[seed.path]?.[seed.method];
    expect(op, `${seed.method} ${seed.path}`).toBeDefined();
    expect(op.operationId).toBe(seed.operationId);
    for (const status of seed.statuses) expect(Object.keys(op.responses)).toContain(status);
    expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
  });

  it.each(seedEndpoints.filter((s) => s.request))('shows the seed request example of $operationId', (seed) => {
    const media = contract.paths[seed.path][seed.method].requestBody.content['application/json'];
    const values = examplesOf(contract, media).map(([, value]) => value);
    expect(values).toContainEqual(seed.request);
  });

  it.each(seedEndpoints.filter((s) => s.response))('shows the seed response example of $operationId', (seed) => {
    const op = contract.paths[seed.path][seed.method];
    const media = deref(contract, op.responses[successOf(op)]).content['application/json'];
    const values = examplesOf(contract, media).map(([, value]) => value);
    expect(values).toContainEqual(seed.response);
  });

  it('answers the updated user object on PATCH /users/me', () => {
    const patch = operationById(contract, 'updateCurrentUser').op;
    const get = operationById(contract, 'getCurrentUser').op;
    expect(deref(contract, patch.responses['200']).content['application/json'].schema)
      .toEqual(deref(contract, get.responses['200']).content['application/json'].schema);
  });

  it.each(seedExactFields)('carries every field of the seed $where body of $operationId (and, in a request, requires no other)', (row) => {
    const { op } = operationById(contract, row.operationId);
    const media = row.where === 'request'
      ? op.requestBody.content['application/json']
      : deref(contract, op.responses[successOf(op)]).content['application/json'];
    const schema = deref(contract, media.schema);
    const fact = seedFact(`the ${row.where} body of ${row.operationId} has ${row.fields.join(', ')}`);
    // Optional fields the seed does not show may be added (a non-breaking change): read from the contract.
    expect(propertyNames(contract, schema), fact).toEqual(expect.arrayContaining(row.fields));
    if (row.where === 'request') {
      for (const field of schema.required ?? []) expect(row.fields, `${field} is required but the seed's request does without it: ${fact}`).toContain(field);
    }
    expect(schema.additionalProperties).toBe(false);
    for (const [field, nestedFields] of Object.entries(row.nested ?? {})) {
      expect(propertyNames(contract, schema.properties[field]), fact).toEqual(expect.arrayContaining(nestedFields));
      expect(deref(contract, schema.properties[field]).additionalProperties).toBe(false);
    }
  });

  it.each(seedRateLimits)('limits $method $path to $limit per $window_seconds s per $key', (seed) => {
    const rateLimit = contract.paths[seed.path][seed.method]['x-rate-limit'];
    expect(rateLimit, seedFact(`${seed.method.toUpperCase()} ${seed.path}: ${seed.limit} requests per minute per ${seed.key === 'ip' ? 'IP' : seed.key}`))
      .toMatchObject({ limit: seed.limit, window_seconds: seed.window_seconds, key: seed.key });
  });

  it('limits every other authenticated endpoint to 120 per minute per token', () => {
    const secured = operationsOf(contract).filter(({ op }) => isSecured(contract, op));
    expect(secured.length).toBeGreaterThanOrEqual(5);
    for (const { op } of secured) {
      expect(op['x-rate-limit'], `${op.operationId}: ${seedFact('all other authenticated endpoints: 120 requests per minute per token')}`).toMatchObject(seedAuthenticatedLimit);
    }
  });

  it('shows the seed rate-limit table to a reader of the description', () => {
    const text: string = contract.info.description;
    const fact = seedFact('the rate-limit table');
    expect(text, fact).toMatch(/POST \/auth\/login \| 10 requests per 60 seconds \| client IP/);
    expect(text, fact).toMatch(/POST \/auth\/register \| 5 requests per 60 seconds \| client IP/);
    expect(text, fact).toMatch(/POST \/auth\/password-reset\/request \| 3 requests per 60 seconds \| client IP/);
    expect(text, fact).toMatch(/All other authenticated endpoints \| 120 requests per 60 seconds \| token/);
  });

  it('answers login 401s with WWW-Authenticate too', () => {
    const unauthorized = deref(contract, operationById(contract, 'login').op.responses['401']);
    expect(deref(contract, unauthorized.headers['WWW-Authenticate']).required).toBe(true);
  });

  it('lets a TOTP user send totp_code on login, in the format of a code or a backup code', () => {
    const schema = deref(contract, operationById(contract, 'login').op.requestBody.content['application/json'].schema);
    expect(schema.required).toEqual(['email', 'password']);
    const pattern = new RegExp(schema.properties.totp_code.pattern);
    expect(pattern.test('123456')).toBe(true);
    expect(pattern.test('a1b2c3d4')).toBe(true);
    expect(pattern.test('12345')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------

const documents: [string, Json][] = [['openapi.json', contract], ['harness.json', harness]];

describe.each(documents)('every operation of %s', (_name, doc) => {
  const operations = operationsOf(doc);
  const problemCodes: string[] = deref(doc, doc.components.schemas.ProblemCode ?? doc.components.schemas.HarnessProblemCode).enum;
  const keyWords: Record<string, string> = { ip: 'client IP', token: 'token', account: 'account' };

  it('has a unique operationId, one tag, a summary and a description', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations) {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags, op.operationId).toHaveLength(1);
      expect(doc.tags.map((t: Json) => t.name)).toContain(op.tags[0]);
      expect(op.summary?.length, op.operationId).toBeGreaterThan(0);
      expect(op.description?.length, op.operationId).toBeGreaterThan(0);
      expect(op.security, `${op.operationId} states its security`).toBeDefined();
    }
  });

  it('has an x-rate-limit that its description states in words', () => {
    const byPolicy = new Map<string, Json>();
    for (const { op } of operations) {
      for (const field of ['x-rate-limit', 'x-rate-limit-failures']) {
        const rl = op[field];
        if (field === 'x-rate-limit-failures' && !rl) continue;
        expect(rl, `${op.operationId} ${field}`).toMatchObject({ policy: expect.stringMatching(/^[a-z0-9-]+$/) });
        expect(Number.isInteger(rl.limit) && rl.limit >= 1).toBe(true);
        expect(Number.isInteger(rl.window_seconds) && rl.window_seconds >= 1).toBe(true);
        expect(['ip', 'token', 'account']).toContain(rl.key);
        const same = byPolicy.get(rl.policy) ?? rl;
        expect(rl, `policy ${rl.policy} agrees everywhere`).toEqual(same);
        byPolicy.set(rl.policy, rl);
      }
      const rl = op['x-rate-limit'];
      expect(op.description).toContain(
        `**Rate limit:** ${rl.limit} requests per ${rl.window_seconds} seconds per ${keyWords[rl.key]} (policy \`${rl.policy}\``);
    }
  });

  it('documents 429 with Retry-After, RateLimit-Policy and RateLimit (and, in the API, RateLimit headers on success)', () => {
    for (const { op } of operations) {
      const limited = deref(doc, op.responses['429']);
      expect(limited, `${op.operationId} 429`).toBeDefined();
      for (const name of ['Retry-After', 'RateLimit-Policy', 'RateLimit']) {
        expect(deref(doc, limited.headers?.[name])?.required, `${op.operationId} 429 ${name}`).toBe(true);
      }
      expect(deref(doc, limited.headers['Retry-After']).schema).toMatchObject({ type: 'integer', minimum: 1 });
      // The harness need not report its budget on success; the API must (DECISIONS.md §4).
      if (doc === harness) continue;
      const success = deref(doc, op.responses[successOf(op)]);
      for (const name of ['RateLimit-Policy', 'RateLimit']) {
        expect(deref(doc, success.headers?.[name])?.required, `${op.operationId} 2xx ${name}`).toBe(true);
      }
    }
  });

  it('documents 401 with WWW-Authenticate where secured, and never where not', () => {
    for (const { op } of operations) {
      const unauthorized = op.responses['401'] && deref(doc, op.responses['401']);
      if (isSecured(doc, op)) {
        expect(deref(doc, unauthorized?.headers?.['WWW-Authenticate'])?.required, op.operationId).toBe(true);
      } else if (op.operationId !== 'login') {
        expect(unauthorized, `${op.operationId} is public`).toBeUndefined();
      }
    }
  });

  it('documents 400, 413, 415 and 422 where it takes a body', () => {
    for (const { op } of operations.filter(({ op }) => op.requestBody)) {
      expect(op.requestBody.required, op.operationId).toBe(true);
      expect(Object.keys(op.requestBody.content)).toEqual(['application/json']);
      const schema = deref(doc, op.requestBody.content['application/json'].schema);
      expect(schema.additionalProperties, `${op.operationId} request schema`).toBe(false);
      for (const status of ['400', '413', '415', '422']) expect(Object.keys(op.responses), op.operationId).toContain(status);
    }
  });

  it('answers every error as problem+json with the codes that status can carry', () => {
    for (const { op } of operations) {
      for (const [status, response] of responsesOf(doc, op)) {
        if (Number(status) < 400) continue;
        const where = `${op.operationId} ${status}`;
        expect(Object.keys(response.content ?? {}), where).toEqual(['application/problem+json']);
        const media = response.content['application/problem+json'];
        const [base, narrowing] = media.schema.allOf;
        expect(base.$ref, where).toMatch(/^#\/components\/schemas\/(Harness)?Problem$/);
        expect(narrowing.properties.status.const, where).toBe(Number(status));
        const codes: string[] = narrowing.properties.code.enum;
        expect(codes.length, where).toBeGreaterThan(0);
        for (const code of codes) expect(problemCodes, where).toContain(code);
        const exampleCodes = examplesOf(doc, media).map(([, value]) => (value as Json).code);
        expect(exampleCodes.length, `${where} has an example`).toBeGreaterThan(0);
        for (const code of exampleCodes) expect(codes, where).toContain(code);
      }
    }
  });

  it('explains every problem code', () => {
    const codeSchema = deref(doc, doc.components.schemas.ProblemCode ?? doc.components.schemas.HarnessProblemCode);
    expect(Object.keys(codeSchema['x-enumDescriptions']).sort()).toEqual([...problemCodes].sort());
  });
});

/** DECISIONS.md §2: schema → [required fields, optional fields]. A designer may add fields (read
 * from the contract); a decided field that disappears, or a required one made optional, changes
 * §2's decision, so it is recorded in docs/DECISIONS.md and here. */
const decidedSchemas: Record<string, [string[], string[]]> = {
  RegisterRequest: [['email', 'password', 'full_name'], ['company_name']],
  RegisterResponse: [['id', 'email', 'full_name', 'is_active', 'created_at'], []],
  LoginRequest: [['email', 'password'], ['totp_code']],
  LoginResponse: [['access_token', 'token_type', 'user'], []],
  UserSummary: [['id', 'email', 'full_name', 'is_active', 'totp_enabled'], []],
  User: [['id', 'email', 'full_name', 'company_name', 'phone', 'is_active', 'totp_enabled', 'created_at'], []],
  UserUpdate: [[], ['full_name', 'company_name', 'phone']],
  ChangePasswordRequest: [['current_password', 'new_password'], []],
  TotpProvisioning: [['secret', 'uri', 'qr_code'], []],
  TotpCodeRequest: [['code'], ['current_password']],
  TotpDisableRequest: [['code'], ['current_password']],
  TotpEnabled: [['message', 'backup_codes'], ['revoked']],
  PasswordChanged: [['message', 'revoked'], []],
  RevokedCredentials: [['sessions', 'api_keys'], []],
  PasswordResetRequest: [['email'], []],
  PasswordResetConfirm: [['token', 'new_password'], []],
  Message: [['message'], []],
  ApiKeyCreateRequest: [['name'], ['project_ids', 'current_password']],
  ApiKey: [['id', 'name', 'prefix', 'project_ids', 'created_at', 'last_used_at'], []],
  ApiKeyCreated: [['id', 'name', 'prefix', 'project_ids', 'created_at', 'last_used_at', 'key'], []],
  ApiKeyList: [['api_keys'], []],
  Project: [['id', 'name', 'created_at'], []],
  ProjectCreateRequest: [['name'], []],
  ProjectList: [['projects'], []],
  Health: [['status'], []],
  Problem: [['type', 'title', 'status', 'detail', 'code'], ['instance', 'errors']],
};

describe('the schemas of DECISIONS.md §2', () => {
  it.each(Object.entries(decidedSchemas))('%s has the decided fields (others may be added)', (name, [required, optional]) => {
    const schema = contract.components.schemas[name];
    expect(schema, name).toBeDefined();
    const decision = `DECISIONS.md §2 decides ${name}: required ${required.join(', ') || '(none)'}; optional ${optional.join(', ') || '(none)'}. ` +
      'Changing that is a decision: record it in docs/DECISIONS.md and in decidedSchemas (test/contract-seed.test.ts)';
    expect(schema.required ?? [], decision).toEqual(expect.arrayContaining(required));
    expect(Object.keys(schema.properties), decision).toEqual(expect.arrayContaining([...required, ...optional]));
    for (const field of schema.required ?? []) expect(Object.keys(schema.properties), `${name} requires an undeclared ${field}`).toContain(field);
    expect(schema.additionalProperties).toBe(false);
  });

  it('keeps the seed\'s TOTP code, backup code and user formats', () => {
    const s = contract.components.schemas;
    // The seed shows a 6-digit code ("123456") and five 8-character backup codes ("a1b2c3d4", …).
    expect(s.TotpCodeRequest.properties.code.pattern, seedFact('a TOTP code is 6 digits')).toBe('^[0-9]{6}$');
    expect(s.TotpDisableRequest.properties.code.pattern, seedFact('a code or an 8-character backup code disables TOTP')).toBe('^([0-9]{6}|[a-z0-9]{8})$');
    expect(s.TotpEnabled.properties.backup_codes, seedFact('five backup codes')).toMatchObject({ minItems: 5, maxItems: 5 });
    expect(s.Email, seedFact('e-mail addresses')).toMatchObject({ format: 'email' });
    expect(s.User.properties.phone.type, seedFact('phone may be absent: the seed\'s register takes none')).toEqual(['string', 'null']);
  });

  it('states the lengths and patterns it decides the way its schemas do (read from the contract)', () => {
    const s = contract.components.schemas;
    const text: string = contract.info.description;
    // "## Passwords\n\n15 to 128 characters" — whatever the numbers, prose and schema agree.
    const passwords = /## Passwords\s+(\d+) to (\d+) characters/u.exec(text);
    expect(passwords, 'info.description states the password lengths under "## Passwords"').not.toBeNull();
    expect(s.NewPassword).toMatchObject({ minLength: Number(passwords![1]), maxLength: Number(passwords![2]) });
    expect(s.LoginRequest.properties.password.maxLength, 'login accepts every password a reset or change may set').toBe(s.NewPassword.maxLength);
    const key = /`qzk_` followed by (\d+) base64url characters/u.exec(text);
    expect(key, 'info.description states the API key format').not.toBeNull();
    expect(s.ApiKeyCreated.properties.key.pattern).toBe(`^qzk_[A-Za-z0-9_-]{${key![1]}}$`);
    expect(text).toContain(`**${contract['x-request-body-limit-bytes']} bytes**`);
    expect(s.UserUpdate.minProperties).toBeGreaterThanOrEqual(1);
    expect(s.ApiKeyCreateRequest.properties.project_ids).toMatchObject({ uniqueItems: true, default: [] });
  });
});

describe('the problem codes', () => {
  it('are the catalogue of DECISIONS.md §3 and each one is answered somewhere', () => {
    const catalogue: string[] = contract.components.schemas.ProblemCode.enum;
    // Not a count: a new code is a non-breaking change a designer may make. Each one is answered
    // somewhere (below) and explained in the description table (next test).
    expect(new Set(catalogue).size).toBe(catalogue.length);
    const used = new Set<string>();
    const globals = Object.values(contract['x-global-responses'] as Json);
    const responses = [...operationsOf(contract).flatMap(({ op }) => responsesOf(contract, op).map(([, r]) => r)), ...globals];
    for (const response of responses) {
      const schema = response.content?.['application/problem+json']?.schema;
      for (const code of schema?.allOf?.[1]?.properties?.code?.enum ?? []) used.add(code);
    }
    expect([...used].sort()).toEqual([...catalogue].sort());
  });

  it('lists each code in the description table a reader sees', () => {
    for (const code of contract.components.schemas.ProblemCode.enum) {
      expect(contract.info.description).toMatch(new RegExp(`\\| \\d{3} \\| \`${code}\` \\|`));
    }
  });
});

describe('the harness contract', () => {
  it('has the operations of DECISIONS.md §9 (and issue 17\'s password-hash) behind its own bearer token', () => {
    const expected = {
      harnessDeactivateAccount: 'post /accounts/deactivate', harnessActivateAccount: 'post /accounts/activate',
      harnessSetPasswordHash: 'post /accounts/password-hash',
      harnessGetClock: 'get /clock', harnessAdvanceClock: 'post /clock/advance',
      harnessResetClock: 'post /clock/reset', harnessResetRateLimits: 'post /rate-limits/reset',
      harnessSetDatabaseFault: 'post /faults/database',
    };
    const actual = Object.fromEntries(operationsOf(harness).map(({ method, path, op }) => [op.operationId, `${method} ${path}`]));
    expect(actual).toEqual(expected);
    expect(harness.components.securitySchemes.harnessToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const { op } of operationsOf(harness)) expect(op.security).toEqual([{ harnessToken: [] }]);
    expect(harness.components.schemas.HarnessProblemCode.enum).toContain('user_not_found');
    expect(harness.servers[0].url).toMatch(/\/__harness$/);
  });
});

// ---------------------------------------------------------------------------------------

interface ExampleCase { where: string; schema: unknown; value: unknown }

/** Every example in a document with the schema it illustrates. */
function exampleCases(doc: Json): ExampleCase[] {
  const cases: ExampleCase[] = [];
  const addMedia = (where: string, media: Json): void => {
    expect(examplesOf(doc, media).length, `${where} has an example`).toBeGreaterThan(0);
    for (const [name, value] of examplesOf(doc, media)) cases.push({ where: `${where} ${name}`, schema: media.schema, value });
  };
  const addHeaderOrParameter = (where: string, node: Json): void => {
    const resolved = deref(doc, node);
    if ('example' in resolved) cases.push({ where, schema: resolved.schema, value: resolved.example });
  };
  for (const { method, path, op } of operationsOf(doc)) {
    const at = `${method} ${path}`;
    for (const parameter of [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])]) {
      addHeaderOrParameter(`${at} parameter ${deref(doc, parameter).name}`, parameter);
    }
    for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Json)) addMedia(`${at} request ${type}`, media);
    for (const [status, response] of responsesOf(doc, op)) {
      for (const [type, media] of Object.entries((response.content ?? {}) as Json)) addMedia(`${at} ${status} ${type}`, media);
      for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) addHeaderOrParameter(`${at} ${status} header ${name}`, header);
    }
  }
  for (const [status, response] of Object.entries((doc['x-global-responses'] ?? {}) as Json)) {
    for (const [type, media] of Object.entries((response.content ?? {}) as Json)) addMedia(`global ${status} ${type}`, media);
    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) addHeaderOrParameter(`global ${status} header ${name}`, header);
  }
  for (const [name, schema] of Object.entries((doc.components.schemas ?? {}) as Json)) {
    for (const value of schema.examples ?? []) cases.push({ where: `schema ${name}`, schema: { $ref: `#/components/schemas/${name}` }, value });
  }
  return cases;
}

describe.each(documents)('every example of %s', (_name, doc) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // The bundle is added as one schema document so that `#/components/...` refs resolve.
  ajv.addSchema({ ...doc, $id: bundleId });
  let cases: ExampleCase[] = [];
  beforeAll(() => {
    cases = exampleCases(doc);
  });

  it('exists for every media type, parameter and header', () => {
    expect(cases.length).toBeGreaterThan(doc === contract ? 100 : 20);
  });

  it('validates against its schema', () => {
    const failures: string[] = [];
    for (const { where, schema, value } of cases) {
      const validate = ajv.compile(rebase(schema));
      if (!validate(value)) failures.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(failures).toEqual([]);
  });

  it('is checked for real: a wrong value fails', () => {
    const login = doc === contract ? operationById(contract, 'login').op : operationsOf(doc)[0]!.op;
    const schema = (login.requestBody ?? {}).content?.['application/json']?.schema ?? { type: 'object' };
    const validate = ajv.compile(rebase(schema));
    expect(validate({ unexpected: true })).toBe(false);
  });
});

/** Points the bundle's local refs (`#/components/...`) at the bundle registered as `bundleId`. */
function rebase(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${bundleId}${value}` : value) as Json;
}
