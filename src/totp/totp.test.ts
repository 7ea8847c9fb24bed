import jsQRModule from 'jsqr';
import { generate } from 'otplib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, newSession, type TestApp } from '../../test/helpers.ts';
import { TOTP_LOCK_MS } from './lockout.ts';

type JsQR = (typeof jsQRModule)['default'];
const jsQR: JsQR = typeof jsQRModule === 'function' ? (jsQRModule as unknown as JsQR) : (jsQRModule as { default: JsQR }).default;

let t: TestApp;
// Limits ×10: this file makes many logins from one address; the limits have their own tests.
beforeAll(async () => { t = await buildTestApp({ config: { rateLimitMultiplier: 10 } }); });
afterAll(async () => t.close());
beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

/** A code for a step no earlier request of the test used (each step is accepted once). */
async function nextCode(secret: string): Promise<string> {
  t.clock.advance(30_000);
  return generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });
}
const wrong = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

async function enabledUser() {
  const s = await newSession(t);
  const prov = await t.request('/auth/totp/provision', { method: 'POST', token: s.token });
  expect(prov.status).toBe(200);
  const ver = await t.request('/auth/totp/verify', { json: { code: await nextCode(prov.body.secret) }, token: s.token });
  expect(ver.status).toBe(200);
  return { ...s, secret: prov.body.secret as string, backupCodes: ver.body.backup_codes as string[] };
}

const login = (user: { email: string; password: string }, totp_code?: string) =>
  t.request('/auth/login', { json: { email: user.email, password: user.password, ...(totp_code === undefined ? {} : { totp_code }) } });

describe('provisionTotp', () => {
  it('returns a 160-bit secret, its otpauth URI and a QR code of that URI, not cached', async () => {
    const { user, token } = await newSession(t);
    const res = await t.request('/auth/totp/provision', { method: 'POST', token });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(res.body.uri);
    expect(decodeURIComponent(uri.pathname)).toBe(`/Quazzar:${user.email}`);
    expect(uri.searchParams.get('secret')).toBe(res.body.secret);
    expect(uri.searchParams.get('issuer')).toBe('Quazzar');
    const png = PNG.sync.read(Buffer.from(res.body.qr_code.slice('data:image/png;base64,'.length), 'base64'));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(res.body.uri);
  });

  it('stores the secret encrypted, and provisioning again replaces the pending secret', async () => {
    const { user, token } = await newSession(t);
    const first = (await t.request('/auth/totp/provision', { method: 'POST', token })).body.secret as string;
    const row = await t.deps.db('users').where({ id: user.id }).first('totp_pending_secret_enc');
    expect(row.totp_pending_secret_enc).not.toContain(first);
    const second = (await t.request('/auth/totp/provision', { method: 'POST', token })).body.secret as string;
    expect(second).not.toBe(first);
    const stale = await t.request('/auth/totp/verify', { json: { code: await nextCode(first) }, token });
    expect(stale.status).toBe(422);
    expect(stale.body.code).toBe('invalid_totp_code');
    expect((await t.request('/auth/totp/verify', { json: { code: await nextCode(second) }, token })).status).toBe(200);
  });

  it('is 409 totp_already_enabled once TOTP is on', async () => {
    const u = await enabledUser();
    const res = await t.request('/auth/totp/provision', { method: 'POST', token: u.token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('totp_already_enabled');
  });
});

describe('verifyTotp', () => {
  it('is 409 totp_not_provisioned before provisioning', async () => {
    const { token } = await newSession(t);
    const res = await t.request('/auth/totp/verify', { json: { code: '123456' }, token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('totp_not_provisioned');
  });

  it('is 422 validation_failed for a code that is not 6 digits', async () => {
    const { token } = await newSession(t);
    const res = await t.request('/auth/totp/verify', { json: { code: 'abcdef12' }, token });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors[0].pointer).toBe('/code');
  });

  it('enables TOTP, returns 5 backup codes once, and revokes only the other sessions', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const prov = await t.request('/auth/totp/provision', { method: 'POST', token });
    const res = await t.request('/auth/totp/verify', { json: { code: await nextCode(prov.body.secret) }, token });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.message).toBe('TOTP successfully enabled');
    expect(new Set(res.body.backup_codes).size).toBe(5);
    const stored = await t.deps.db('backup_codes').where({ user_id: user.id }).pluck('code_hash');
    expect(stored).toHaveLength(5);
    for (const code of res.body.backup_codes) expect(stored).not.toContain(code);
    expect((await t.request('/users/me', { token })).body.totp_enabled).toBe(true);
    const revoked = await t.request('/users/me', { token: other });
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('invalid_token');
    const again = await t.request('/auth/totp/verify', { json: { code: await nextCode(prov.body.secret) }, token });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('totp_already_enabled');
  });
});

describe('verifyTotp revokes API keys (issue 17 defect 9, SEC 34)', () => {
  it('every key of the account ends, also one made by this session; the answer says what was revoked', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const mine = (await t.request('/users/me/api-keys', { token, json: { name: 'made here' } })).body.key as string;
    const theirs = (await t.request('/users/me/api-keys', { token: other, json: { name: 'made elsewhere' } })).body.key as string;
    const prov = await t.request('/auth/totp/provision', { method: 'POST', token });
    const res = await t.request('/auth/totp/verify', { json: { code: await nextCode(prov.body.secret) }, token });
    expect(res.status).toBe(200);
    expect(res.body.revoked).toEqual({ sessions: 1, api_keys: 2 });
    for (const key of [mine, theirs]) expect((await t.request('/users/me', { token: key })).status).toBe(401);
    expect((await t.request('/users/me', { token })).status).toBe(200);
  });
});

