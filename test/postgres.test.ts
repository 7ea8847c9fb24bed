import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, registerUser, uniqueEmail, STRONG_PASSWORD, type TestApp } from './helpers.ts';

const url = process.env.TEST_DATABASE_URL;

// CI sets TEST_DATABASE_URL to a PostgreSQL database; each run gets its own schema, dropped afterwards.
describe.skipIf(url === undefined)('core flows on PostgreSQL (skipped without TEST_DATABASE_URL=postgres://…)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ usePostgres: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs on PostgreSQL with the database limiter store', () => {
    expect(t.deps.config.database.client).toBe('pg');
    expect(t.deps.config.rateLimitStore).toBe('database');
  });

  it('register → login → me → patch → change password → logout', async () => {
    const user = await registerUser(t, { company_name: 'Acme Corp' });
    const token = await loginUser(t, user);
    const me = await t.request('/users/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: user.email, company_name: 'Acme Corp', is_active: true, totp_enabled: false });
    const patched = await t.request('/users/me', { method: 'PATCH', token, json: { phone: '+1-555-0200' } });
    expect(patched.body.phone).toBe('+1-555-0200');
    const changed = await t.request('/auth/password/change', { token, json: { current_password: user.password, new_password: 'another-long-passphrase' } });
    expect(changed.status).toBe(200);
    expect((await t.request('/auth/logout', { method: 'POST', token })).status).toBe(200);
    expect((await t.request('/users/me', { token })).status).toBe(401);
    expect((await t.request('/health')).status).toBe(200);
  });

  it('50 concurrent registrations of one address: exactly one 201 and 49 × 409', async () => {
    await t.deps.limiter.reset('');
    const config = t.deps.config as { rateLimitMultiplier: number };
    config.rateLimitMultiplier = 100;
    try {
      const email = uniqueEmail('pg-race');
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        t.request('/auth/register', { json: { email: i % 2 ? email.toUpperCase() : email, password: STRONG_PASSWORD, full_name: 'Race' } })));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    } finally {
      config.rateLimitMultiplier = 1;
    }
  });

  it('rate limits are shared through the database: the 6th registration is 429', async () => {
    await t.deps.limiter.reset('');
    const limit = t.deps.contract.operation('register').rateLimit.limit;
    for (let i = 0; i < limit; i++) await registerUser(t);
    const res = await t.request('/auth/register', { json: { email: uniqueEmail(), password: STRONG_PASSWORD, full_name: 'X' } });
    expect(res.status).toBe(429);
    expect(await t.deps.db('rate_limits').count({ n: '*' })).not.toEqual([{ n: 0 }]);
  });
});
