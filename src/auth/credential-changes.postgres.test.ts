import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, newSession, type TestApp } from '../../test/helpers.ts';
import { runAdminCommand } from '../admin/commands.ts';
import { hashPassword } from './passwords.ts';

const url = process.env.TEST_DATABASE_URL;

// Issue 17 defects 7 and 9 on PostgreSQL: key revocation by a password change and by TOTP
// enrolment (SEC 34), and the admin list of stale hashes (SEC 32), paged by id.
describe.skipIf(url === undefined)('credential changes on PostgreSQL (skipped without TEST_DATABASE_URL=postgres://…)', () => {
  let t: TestApp;
  beforeAll(async () => { t = await buildTestApp({ usePostgres: true, config: { rateLimitMultiplier: 10 } }); });
  afterAll(async () => { await t?.close(); });
  beforeEach(async () => { await t.deps.limiter.reset(''); });

  const keyOf = async (token: string, name: string) => (await t.request('/users/me/api-keys', { token, json: { name } })).body.key as string;

  it('a password change revokes every API key and answers what it revoked', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const keys = [await keyOf(token, 'here'), await keyOf(other, 'there')];
    const res = await t.request('/auth/password/change', { json: { current_password: user.password, new_password: 'a-brand-new-long-passphrase' }, token });
    expect(res.status).toBe(200);
    expect(res.body.revoked).toEqual({ sessions: 1, api_keys: 2 });
    for (const key of keys) expect((await t.request('/users/me', { token: key })).status).toBe(401);
  });

  it('TOTP enrolment revokes every API key and answers what it revoked', async () => {
    const { user, token } = await newSession(t);
    const other = await loginUser(t, user);
    const keys = [await keyOf(token, 'here'), await keyOf(other, 'there')];
    const secret = (await t.request('/auth/totp/provision', { method: 'POST', token })).body.secret as string;
    t.clock.advance(30_000);
    const res = await t.request('/auth/totp/verify', { json: { code: await generate({ secret, epoch: Math.floor(t.clock.now() / 1000) }) }, token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.revoked).toEqual({ sessions: 1, api_keys: 2 });
    for (const key of keys) expect((await t.request('/users/me', { token: key })).status).toBe(401);
  });

  it('stale-hashes finds the accounts below the cost across pages', async () => {
    const stale: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { user } = await newSession(t);
      await t.deps.db('users').where({ id: user.id }).update({ password_hash: await hashPassword('whatever-password-x', 10) });
      stale.push(user.email);
    }
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await runAdminCommand(['stale-hashes'], t.deps.db, t.clock, io, { scryptLogN: 11 })).toBe(0);
    for (const email of stale) expect(out.join('\n')).toContain(email);
  });
});
