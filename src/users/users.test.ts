import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, oversizedJson, untestedStatuses, type TestApp } from '../../test/helpers.ts';
import { setUserActive } from './repository.ts';

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

const patch = (token: string | undefined, json: unknown, extra: Parameters<TestApp['request']>[1] = {}) =>
  t.request('/users/me', { method: 'PATCH', json, ...(token ? { token } : {}), ...extra });

describe('getCurrentUser / updateCurrentUser', () => {
  it('GET 200 with the User schema, by session and by API key', async () => {
    const { user, token } = await newSession(t, { company_name: 'Acme Corp' });
    const res = await t.request('/users/me', { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: user.id, email: user.email, full_name: user.full_name, company_name: 'Acme Corp', phone: null,
      is_active: true, totp_enabled: false, created_at: expect.any(String),
    });
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'reader' } })).body.key;
    expect((await t.request('/users/me', { token: key })).body.id).toBe(user.id);
  });

  it('PATCH 200 updates the writable fields, null clears; by API key too', async () => {
    const { token } = await newSession(t);
    const res = await patch(token, { full_name: 'Jane M. Developer', phone: '+1-555-0200', company_name: 'Acme' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ full_name: 'Jane M. Developer', phone: '+1-555-0200', company_name: 'Acme' });
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'writer' } })).body.key;
    const cleared = await patch(key, { company_name: null, phone: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ company_name: null, phone: null, full_name: 'Jane M. Developer' });
  });

  it('PATCH 422 on mass assignment: email, is_active, totp_enabled, id, created_at; nothing changes', async () => {
    const { user, token } = await newSession(t);
    for (const field of [{ email: 'evil@example.com' }, { is_active: false }, { totp_enabled: true }, { id: 'x' }, { created_at: '2020-01-01T00:00:00Z' }]) {
      const res = await patch(token, { full_name: 'Mallory', ...field });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toContainEqual({ pointer: `/${Object.keys(field)[0]}`, detail: 'is not a known or writable field' });
    }
    const me = await t.request('/users/me', { token });
    expect(me.body).toMatchObject({ email: user.email, full_name: user.full_name, is_active: true, totp_enabled: false });
  });

  it('PATCH 422 for an empty object, a bad phone, an empty name', async () => {
    const { token } = await newSession(t);
    expect((await patch(token, {})).status).toBe(422);
    const phone = await patch(token, { phone: 'call me maybe' });
    expect(phone.status).toBe(422);
    expect(phone.body.errors[0].pointer).toBe('/phone');
    expect((await patch(token, { full_name: '' })).status).toBe(422);
  });

  it('PATCH 400, 413, 415', async () => {
    const { token } = await newSession(t);
    expect((await t.request('/users/me', { method: 'PATCH', token, raw: '{"full_name"', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await t.request('/users/me', { method: 'PATCH', token, raw: oversizedJson(t), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await t.request('/users/me', { method: 'PATCH', token, raw: 'full_name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
  });

  it('401 without a token, with a bad one, and for a deactivated account (session and API key)', async () => {
    const none = await t.request('/users/me');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('authentication_required');
    expect((await patch(undefined, { full_name: 'x' })).status).toBe(401);
    const { user, token } = await newSession(t);
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'k' } })).body.key;
    await setUserActive(t.deps.db, user.email, false, t.clock.now());
    for (const credential of [token, key, key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')]) {
      const res = await t.request('/users/me', { token: credential });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_token');
    }
  });

  it('429 on the 121st call of one token; another token has its own budget', async () => {
    const { user, token } = await newSession(t);
    const { token: second } = await newSession(t);
    const limit = t.deps.contract.operation('getCurrentUser').rateLimit.limit;
    for (let i = 0; i < limit; i++) expect((await t.request('/users/me', { token })).status).toBe(200);
    expect((await t.request('/users/me', { token })).status).toBe(429);
    expect((await patch(token, { full_name: 'x' })).status).toBe(429);
    expect((await t.request('/users/me', { token: second })).status).toBe(200);
    expect(user.id).toBeTruthy();
  });

  it('covers every status the contract documents for both operations', () => {
    expect(untestedStatuses(t, 'getCurrentUser')).toEqual([]);
    expect(untestedStatuses(t, 'updateCurrentUser')).toEqual([]);
  });
});
