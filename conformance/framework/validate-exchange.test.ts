import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadContract } from './contract.ts';
import type { Exchange } from './types.ts';
import { validateExchange } from './validate-exchange.ts';

const contract = loadContract(fileURLToPath(new URL('../../generated/openapi.json', import.meta.url)));

function exchange(over: Partial<Exchange> & { status: number; body?: unknown }): Exchange {
  const text = over.text ?? (over.body === undefined ? '' : JSON.stringify(over.body));
  return {
    id: 1,
    checkId: 'test',
    client: 'self',
    request: { method: 'POST', url: 'http://x/auth/login', headers: {}, bodyBytes: 0 },
    headers: {},
    durationMs: 1,
    violations: [],
    ...over,
    body: over.body,
    text,
  };
}

const problem = (status: number, code: string) => ({
  type: `https://app.quazzar.space/problems/${code}`,
  title: 'x',
  status,
  detail: 'x',
  code,
});
const json = { 'content-type': 'application/json; charset=utf-8' };
const problemJson = { 'content-type': 'application/problem+json' };
const rateHeaders = { 'ratelimit-policy': '"login";q=10;w=60', ratelimit: '"login";r=9;t=60' };
const login = contract.operation('login');
const ids = (ex: Exchange, op = login) => validateExchange(contract, op, { allowed: [op.method] }, ex).map((v) => v.requirement);

const goodLogin = {
  access_token: 'eyJ.x.y',
  token_type: 'bearer',
  user: { id: '550e8400-e29b-41d4-a716-446655440000', email: 'jane@example.com', full_name: 'Jane', is_active: true, totp_enabled: false },
};

describe('validateExchange', () => {
  it('accepts a conforming login answer', () => {
    expect(ids(exchange({ status: 200, headers: { ...json, ...rateHeaders, 'cache-control': 'no-store' }, body: goodLogin }))).toEqual([]);
  });

  it('flags a body that breaks the schema (token_type missing)', () => {
    const { token_type: _, ...missing } = goodLogin;
    expect(ids(exchange({ status: 200, headers: { ...json, ...rateHeaders, 'cache-control': 'no-store' }, body: missing }))).toEqual(['CONTRACT-SCHEMA']);
  });

  it('flags an undocumented status, and 5xx', () => {
    expect(ids(exchange({ status: 201, headers: { ...json, ...rateHeaders, 'cache-control': 'no-store' }, body: goodLogin }))).toContain('CONTRACT-STATUS');
    expect(ids(exchange({ status: 500, headers: problemJson, body: problem(500, 'internal_error') }))).toContain('CONTRACT-NO-5XX');
  });

  it('flags an error that is not problem+json, or whose status differs', () => {
    expect(ids(exchange({ status: 401, headers: { ...json, 'www-authenticate': 'Bearer realm="quazzar"' }, body: problem(401, 'invalid_credentials') }))).toContain('CONTRACT-PROBLEM');
    expect(ids(exchange({ status: 401, headers: { ...problemJson, 'www-authenticate': 'Bearer realm="quazzar"' }, body: problem(403, 'invalid_credentials') }))).toContain('CONTRACT-PROBLEM');
  });

  it('flags missing required headers: WWW-Authenticate on 401, Retry-After on 429', () => {
    expect(ids(exchange({ status: 401, headers: problemJson, body: problem(401, 'invalid_credentials') }))).toContain('CONTRACT-HEADERS');
    const limited = exchange({ status: 429, headers: { ...problemJson, ...rateHeaders }, body: problem(429, 'rate_limited') });
    expect(ids(limited)).toContain('CONTRACT-HEADERS');
    expect(ids({ ...limited, headers: { ...limited.headers, 'retry-after': '12' } })).toEqual([]);
    expect(ids({ ...limited, headers: { ...limited.headers, 'retry-after': 'soon' } })).toContain('CONTRACT-HEADERS');
  });

  it('judges requests outside the operations: unknown path → 404, wrong method → 405 with Allow', () => {
    const notFound = exchange({ status: 404, headers: problemJson, body: problem(404, 'not_found') });
    expect(validateExchange(contract, undefined, { allowed: [] }, notFound)).toEqual([]);
    expect(validateExchange(contract, undefined, { allowed: [] }, { ...notFound, status: 200 }).map((v) => v.requirement)).toContain('CONTRACT-STATUS');
    const wrong = exchange({ status: 405, headers: problemJson, body: problem(405, 'method_not_allowed') });
    expect(validateExchange(contract, undefined, { allowed: ['POST'] }, wrong).map((v) => v.requirement)).toEqual(['CONTRACT-ALLOW']);
    expect(validateExchange(contract, undefined, { allowed: ['POST'] }, { ...wrong, headers: { ...wrong.headers, allow: 'POST' } })).toEqual([]);
  });

  it('flags a body on a status documented without one (204)', () => {
    const revoke = contract.operation('revokeApiKey');
    const ex = exchange({ status: 204, headers: { ...json, 'ratelimit-policy': '"authenticated";q=120;w=60', ratelimit: '"authenticated";r=1;t=3' }, body: { ok: true } });
    expect(ids(ex, revoke)).toContain('CONTRACT-MEDIA-TYPE');
  });
});
