import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';
import { runAdminCommand } from '../admin/commands.ts';

// Issue #10 defect 4: a stolen access token must not be enough to enrol an authenticator,
// disable TOTP or mint an API key. Those need a recent login (the contract's
// x-recent-authentication window) or the current password in the body.

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

const windowMs = () => Number(t.deps.contract.document['x-recent-authentication'].max_age_seconds) * 1000;
const codeNow = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });
const ageSession = () => t.clock.advance(windowMs() + 1000);

describe('recent authentication ("sudo mode")', () => {
  it('createApiKey: a fresh login is enough; an old session needs the current password', async () => {
    const { user, token } = await newSession(t);
    expect((await t.request('/users/me/api-keys', { token, json: { name: 'fresh' } })).status).toBe(201);
    ageSession();
    const refused = await t.request('/users/me/api-keys', { token, json: { name: 'stolen token' } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('reauthentication_required');
    const wrong = await t.request('/users/me/api-keys', { token, json: { name: 'guess', current_password: 'not-the-password-1' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('invalid_current_password');
    const ok = await t.request('/users/me/api-keys', { token, json: { name: 'owner', current_password: user.password } });
    expect(ok.status).toBe(201);
  });

  it('verifyTotp and disableTotp with an old session need the current password', async () => {
    const { user, token } = await newSession(t);
    const prov = await t.request('/auth/totp/provision', { method: 'POST', token });
    expect(prov.status).toBe(200);
    ageSession();
    const refused = await t.request('/auth/totp/verify', { token, json: { code: await codeNow(prov.body.secret) } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('reauthentication_required');
    const on = await t.request('/auth/totp/verify', { token, json: { code: await codeNow(prov.body.secret), current_password: user.password } });
    expect(on.status).toBe(200);
    ageSession();
    t.clock.advance(30_000);
    const off = await t.request('/auth/totp', { method: 'DELETE', token, json: { code: await codeNow(prov.body.secret) } });
    expect(off.status).toBe(403);
    expect(off.body.code).toBe('reauthentication_required');
    // The code was not even looked at: no failure was counted.
    expect(Number((await t.deps.db('users').where({ id: user.id }).first('totp_failed_count')).totp_failed_count)).toBe(0);
    const done = await t.request('/auth/totp', { method: 'DELETE', token, json: { code: await codeNow(prov.body.secret), current_password: user.password } });
    expect(done.status).toBe(200);
  });

  it('a password reset revokes every API key of the account', async () => {
    const { user, token } = await newSession(t);
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'k' } })).body.key as string;
    expect((await t.request('/users/me', { token: key })).status).toBe(200);
    await t.request('/auth/password-reset/request', { json: { email: user.email } });
    const mail = await t.mailer.waitFor(user.email);
    const resetToken = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    expect((await t.request('/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'a-brand-new-passphrase-42' } })).status).toBe(200);
    expect((await t.request('/users/me', { token: key })).status).toBe(401);
  });

  it('npm run admin -- totp-reset <email>: TOTP off, backup codes gone, sessions ended', async () => {
    const { user, token } = await newSession(t);
    const prov = await t.request('/auth/totp/provision', { method: 'POST', token });
    expect((await t.request('/auth/totp/verify', { token, json: { code: await codeNow(prov.body.secret) } })).status).toBe(200);
    const out: string[] = [];
    const code = await runAdminCommand(['totp-reset', user.email], t.deps.db, t.clock, { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    expect(out.join()).toContain('TOTP is off');
    expect((await t.request('/users/me', { token })).status).toBe(401);
    const login = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    expect(login.body.user.totp_enabled).toBe(false);
    expect(await t.deps.db('backup_codes').where({ user_id: user.id }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });
});
