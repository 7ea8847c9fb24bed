import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, newSession, oversizedJson, untestedStatuses, type TestApp } from '../../test/helpers.ts';
import { saturateHashing } from '../hashing/test-support.ts';

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

const change = (token: string | undefined, json: unknown, extra: Parameters<TestApp['request']>[1] = {}) =>
  t.request('/auth/password/change', { method: 'POST', json, ...(token ? { token } : {}), ...extra });

describe('changePassword', () => {
  it('voids an outstanding reset token (issue #10 defect 9)', async () => {
    const { user, token } = await newSession(t);
    await t.request('/auth/password-reset/request', { json: { email: user.email } });
    const mail = await t.mailer.waitFor(user.email);
    const resetToken = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    expect((await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' })).status).toBe(200);
    const confirm = await t.request('/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'yet-another-long-passphrase' } });
    expect(confirm.status).toBe(400);
    expect(confirm.body.code).toBe('invalid_reset_token');
  });

  it('wrong current passwords spend the account\'s failed-login budget: once spent, 429 even for the right one (issue #10 defect 5)', async () => {
    const { user, token } = await newSession(t);
    const failures = t.deps.contract.operation('login').failureRateLimit!;
    // The authenticated budget (120/min per token) would allow more: move the clock past
    // its window now and then, never past the failure budget's (1 h).
    for (let i = 0; i < failures.limit; i++) {
      if (i > 0 && i % 50 === 0) t.clock.advance(61_000);
      const res = await change(token, { current_password: `wrong-current-${i}`, new_password: 'a-brand-new-long-passphrase' });
      expect(res.status).toBe(403);
    }
    t.clock.advance(61_000);
    const spent = await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' });
    expect(spent.status).toBe(429);
    expect(spent.headers.get('ratelimit-policy')).toBe(`"${failures.policy}";q=${failures.limit};w=${failures.window_seconds}`);
    // The login form is closed for the account too: one budget for every password guess.
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(429);
  });

  it('revokes every API key of the account, also one made by this session, and says what it revoked (issue 17 defect 9, SEC 34)', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const mine = (await t.request('/users/me/api-keys', { token, json: { name: 'made here' } })).body.key as string;
    const theirs = (await t.request('/users/me/api-keys', { token: other, json: { name: 'made elsewhere' } })).body.key as string;
    const spent = (await t.request('/users/me/api-keys', { token, json: { name: 'revoked before' } })).body.id as string;
    expect((await t.request(`/users/me/api-keys/${spent}`, { method: 'DELETE', token })).status).toBe(204);
    const res = await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Password changed', revoked: { sessions: 1, api_keys: 2 } });
    for (const key of [mine, theirs]) expect((await t.request('/users/me', { token: key })).status).toBe(401);
    expect((await t.request('/users/me', { token })).status).toBe(200);
    expect((await t.request('/users/me/api-keys', { token })).body).toMatchObject({ api_keys: [] });
  });

  it('200: the new password works, the old one not; other sessions revoked, this one kept', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const res = await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Password changed', revoked: { sessions: 1, api_keys: 0 } });
    expect((await t.request('/users/me', { token })).status).toBe(200);
    expect((await t.request('/users/me', { token: other })).status).toBe(401);
    await t.deps.limiter.reset('');
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await t.request('/auth/login', { json: { email: user.email, password: 'a-brand-new-long-passphrase' } })).status).toBe(200);
  });

  it('403 invalid_current_password', async () => {
    const { token } = await newSession(t);
    const res = await change(token, { current_password: 'not-my-password', new_password: 'a-brand-new-long-passphrase' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('invalid_current_password');
  });

  it('403 session_required for an API key', async () => {
    const { user, token } = await newSession(t);
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'k' } })).body.key;
    const res = await change(key, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_required');
  });

  it('422 weak_password (common, or the e-mail) and 422 validation_failed (too short, unknown field)', async () => {
    const { user, token } = await newSession(t);
    const common = await change(token, { current_password: user.password, new_password: 'qwertyuiopasdfgh' });
    expect(common.status).toBe(422);
    expect(common.body.code).toBe('weak_password');
    expect(common.body.errors[0].pointer).toBe('/new_password');
    const email = await change(token, { current_password: user.password, new_password: user.email });
    expect(email.body.code).toBe('weak_password');
    const short = await change(token, { current_password: user.password, new_password: 'short' });
    expect(short.status).toBe(422);
    expect(short.body.code).toBe('validation_failed');
    const extra = await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase', email: 'x@y.z' });
    expect(extra.status).toBe(422);
    expect(extra.body.errors).toContainEqual({ pointer: '/email', detail: 'is not a known or writable field' });
  });

  it('401 without or with a bad token', async () => {
    const none = await change(undefined, { current_password: 'x', new_password: 'a-brand-new-long-passphrase' });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('authentication_required');
    const bad = await change('not.a.jwt', { current_password: 'x', new_password: 'a-brand-new-long-passphrase' });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid_token');
  });

  it('400, 413, 415', async () => {
    const { token } = await newSession(t);
    expect((await t.request('/auth/password/change', { token, raw: '{"current_password":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await t.request('/auth/password/change', { token, raw: oversizedJson(t), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await t.request('/auth/password/change', { token, raw: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('429 when the token budget is spent, also for requests without a valid token (counted per IP)', async () => {
    const limit = t.deps.contract.operation('changePassword').rateLimit.limit;
    for (let i = 0; i < limit; i++) expect((await change('bad-token', { current_password: 'x', new_password: 'y' })).status).toBe(401);
    const res = await change('bad-token', { current_password: 'x', new_password: 'y' });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
  });

  it('503 service_unavailable with Retry-After when the hashing queue is full (src/hashing/)', async () => {
    const { user, token } = await newSession(t);
    const release = await saturateHashing();
    try {
      const res = await change(token, { current_password: user.password, new_password: 'a-brand-new-long-passphrase' });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await release();
    }
  });

  it('covers every status the contract documents for changePassword', () => {
    expect(untestedStatuses(t, 'changePassword')).toEqual([]);
  });
});
