import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, registerUser, type TestApp } from './helpers.ts';

const url = process.env.TEST_DATABASE_URL;

// Part 2's atomic steps (backup codes, reset tokens, TOTP steps) under real concurrency:
// PostgreSQL runs the racing requests on separate pooled connections, SQLite serialises them.
describe.skipIf(url === undefined)('part 2 on PostgreSQL (skipped without TEST_DATABASE_URL=postgres://…)', () => {
  let t: TestApp;
  beforeAll(async () => { t = await buildTestApp({ usePostgres: true, config: { rateLimitMultiplier: 10 } }); });
  afterAll(async () => { await t?.close(); });
  beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

  const code = async (secret: string) => {
    t.clock.advance(30_000);
    return generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });
  };
  const login = (u: { email: string; password: string }, totp_code?: string) =>
    t.request('/auth/login', { json: { email: u.email, password: u.password, ...(totp_code ? { totp_code } : {}) } });

  it('TOTP: enable, log in once per code, one winner among 20 concurrent logins with one backup code', async () => {
    const { user, token } = await newSession(t);
    const secret = (await t.request('/auth/totp/provision', { method: 'POST', token })).body.secret as string;
    const verified = await t.request('/auth/totp/verify', { json: { code: await code(secret) }, token });
    expect(verified.status).toBe(200);
    const c = await code(secret);
    const sameCode = await Promise.all(Array.from({ length: 5 }, () => login(user, c)));
    expect(sameCode.filter((r) => r.status === 200)).toHaveLength(1);
    t.clock.advance(15 * 60_000); // past any lock the losers caused
    const backup = verified.body.backup_codes[0] as string;
    const results = await Promise.all(Array.from({ length: 20 }, () => login(user, backup)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('TOTP lockout under real concurrency: 20 parallel wrong codes, at most 5 checked (issue #10 defect 3)', async () => {
    const { token } = await newSession(t);
    const secret = (await t.request('/auth/totp/provision', { method: 'POST', token })).body.secret as string;
    const right = await code(secret);
    expect((await t.request('/auth/totp/verify', { json: { code: right }, token })).status).toBe(200);
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request('/auth/totp', { method: 'DELETE', json: { code: wrong }, token })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 422).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - statuses.filter((s) => s === 422).length);
  });

  it('password reset: concurrent confirms give exactly one 200', async () => {
    const user = await registerUser(t);
    await t.request('/auth/password-reset/request', { json: { email: user.email } });
    const mail = await t.mailer.waitFor(user.email);
    const token = new URL(/(http\S+)/.exec(mail.text)![1]!).searchParams.get('token')!;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      t.request('/auth/password-reset/confirm', { json: { token, new_password: `pg-reset-passphrase-${i}` } })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(9);
  });

  it('projects and scoped API keys: scope enforced, revocation immediate', async () => {
    const { token } = await newSession(t);
    const p1 = (await t.request('/projects', { json: { name: 'one' }, token })).body.id as string;
    const p2 = (await t.request('/projects', { json: { name: 'two' }, token })).body.id as string;
    const created = await t.request('/users/me/api-keys', { json: { name: 'ci', project_ids: [p1] }, token });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await t.request(`/projects/${p1}`, { token: key })).status).toBe(200);
    expect((await t.request(`/projects/${p2}`, { token: key })).status).toBe(403);
    expect((await t.request('/users/me/api-keys', { token })).body.api_keys[0].project_ids).toEqual([p1]);
    expect((await t.request(`/users/me/api-keys/${created.body.id}`, { method: 'DELETE', token })).status).toBe(204);
    expect((await t.request('/projects', { token: key })).status).toBe(401);
  });
});
