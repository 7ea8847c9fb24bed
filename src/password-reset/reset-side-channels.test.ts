import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';

// Issue #10 defect 6: the reset request must answer before (and whatever) the account lookup
// and token write cost, and one address gets at most the contract's per-recipient budget of
// mails: beyond it nothing is sent and the live token is not voided — with the same 200.

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

const requestReset = (email: string) => t.request('/auth/password-reset/request', { json: { email } });
const recipientBudget = () => t.deps.contract.operation('requestPasswordReset').raw['x-rate-limit-recipient'] as { limit: number; window_seconds: number };

async function nthMail(to: string, n: number) {
  await t.mailer.waitFor(to, () => t.mailer.sent.filter((m) => m.to === to).length >= n);
  return t.mailer.sent.filter((m) => m.to === to)[n - 1]!;
}

describe('requestPasswordReset side channels', () => {
  it('answers without touching the database on the request path', async () => {
    const user = await registerUser(t);
    // Hold the only SQLite connection: a handler that looks the account up or writes the
    // token inside the request cannot answer until it is released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const trx = t.deps.db.transaction(async () => held);
    await new Promise((r) => setTimeout(r, 20));
    const answer = await Promise.race([requestReset(user.email), new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 5000))]);
    release();
    await trx;
    expect(answer).not.toBe('blocked');
    expect((answer as { status: number }).status).toBe(200);
    await nthMail(user.email, 1); // the work still happens, off the request path
  });

  it('a per-recipient budget: beyond it the same 200, no mail, and the live token stays valid', async () => {
    const user = await registerUser(t);
    const { limit } = recipientBudget();
    const answers: string[] = [];
    for (let i = 1; i <= limit; i++) {
      await t.deps.limiter.reset('ip|');
      const res = await requestReset(user.email);
      answers.push(JSON.stringify(res.body));
      await nthMail(user.email, i);
    }
    const last = /token=([A-Za-z0-9_-]+)/.exec((await nthMail(user.email, limit)).text)![1]!;
    await t.deps.limiter.reset('ip|');
    const over = await requestReset(user.email);
    expect(over.status).toBe(200);
    answers.push(JSON.stringify(over.body));
    expect(new Set(answers).size).toBe(1);
    // Give background work every chance to (wrongly) run, then check nothing was sent/voided.
    await t.deps.db('users').first();
    await new Promise((r) => setTimeout(r, 50));
    expect(t.mailer.sent.filter((m) => m.to === user.email)).toHaveLength(limit);
    const confirm = await t.request('/auth/password-reset/confirm', { json: { token: last, new_password: 'a-brand-new-passphrase-42' } });
    expect(confirm.status).toBe(200);
  });
});
