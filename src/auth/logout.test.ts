import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, newSession, oversizedJson, untestedStatuses, type TestApp } from '../../test/helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

const logout = (token?: string, extra: Parameters<TestApp['request']>[1] = {}) =>
  t.request('/auth/logout', { method: 'POST', ...(token ? { token } : {}), ...extra });

describe('logout', () => {
  it('200 and the token is refused immediately afterwards; other sessions live on', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    expect((await t.request('/users/me', { token })).status).toBe(200);
    const res = await logout(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Successfully logged out' });
    const after = await t.request('/users/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('invalid_token');
    expect(after.headers.get('www-authenticate')).toBe('Bearer realm="quazzar", error="invalid_token"');
    expect((await logout(token)).status).toBe(401);
    expect((await t.request('/users/me', { token: other })).status).toBe(200);
  });

  it('401 authentication_required without a credential', async () => {
    const res = await logout();
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('authentication_required');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="quazzar"');
  });

  it('403 session_required for a valid API key', async () => {
    const { token } = await newSession(t);
    const created = await t.request('/users/me/api-keys', { token, json: { name: 'ci' } });
    expect(created.status).toBe(201);
    const res = await logout(created.body.key);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_required');
    expect((await t.request('/users/me', { token: created.body.key })).status).toBe(200);
  });

  it('400 for a malformed JSON body and 413 for an oversized one', async () => {
    const { token } = await newSession(t);
    expect((await logout(token, { raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await logout(token, { raw: oversizedJson(t), headers: { 'content-type': 'application/json' } })).status).toBe(413);
  });

  it('429 on the 121st authenticated call of one token within a minute', async () => {
    const { token } = await newSession(t);
    const limit = t.deps.contract.operation('logout').rateLimit.limit;
    for (let i = 0; i < limit; i++) expect((await t.request('/users/me', { token })).status).toBe(200);
    const res = await logout(token);
    expect(res.status).toBe(429);
    // Wall time passes during the 120 calls: Retry-After is what is left of the 60 s window.
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get('ratelimit')).toBe(`"authenticated";r=0;t=${retryAfter}`);
    t.clock.advance(retryAfter * 1000);
    expect((await logout(token)).status).toBe(200);
  });

  it('covers every status the contract documents for logout', () => {
    expect(untestedStatuses(t, 'logout')).toEqual([]);
  });
});
