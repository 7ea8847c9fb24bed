import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, registerUser, uniqueEmail, type TestApp } from '../../test/helpers.ts';
import { hashParams } from '../auth/passwords.ts';
import { isHarnessToken } from './harness-token.ts';

const TOKEN = 'harness-token-for-tests-0123456789';

describe('harness disabled (no HARNESS_TOKEN)', () => {
  let t: TestApp;
  beforeAll(async () => { t = await buildTestApp(); });
  afterAll(async () => t.close());

  it('answers 404 problem+json on every /__harness path, token or not', async () => {
    for (const [path, method] of [['/__harness/clock', 'GET'], ['/__harness/clock/advance', 'POST'], ['/__harness', 'GET'], ['/__harness/nope', 'DELETE']] as const) {
      const res = await t.request(path, { method, token: TOKEN, ...(method === 'POST' ? { json: { seconds: 60 } } : {}) });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('not_found');
    }
    expect(t.clock.offsetMs).toBe(0);
  });
});

describe('harness enabled', () => {
  let t: TestApp;
  const h = (path: string, opts: Parameters<TestApp['request']>[1] = {}) => t.request(`/__harness${path}`, { token: TOKEN, ...opts });
  beforeAll(async () => { t = await buildTestApp({ env: { HARNESS_TOKEN: TOKEN } }); });
  afterAll(async () => t.close());

  it('401 without its token, with a wrong one, and with a session token of the main API', async () => {
    const missing = await t.request('/__harness/clock');
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('authentication_required');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="quazzar"/);
    const wrong = await t.request('/__harness/clock', { token: `${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_token');
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const { token } = await newSession(t);
    expect((await t.request('/__harness/clock', { token })).status).toBe(401);
    const advance = await t.request('/__harness/clock/advance', { json: { seconds: 60 }, token: 'wrong-token-wrong-token' });
    expect(advance.status).toBe(401);
    expect(t.clock.offsetMs).toBe(0);
  });

  it('stores an account\'s password hash at a given scrypt cost; the password keeps working and login re-hashes it (SEC 32)', async () => {
    const user = await registerUser(t);
    const res = await h('/accounts/password-hash', { json: { email: user.email.toUpperCase(), password: user.password, log_n: 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: user.id, email: user.email, log_n: 1 });
    const stored = (await t.deps.db('users').where({ id: user.id }).first('password_hash')).password_hash as string;
    expect(hashParams(stored)).toMatchObject({ logN: 1 });
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(200);
    const upgraded = (await t.deps.db('users').where({ id: user.id }).first('password_hash')).password_hash as string;
    expect(hashParams(upgraded)?.logN).toBe(t.deps.config.scryptLogN);
    expect((await h('/accounts/password-hash', { json: { email: uniqueEmail(), password: 'x', log_n: 1 } })).body.code).toBe('user_not_found');
    expect((await h('/accounts/password-hash', { json: { email: user.email, password: 'x', log_n: 0 } })).status).toBe(422);
  });

  it('reads, advances and resets the server clock', async () => {
    const before = await h('/clock');
    expect(before.status).toBe(200);
    expect(before.body.offset_seconds).toBe(0);
    expect(Math.abs(Date.parse(before.body.now) - Date.now())).toBeLessThan(5000);
    const moved = await h('/clock/advance', { json: { seconds: 3600 } });
    expect(moved.status).toBe(200);
    expect(moved.body.offset_seconds).toBe(3600);
    expect(t.clock.offsetMs).toBe(3_600_000);
    expect((await h('/clock/advance', { json: { seconds: 0 } })).status).toBe(422);
    expect((await h('/clock/advance', { json: { seconds: -5 } })).status).toBe(422);
    const reset = await h('/clock/reset', { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(reset.body.offset_seconds).toBe(0);
    expect(t.clock.offsetMs).toBe(0);
  });

  it('injects a database fault into the health probe only, for server time, and clears it', async () => {
    expect((await t.request('/health')).status).toBe(200);
    const down = await h('/faults/database', { json: { unavailable_seconds: 60 } });
    expect(down.status).toBe(200);
    expect(Date.parse(down.body.unavailable_until) - t.clock.now()).toBeGreaterThan(55_000);
    const health = await t.request('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect((await newSession(t)).token).toBeTruthy(); // the data path still works
    t.clock.advance(60_000); // the fault lasts server time: past it, healthy again
    expect((await t.request('/health')).status).toBe(200);
    await h('/faults/database', { json: { unavailable_seconds: 3600 } });
    expect((await t.request('/health')).status).toBe(503);
    const cleared = await h('/faults/database', { json: { unavailable_seconds: 0 } });
    expect(cleared.body).toEqual({ unavailable_until: null });
    expect((await t.request('/health')).status).toBe(200);
    expect((await h('/faults/database', { json: { unavailable_seconds: 3601 } })).status).toBe(422);
    t.clock.reset();
  });

  it('advancing the clock expires access tokens', async () => {
    const { token } = await newSession(t);
    expect((await t.request('/users/me', { token })).status).toBe(200);
    await h('/clock/advance', { json: { seconds: t.deps.config.accessTokenTtlSeconds + 1 } });
    expect((await t.request('/users/me', { token })).status).toBe(401);
    await h('/clock/reset', { method: 'POST' });
  });

  it('deactivates and activates an account; 404 user_not_found for an unknown address', async () => {
    await t.deps.limiter.reset('ip|');
    const user = await registerUser(t);
    const off = await h('/accounts/deactivate', { json: { email: user.email.toUpperCase() } });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ id: user.id, email: user.email, is_active: false });
    const login = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('account_deactivated');
    const on = await h('/accounts/activate', { json: { email: user.email } });
    expect(on.body.is_active).toBe(true);
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(200);
    const unknown = await h('/accounts/deactivate', { json: { email: uniqueEmail('ghost') } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('user_not_found');
  });

  it('resets the rate-limit budgets of one IP', async () => {
    await t.deps.limiter.reset('ip|');
    const limit = t.deps.contract.operation('requestPasswordReset').rateLimit.limit;
    for (let i = 0; i < limit; i++) await t.request('/auth/password-reset/request', { json: { email: uniqueEmail() } });
    expect((await t.request('/auth/password-reset/request', { json: { email: uniqueEmail() } })).status).toBe(429);
    const res = await h('/rate-limits/reset', { json: { ip: '127.0.0.1' } });
    expect(res.status).toBe(200);
    expect(res.body.reset).toBeGreaterThanOrEqual(1);
    expect((await t.request('/auth/password-reset/request', { json: { email: uniqueEmail() } })).status).toBe(200);
    expect((await h('/rate-limits/reset', { json: {} })).status).toBe(422);
  });

  it('answers the API\'s errors: 404, 405 with Allow, 415, 400, 413, 422', async () => {
    expect((await h('/nope')).status).toBe(404);
    const wrongMethod = await h('/clock', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    const text = await h('/clock/advance', { raw: 'seconds=5', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const broken = await h('/clock/advance', { raw: '{"seconds":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('malformed_json');
    const huge = await h('/accounts/deactivate', { json: { email: `${'a'.repeat(20_000)}@example.com` } });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('payload_too_large');
    const extra = await h('/accounts/deactivate', { json: { email: 'a@example.com', is_admin: true } });
    expect(extra.status).toBe(422);
    expect(extra.body.code).toBe('validation_failed');
  });
});

describe('isHarnessToken', () => {
  it('accepts only the exact token as a Bearer credential', () => {
    expect(isHarnessToken(TOKEN, `Bearer ${TOKEN}`)).toBe(true);
    expect(isHarnessToken(TOKEN, `bearer ${TOKEN}`)).toBe(true);
    for (const bad of [undefined, '', 'Bearer ', `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}0`, TOKEN]) {
      expect(isHarnessToken(TOKEN, bad)).toBe(false);
    }
  });
});
