import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, newSession, registerUser, uniqueEmail, type TestApp } from '../../test/helpers.ts';
import { RESET_TOKEN_TTL_MS } from './reset-token.ts';

let t: TestApp;
beforeAll(async () => { t = await buildTestApp(); });
afterAll(async () => t.close());
beforeEach(async () => { await t.deps.limiter.reset('ip|'); });

const NEW_PASSWORD = 'a-brand-new-passphrase-42';
const requestReset = (email: string) => t.request('/auth/password-reset/request', { json: { email } });
const confirm = (token: string, new_password = NEW_PASSWORD) =>
  t.request('/auth/password-reset/confirm', { json: { token, new_password } });

/** Requests a reset and returns the token from the link in the mail (the mail is sent in the background). */
async function tokenFromMail(email: string, nth = 1): Promise<string> {
  expect((await requestReset(email)).status).toBe(200);
  const mail = await waitForNthMail(email, nth);
  const link = /(http\S+\/reset-password\?token=\S+)/.exec(mail.text)?.[1];
  expect(link).toBeDefined();
  const url = new URL(link!);
  expect(url.origin).toBe(t.deps.config.publicUrl);
  return url.searchParams.get('token')!;
}

async function waitForNthMail(to: string, nth: number) {
  for (let i = 0; i < 200; i++) {
    const mails = t.mailer.sent.filter((m) => m.to === to);
    if (mails.length >= nth) return mails[nth - 1]!;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`mail #${nth} to ${to} never arrived`);
}

describe('requestPasswordReset', () => {
  it('answers one byte-identical 200 for existing, unknown and deactivated addresses', async () => {
    const active = await registerUser(t);
    const inactive = await registerUser(t);
    await t.deps.db('users').where({ id: inactive.id }).update({ is_active: false });
    await t.deps.limiter.reset('ip|');
    const answers = [];
    for (const email of [active.email, uniqueEmail('nobody'), inactive.email]) {
      const res = await requestReset(email);
      expect(res.status).toBe(200);
      answers.push(JSON.stringify(res.body));
    }
    expect(new Set(answers).size).toBe(1);
    await t.mailer.waitFor(active.email);
    expect(t.mailer.sent.some((m) => m.to === inactive.email)).toBe(false);
  });

  it('stores only the SHA-256 of the token, which lives one hour', async () => {
    const user = await registerUser(t);
    const token = await tokenFromMail(user.email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await t.deps.db('password_reset_tokens').where({ user_id: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(Number(rows[0].expires_at) - Number(rows[0].created_at)).toBe(RESET_TOKEN_TTL_MS);
  });

  it('is 422 for an address that is not an e-mail', async () => {
    const res = await requestReset('not-an-address');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
  });

  it('is rate limited per IP (4th request in a window is 429)', async () => {
    const limit = t.deps.contract.operation('requestPasswordReset').rateLimit.limit;
    for (let i = 0; i < limit; i++) expect((await requestReset(uniqueEmail())).status).toBe(200);
    const res = await requestReset(uniqueEmail());
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('confirmPasswordReset', () => {
  it('sets the new password, revokes every session, and spends the token', async () => {
    const { user, token: session } = await newSession(t);
    const second = await loginUser(t, user);
    const token = await tokenFromMail(user.email);
    const res = await confirm(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Password has been reset' });
    for (const s of [session, second]) expect((await t.request('/users/me', { token: s })).status).toBe(401);
    await t.deps.limiter.reset('ip|');
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await t.request('/auth/login', { json: { email: user.email, password: NEW_PASSWORD } })).status).toBe(200);
    const reused = await confirm(token, 'yet-another-passphrase-77');
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('invalid_reset_token');
  });

  it('400 invalid_reset_token for unknown and malformed tokens', async () => {
    for (const token of ['A'.repeat(43), 'not a token at all', 'x']) {
      const res = await confirm(token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_reset_token');
      expect(JSON.stringify(res.body)).not.toContain(token === 'x' ? '"x"' : token);
    }
  });

  it('a weak password is 422 and does not spend the token', async () => {
    const user = await registerUser(t);
    const token = await tokenFromMail(user.email);
    const weak = await confirm(token, user.email.length >= 15 ? user.email : 'passwordpassword');
    expect(weak.status).toBe(422);
    expect(weak.body.code).toBe('weak_password');
    expect(weak.body.errors[0].pointer).toBe('/new_password');
    const short = await confirm(token, 'short');
    expect(short.status).toBe(422);
    expect(short.body.code).toBe('validation_failed');
    expect((await confirm(token)).status).toBe(200);
  });

  it('a newer request voids the older token', async () => {
    const user = await registerUser(t);
    const older = await tokenFromMail(user.email, 1);
    const newer = await tokenFromMail(user.email, 2);
    expect(newer).not.toBe(older);
    expect((await confirm(older)).body.code).toBe('invalid_reset_token');
    expect((await confirm(newer)).status).toBe(200);
  });

  it('expires after one hour (server clock)', async () => {
    const user = await registerUser(t);
    const token = await tokenFromMail(user.email);
    t.clock.advance(RESET_TOKEN_TTL_MS);
    const res = await confirm(token);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_reset_token');
  });

  it('concurrent confirms with one token: exactly one 200, the rest 400', async () => {
    const user = await registerUser(t);
    const token = await tokenFromMail(user.email);
    const limit = t.deps.contract.operation('confirmPasswordReset').rateLimit.limit;
    const results = await Promise.all(Array.from({ length: limit }, (_, i) => confirm(token, `${NEW_PASSWORD}-${i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(limit - 1);
  });
});
