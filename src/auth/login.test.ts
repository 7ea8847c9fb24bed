import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { buildTestApp, oversizedJson, registerUser, untestedStatuses, type RegisteredUser, type TestApp } from '../../test/helpers.ts';
import { saturateHashing } from '../hashing/test-support.ts';
import { setUserActive } from '../users/repository.ts';

let t: TestApp;
let jane: RegisteredUser;
beforeAll(async () => {
  t = await buildTestApp({ env: { TRUST_PROXY: 'true' } });
  jane = await registerUser(t);
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

const login = (body: unknown, headers: Record<string, string> = {}) => t.request('/auth/login', { json: body, headers });

describe('login', () => {
  it('200 with the seed shape, a new session (new jti) each time, no-store', async () => {
    const a = await login({ email: jane.email, password: jane.password });
    expect(a.status).toBe(200);
    expect(a.body.token_type).toBe('bearer');
    expect(a.body.user).toEqual({ id: jane.id, email: jane.email, full_name: jane.full_name, is_active: true, totp_enabled: false });
    expect(a.headers.get('cache-control')).toBe('no-store');
    const b = await login({ email: jane.email.toUpperCase(), password: jane.password });
    expect(b.status).toBe(200);
    const [ca, cb] = [decodeJwt(a.body.access_token), decodeJwt(b.body.access_token)];
    expect(ca.jti).not.toBe(cb.jti);
    expect(ca).toMatchObject({ sub: jane.id, iss: 'https://app.quazzar.space', aud: 'quazzar-api' });
    expect((ca.exp ?? 0) - (ca.iat ?? 0)).toBe(t.deps.config.accessTokenTtlSeconds);
    expect(decodeProtectedHeader(a.body.access_token)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
  });

  it('401 invalid_credentials: one body for unknown e-mail and wrong password, with WWW-Authenticate', async () => {
    const wrong = await login({ email: jane.email, password: 'not-the-right-password' });
    const unknown = await login({ email: 'nobody-here@example.com', password: 'not-the-right-password' });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="quazzar"');
    }
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body.code).toBe('invalid_credentials');
  });

  it('403 account_deactivated only after the right password', async () => {
    const user = await registerUser(t);
    await setUserActive(t.deps.db, user.email, false, t.clock.now());
    const right = await login({ email: user.email, password: user.password });
    expect(right.status).toBe(403);
    expect(right.body.code).toBe('account_deactivated');
    const wrong = await login({ email: user.email, password: 'not-the-right-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
  });

  it('401 totp_required after the right password when TOTP is on', async () => {
    const user = await registerUser(t);
    // Turn TOTP on directly (the TOTP flows are tested in src/totp/): a sealed secret is needed.
    const { encryptSecret } = await import('../totp/secret-box.ts');
    await t.deps.db('users').where({ id: user.id }).update({
      totp_enabled: true,
      totp_secret_enc: encryptSecret(t.deps.keys.dataKey, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', user.id),
    });
    const res = await login({ email: user.email, password: user.password });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('totp_required');
    expect((await login({ email: user.email, password: 'not-the-right-password' })).body.code).toBe('invalid_credentials');
  });

  it('422 for missing fields, a bad totp_code shape and a 129-character password', async () => {
    const missing = await login({ email: jane.email });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ pointer: '/password', detail: 'is required' }]);
    expect((await login({ email: jane.email, password: 'x'.repeat(129) })).status).toBe(422);
    expect((await login({ email: jane.email, password: jane.password, totp_code: '12345' })).status).toBe(422);
  });

  it('400, 413, 415', async () => {
    expect((await t.request('/auth/login', { raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await t.request('/auth/login', { raw: oversizedJson(t), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await t.request('/auth/login', { raw: JSON.stringify({ email: jane.email, password: jane.password }), headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('the 11th login from one IP within a minute is 429 with the right Retry-After', async () => {
    const limit = t.deps.contract.operation('login').rateLimit.limit;
    const ip = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < limit; i++) {
      expect((await login({ email: jane.email, password: 'not-the-right-password' }, ip)).status).toBe(401);
      if (i === 0) t.clock.advance(20_000); // the window opened at the first request
    }
    const res = await login({ email: jane.email, password: jane.password }, ip);
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    expect(res.headers.get('retry-after')).toBe('40');
    expect(res.headers.get('ratelimit')).toBe('"login";r=0;t=40');
    // Another client is not affected; after Retry-After the same one succeeds.
    expect((await login({ email: jane.email, password: jane.password }, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
    t.clock.advance(40_000);
    expect((await login({ email: jane.email, password: jane.password }, ip)).status).toBe(200);
  });

  it('failed logins are also limited per account: once spent, even the right password gets 429', async () => {
    const user = await registerUser(t);
    const failures = t.deps.contract.operation('login').failureRateLimit!;
    for (let i = 0; i < failures.limit; i++) {
      // A new client address every time: only the per-account budget can stop this.
      const res = await login({ email: user.email, password: `wrong-password-${i}` }, { 'x-forwarded-for': `198.51.100.${i % 250}` });
      expect(res.status).toBe(401);
    }
    const res = await login({ email: user.email.toUpperCase(), password: user.password }, { 'x-forwarded-for': '192.0.2.1' });
    expect(res.status).toBe(429);
    expect(res.headers.get('ratelimit-policy')).toBe(`"${failures.policy}";q=${failures.limit};w=${failures.window_seconds}`);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(failures.window_seconds - 60);
    // Other accounts are unaffected.
    expect((await login({ email: jane.email, password: jane.password }, { 'x-forwarded-for': '192.0.2.1' })).status).toBe(200);
    t.clock.advance(failures.window_seconds * 1000);
    expect((await login({ email: user.email, password: user.password }, { 'x-forwarded-for': '192.0.2.1' })).status).toBe(200);
  });

  it('X-Forwarded-For is ignored without TRUST_PROXY', async () => {
    const plain = await buildTestApp();
    try {
      const limit = plain.deps.contract.operation('login').rateLimit.limit;
      for (let i = 0; i < limit; i++) {
        await plain.request('/auth/login', { json: { email: 'a@example.com', password: 'x' }, headers: { 'x-forwarded-for': `10.0.0.${i}` } });
      }
      const res = await plain.request('/auth/login', { json: { email: 'a@example.com', password: 'x' }, headers: { 'x-forwarded-for': '10.0.1.1' } });
      expect(res.status).toBe(429);
    } finally {
      await plain.close();
    }
  });

  it('503 service_unavailable with Retry-After when the hashing queue is full (src/hashing/)', async () => {
    const release = await saturateHashing();
    try {
      const res = await t.request('/auth/login', { json: { email: 'queued@example.com', password: 'any-password-at-all' } });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await release();
    }
  });

  it('covers every status the contract documents for login', () => {
    expect(untestedStatuses(t, 'login')).toEqual([]);
  });
});
