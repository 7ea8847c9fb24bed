import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';

// The backend skips Ajv where an operation has nothing to validate (no body, no parameters,
// no query string); these pin that everything refusable is still refused.
let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await buildTestApp();
  token = (await newSession(t)).token;
});
afterAll(async () => t?.close());

describe('request validation where it can refuse something', () => {
  it('a bodiless GET without parameters answers 200 (nothing to validate)', async () => {
    expect((await t.request('/users/me', { token })).status).toBe(200);
  });

  it('an undeclared query parameter (a cache-buster) is ignored, not refused: 200 like without it', async () => {
    const res = await t.request('/users/me?_=1700000000&x=1', { token });
    expect(res.status).toBe(200);
    expect(res.body.email).toBeTypeOf('string');
    expect((await t.request('/health?probe=1')).status).toBe(200);
  });

  it('a path parameter that is not a UUID is still 422', async () => {
    const res = await t.request('/projects/not-a-uuid', { token });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
  });

  it('a body is still validated (PATCH with an unknown field)', async () => {
    const res = await t.request('/users/me', { method: 'PATCH', json: { email: 'x@example.com' }, token });
    expect(res.status).toBe(422);
  });
});