describe('login with TOTP', () => {
  it('asks for the code, refuses a wrong one, accepts a right one once (replay refused)', async () => {
    const u = await enabledUser();
    const none = await login(u.user);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('totp_required');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="quazzar"/);
    const code = await nextCode(u.secret);
    const bad = await login(u.user, wrong(code));
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid_totp_code');
    const ok = await login(u.user, code);
    expect(ok.status).toBe(200);
    expect(ok.body.user.totp_enabled).toBe(true);
    const replay = await login(u.user, code);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_totp_code');
  });

  it('a code used to verify cannot be replayed at login', async () => {
    const s = await newSession(t);
    const prov = await t.request('/auth/totp/provision', { method: 'POST', token: s.token });
    const code = await nextCode(prov.body.secret);
    expect((await t.request('/auth/totp/verify', { json: { code }, token: s.token })).status).toBe(200);
    expect((await login(s.user, code)).body.code).toBe('invalid_totp_code');
  });

  it('accepts a backup code exactly once', async () => {
    const u = await enabledUser();
    expect((await login(u.user, u.backupCodes[0])).status).toBe(200);
    const again = await login(u.user, u.backupCodes[0]);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('invalid_totp_code');
    expect((await login(u.user, u.backupCodes[1])).status).toBe(200);
  });

  it('20 concurrent logins with one backup code: exactly one 200', async () => {
    const u = await enabledUser();
    const results = await Promise.all(Array.from({ length: 20 }, () => login(u.user, u.backupCodes[2])));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others are wrong codes (401) or, once five of them failed, locked (429).
    for (const s of statuses) expect([200, 401, 429]).toContain(s);
  });

  it('the sixth wrong code in a row is locked (429 totp_locked, Retry-After), unlocked after 15 minutes', async () => {
    const u = await enabledUser();
    // Failures count together across login, verify and disable.
    for (let i = 0; i < 3; i++) expect((await login(u.user, wrong(await nextCode(u.secret)))).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const res = await t.request('/auth/totp', { method: 'DELETE', json: { code: wrong(await nextCode(u.secret)) }, token: u.token });
      expect(res.status).toBe(422);
    }
    const locked = await login(u.user, await nextCode(u.secret));
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('totp_locked');
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(TOTP_LOCK_MS / 1000);
    const lockedDisable = await t.request('/auth/totp', { method: 'DELETE', json: { code: u.backupCodes[0] }, token: u.token });
    expect(lockedDisable.status).toBe(429);
    expect(lockedDisable.body.code).toBe('totp_locked');
    t.clock.advance(retryAfter * 1000 - 31_000);
    expect((await login(u.user, await nextCode(u.secret))).status).toBe(429);
    t.clock.advance(1000);
    expect((await login(u.user, await nextCode(u.secret))).status).toBe(200);
  });
});

describe('disableTotp', () => {
  it('is 409 totp_not_enabled when TOTP is off', async () => {
    const { token } = await newSession(t);
    const res = await t.request('/auth/totp', { method: 'DELETE', json: { code: '123456' }, token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('totp_not_enabled');
  });

  it('refuses a wrong code (422), then disables with a right one and deletes secret and backup codes', async () => {
    const u = await enabledUser();
    const code = await nextCode(u.secret);
    const bad = await t.request('/auth/totp', { method: 'DELETE', json: { code: wrong(code) }, token: u.token });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('invalid_totp_code');
    const res = await t.request('/auth/totp', { method: 'DELETE', json: { code }, token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'TOTP disabled' });
    const row = await t.deps.db('users').where({ id: u.user.id }).first('totp_enabled', 'totp_secret_enc');
    expect(Boolean(row.totp_enabled)).toBe(false);
    expect(row.totp_secret_enc).toBeNull();
    expect(await t.deps.db('backup_codes').where({ user_id: u.user.id }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect((await login(u.user)).status).toBe(200);
  });

  it('accepts a backup code', async () => {
    const u = await enabledUser();
    expect((await t.request('/auth/totp', { method: 'DELETE', json: { code: u.backupCodes[4] }, token: u.token })).status).toBe(200);
  });

  it('is 422 validation_failed for a malformed code', async () => {
    const u = await enabledUser();
    const res = await t.request('/auth/totp', { method: 'DELETE', json: { code: 'ABC' }, token: u.token });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
  });
});

describe('TOTP operations need a session', () => {
  it('401 without a credential, 403 session_required with an API key', async () => {
    const { token } = await newSession(t);
    const key = (await t.request('/users/me/api-keys', { json: { name: 'ci' }, token })).body.key as string;
    const calls = [
      { path: '/auth/totp/provision', method: 'POST' },
      { path: '/auth/totp/verify', method: 'POST', json: { code: '123456' } },
      { path: '/auth/totp', method: 'DELETE', json: { code: '123456' } },
    ];
    for (const call of calls) {
      const anonymous = await t.request(call.path, call);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe('authentication_required');
      const withKey = await t.request(call.path, { ...call, token: key });
      expect(withKey.status).toBe(403);
      expect(withKey.body.code).toBe('session_required');
    }
  });
});
