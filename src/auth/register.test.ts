import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, oversizedJson, STRONG_PASSWORD, uniqueEmail, untestedStatuses, type TestApp } from '../../test/helpers.ts';
import { saturateHashing } from '../hashing/test-support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});
// The register budget is 5 per minute per IP; each test starts with a fresh one.
beforeEach(async () => {
  await t.deps.limiter.reset('ip|');
});

const body = (over: Record<string, unknown> = {}) => ({ email: uniqueEmail(), password: STRONG_PASSWORD, full_name: 'Jane Developer', ...over });

describe('register', () => {
  it('201 with exactly the seed fields', async () => {
    const b = body({ company_name: 'Acme Corp' });
    const res = await t.request('/auth/register', { json: b });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'email', 'full_name', 'id', 'is_active']);
    expect(res.body).toMatchObject({ email: b.email, full_name: 'Jane Developer', is_active: true });
    const row = await t.deps.db('users').where({ id: res.body.id }).first();
    expect(row.password_hash).not.toContain(STRONG_PASSWORD);
    expect(row.company_name).toBe('Acme Corp');
  });

  it('409 email_taken for the same address in another case', async () => {
    const b = body();
    expect((await t.request('/auth/register', { json: b })).status).toBe(201);
    const res = await t.request('/auth/register', { json: { ...b, email: b.email.toUpperCase() } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('email_taken');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('two users with the same password get different hashes', async () => {
    const a = await t.request('/auth/register', { json: body() });
    const b = await t.request('/auth/register', { json: body() });
    const rows = await t.deps.db('users').whereIn('id', [a.body.id, b.body.id]).select('password_hash');
    expect(rows).toHaveLength(2);
    expect(rows[0].password_hash).not.toBe(rows[1].password_hash);
  });

  it('422 weak_password for a common password and for the e-mail itself, without echoing it', async () => {
    const common = await t.request('/auth/register', { json: body({ password: 'passwordpassword' }) });
    expect(common.status).toBe(422);
    expect(common.body.code).toBe('weak_password');
    expect(common.body.errors).toEqual([{ pointer: '/password', detail: expect.any(String) }]);
    expect(JSON.stringify(common.body)).not.toContain('passwordpassword');

    const email = 'someone.with.a.long.address@example.com';
    const same = await t.request('/auth/register', { json: body({ email, password: email.toUpperCase() }) });
    expect(same.status).toBe(422);
    expect(same.body.code).toBe('weak_password');
  });

  it('422 validation_failed with pointers: short password, bad e-mail, missing and unknown fields', async () => {
    const res = await t.request('/auth/register', { json: { email: 'not-an-email', password: 'short', is_active: false } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(['/email', '/full_name', '/is_active', '/password']);
    expect(JSON.stringify(res.body)).not.toContain('short"');
  });

  it('422 for a 129-character password (never hashed)', async () => {
    const res = await t.request('/auth/register', { json: body({ password: 'x'.repeat(129) }) });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].pointer).toBe('/password');
  });

  it('accepts 15 characters of any Unicode, untrimmed', async () => {
    const password = '  ünïcødé-пароль ';
    const b = body({ password });
    expect((await t.request('/auth/register', { json: b })).status).toBe(201);
    const login = await t.request('/auth/login', { json: { email: b.email, password } });
    expect(login.status).toBe(200);
    const trimmed = await t.request('/auth/login', { json: { email: b.email, password: password.trim() } });
    expect(trimmed.status).toBe(401);
  });

  it('400 malformed_json, 415 unsupported_media_type, 413 payload_too_large', async () => {
    const bad = await t.request('/auth/register', { raw: '{"email": "a@b.c", "password": "secret-value-xyz"', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('malformed_json');
    expect(JSON.stringify(bad.body)).not.toContain('secret-value-xyz');

    const scalar = await t.request('/auth/register', { raw: '"just a string"', headers: { 'content-type': 'application/json' } });
    expect(scalar.status).toBe(400);

    const form = await t.request('/auth/register', { raw: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body.code).toBe('unsupported_media_type');

    const big = await t.request('/auth/register', { raw: oversizedJson(t), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('payload_too_large');
  });

  it('the 6th registration from one address in a minute is 429 with Retry-After and RateLimit headers', async () => {
    const limit = t.deps.contract.operation('register').rateLimit.limit;
    for (let i = 0; i < limit; i++) {
      const res = await t.request('/auth/register', { json: body() });
      expect(res.status).toBe(201);
      expect(res.headers.get('ratelimit')).toBe(`"register";r=${limit - i - 1};t=60`);
      expect(res.headers.get('ratelimit-policy')).toBe(`"register";q=${limit};w=60`);
    }
    const res = await t.request('/auth/register', { json: body() });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.headers.get('ratelimit')).toBe('"register";r=0;t=60');
    t.clock.advance(60_000);
    expect((await t.request('/auth/register', { json: body() })).status).toBe(201);
  });

  it('50 concurrent registrations of one address: exactly one 201 and 49 × 409', async () => {
    // Budgets are per IP: lift this one so that the race, not the limiter, decides.
    const config = t.deps.config as { rateLimitMultiplier: number };
    config.rateLimitMultiplier = 100;
    try {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => t.request('/auth/register', { json: body({ email: i % 2 === 0 ? email : email.toUpperCase() }) })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      expect(await t.deps.db('users').whereRaw('lower(email) = ?', [email.toLowerCase()]).count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      config.rateLimitMultiplier = 1;
    }
  });

  it('503 service_unavailable with Retry-After when the hashing queue is full (src/hashing/)', async () => {
    const release = await saturateHashing();
    try {
      const res = await t.request('/auth/register', { json: { email: uniqueEmail(), password: STRONG_PASSWORD, full_name: 'Queued' } });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await release();
    }
  });

  it('covers every status the contract documents for register', () => {
    expect(untestedStatuses(t, 'register')).toEqual([]);
  });
});
