import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadContract } from './contract.ts';
import type { Exchange } from './types.ts';
import { validateExchange } from './validate-exchange.ts';

// The Problem schema's own words: `type` is …/problems/<code>; validation_failed names fields.

const contract = loadContract(fileURLToPath(new URL('../../generated/openapi.json', import.meta.url)));
const login = contract.operation('login');

function answer(body: Record<string, unknown>): Exchange {
  return {
    id: 1,
    checkId: 'test',
    client: 'self',
    request: { method: 'POST', url: 'http://x/auth/login', headers: {}, bodyBytes: 0 },
    status: 422,
    headers: { 'content-type': 'application/problem+json', 'ratelimit-policy': '"login";q=10;w=60', ratelimit: '"login";r=9;t=60' },
    durationMs: 1,
    violations: [],
    body,
    text: JSON.stringify(body),
  };
}
const messages = (ex: Exchange) => validateExchange(contract, login, { allowed: ['POST'] }, ex).filter((v) => v.requirement === 'CONTRACT-PROBLEM').map((v) => v.message);
const base = { title: 'x', status: 422, detail: 'x', code: 'validation_failed' };

describe('problem rules', () => {
  it('accepts a validation_failed with its type and pointers', () => {
    expect(messages(answer({ ...base, type: 'https://app.quazzar.space/problems/validation_failed', errors: [{ pointer: '/email', detail: 'x' }] }))).toEqual([]);
  });
  it('refuses a type that does not end with the code', () => {
    expect(messages(answer({ ...base, type: 'https://app.quazzar.space/problems/bad_request', errors: [{ pointer: '/email', detail: 'x' }] }))[0]).toMatch(/does not end with its code/u);
  });
  it('refuses a validation_failed without errors[].pointer', () => {
    expect(messages(answer({ ...base, type: 'https://app.quazzar.space/problems/validation_failed' }))[0]).toMatch(/pointer/u);
    expect(messages(answer({ ...base, type: 'https://app.quazzar.space/problems/validation_failed', errors: [{ detail: 'x' }] }))[0]).toMatch(/pointer/u);
  });
});
