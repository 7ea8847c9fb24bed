import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, loginUser, registerUser, type TestApp } from '../../test/helpers.ts';
import { setUserActive } from '../users/repository.ts';
import { startPasswordReset } from './request-password-reset.ts';
import { issueResetToken } from './reset-token-store.ts';
import { hashResetToken, RESET_TOKEN_TTL_MS } from './reset-token.ts';

/**
 * Issue 17 defects 4 and 5 (SEC 30): one live reset token per account, enforced by the
 * database on SQLite and PostgreSQL alike; a confirm voids the others; deactivation voids
 * them; a confirm on a deactivated account is 400 invalid_reset_token.
 */
const pgUrl = process.env.TEST_DATABASE_URL;
const databases = [
  { name: 'SQLite', usePostgres: false, skip: false },
  { name: 'PostgreSQL (skipped without TEST_DATABASE_URL=postgres://…)', usePostgres: true, skip: pgUrl === undefined },
];

const NEW_PASSWORD = 'a-brand-new-passphrase-42';

for (const db of databases) {
  describe.skipIf(db.skip)(`reset token lifecycle on ${db.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      // Recipient budget ×100: these tests issue more than 3 tokens per address on purpose.
      t = await buildTestApp({ usePostgres: db.usePostgres, env: { RATE_LIMIT_MULTIPLIER: '100' } });
    });
    afterAll(async () => t?.close());
    beforeEach(async () => { await t.deps.limiter.reset(''); });

    const liveRows = (userId: string) => t.deps.db('password_reset_tokens').where({ user_id: userId }).whereNull('used_at');
    const confirm = (token: string, new_password = NEW_PASSWORD) =>
      t.request('/auth/password-reset/confirm', { json: { token, new_password } });
    const lastTokenFor = (email: string): string => {
      const mail = [...t.mailer.sent].reverse().find((m) => m.to === email);
      return new URL(/(http\S+\/reset-password\?token=\S+)/.exec(mail!.text)![1]!).searchParams.get('token')!;
    };

    it('concurrent reset requests for one account leave exactly one live token', async () => {
      const user = await registerUser(t);
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 8 }, () => startPasswordReset(t.deps, user.email)));
        expect(await liveRows(user.id)).toHaveLength(1);
      }
    });

    it('the database refuses a second unused token for one account', async () => {
      const user = await registerUser(t);
      await issueResetToken(t.deps.db, user.id, t.clock.now());
      const now = t.clock.now();
      await expect(t.deps.db('password_reset_tokens').insert({
        id: randomUUID(), user_id: user.id, token_hash: hashResetToken(randomUUID()), created_at: now, expires_at: now + RESET_TOKEN_TTL_MS, used_at: null,
      })).rejects.toThrow(/unique|duplicate/i);
      expect(await liveRows(user.id)).toHaveLength(1);
    });

    it('a confirm leaves the account no unused token', async () => {
      const user = await registerUser(t);
      await startPasswordReset(t.deps, user.email);
      await t.mailer.waitFor(user.email);
      expect((await confirm(lastTokenFor(user.email))).status).toBe(200);
      expect(await liveRows(user.id)).toHaveLength(0);
    });

    it('deactivation voids the pending token: confirm is 400 and the old password works after reactivation', async () => {
      const user = await registerUser(t);
      await startPasswordReset(t.deps, user.email);
      await t.mailer.waitFor(user.email);
      const token = lastTokenFor(user.email);
      await setUserActive(t.deps.db, user.email, false, t.clock.now());
      expect(await liveRows(user.id)).toHaveLength(0);
      const res = await confirm(token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_reset_token');
      await setUserActive(t.deps.db, user.email, true, t.clock.now());
      expect((await confirm(token)).status).toBe(400);
      await t.deps.limiter.reset('');
      expect(await loginUser(t, user)).toEqual(expect.any(String));
    });

    it('a token that exists on a deactivated account does not confirm (400) and is not issued', async () => {
      const user = await registerUser(t);
      const token = (await issueResetToken(t.deps.db, user.id, t.clock.now()))!;
      // Deactivated behind setUserActive's back (as a concurrent deactivation could leave it).
      await t.deps.db('users').where({ id: user.id }).update({ is_active: false });
      const res = await confirm(token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_reset_token');
      expect(await issueResetToken(t.deps.db, user.id, t.clock.now())).toBeUndefined();
      await t.deps.db('users').where({ id: user.id }).update({ is_active: true });
      await t.deps.limiter.reset('');
      expect(await loginUser(t, user)).toEqual(expect.any(String));
    });
  });
}
