import { credentialRules } from '../framework/features.ts';
import { HarnessError } from '../framework/harness.ts';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { compareTimings } from '../lib/stats.ts';
import { createKey, type CreatedKey } from '../lib/key-flow.ts';
import { expectProblem } from '../lib/problems.ts';
import { enableTotp } from '../lib/totp-flow.ts';

// SECURITY.md 34 (issue 17 defect 9): a password change and TOTP enrolment end what the old
// credential made — the other sessions and every API key, as a reset does (HARDENING-07) —
// and their answers say what they revoked (`revoked: {sessions, api_keys}`). A contract whose
// answers document no `revoked` does not state the rule: the checks skip then. SECURITY.md 35
// (defect 10): the blocklist refuses breached passwords in disguise, checked when the contract's
// NewPassword cites it. SECURITY.md 32 (defect 7): an account hashed at an old, cheaper scrypt
// cost (made so by the harness) answers a wrong password as slowly as an unknown address.

const area = 'hardening';
/** TOTP checks may wait for the next 30 s step when no harness can move the clock. */
const TOTP_TIMEOUT_MS = 180_000;


/** The answer's `revoked` counts at least the other session and both keys. */
function expectRevokedCounts(ctx: CheckContext, ex: Exchange, what: string): void {
  const revoked = ex.body?.revoked as { sessions?: unknown; api_keys?: unknown } | undefined;
  ctx.expect(revoked !== undefined, `${what}: the answer has no \`revoked\``, ex);
  if (revoked === undefined) return;
  ctx.expect(Number.isInteger(revoked.sessions) && Number(revoked.sessions) >= 1, `${what}: revoked.sessions should count the other session (≥ 1), got ${JSON.stringify(revoked.sessions)}`, ex);
  ctx.expect(revoked.api_keys === 2, `${what}: revoked.api_keys should count both live keys (2), got ${JSON.stringify(revoked.api_keys)}`, ex);
}

/** Both keys answer 401 invalid_token after the change. */
async function expectKeysRevoked(ctx: CheckContext, keys: Array<[CreatedKey, string]>, after: string): Promise<void> {
  for (const [key, madeBy] of keys) {
    const ex = await ctx.call('getCurrentUser', { token: key.key, expect: 401 });
    expectProblem(ctx, ex, 401, 'invalid_token', `an API key made by ${madeBy}, after ${after}`);
  }
}

const passwordChangeRevokesKeys: CheckDef = {
  id: 'HARDENING-34',
  requires: [credentialRules.passwordChangeRevokes],
  area,
  level: 'MUST',
  title: 'A password change revokes every API key of the account — one made by another session and one made by the changing session — and answers what it revoked (SEC 34)',
  cost: { login: 1 },
  owns: {}, // not given back: it had API keys (KEYS-20 fills the quota of a pooled account)
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.own({});
    const other = await ctx.accounts.login(session.account);
    const keys: Array<[CreatedKey, string]> = [[await createKey(ctx, other), 'another session'], [await createKey(ctx, session), 'the changing session']];
    const next = ctx.accounts.newPassword();
    const changed = await ctx.call('changePassword', { token: session.token, body: { current_password: session.account.password, new_password: next } });
    ctx.expectStatus(changed, 200, 'changePassword with the right current password');
    if (changed.status !== 200) return;
    session.account.password = next;
    expectRevokedCounts(ctx, changed, 'changePassword');
    await expectKeysRevoked(ctx, keys, 'a password change');
  },
};

const totpEnrolmentRevokesKeys: CheckDef = {
  id: 'HARDENING-35',
  requires: [credentialRules.totpEnrolmentRevokes],
  area,
  level: 'MUST',
  title: 'Enabling TOTP (verify) revokes every API key of the account — one made by another session and one made by the enrolling session — and answers what it revoked (SEC 34)',
  cost: { login: 1 },
  owns: {}, // not given back: it had API keys
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.own({});
    const other = await ctx.accounts.login(session.account);
    const keys: Array<[CreatedKey, string]> = [[await createKey(ctx, other), 'another session'], [await createKey(ctx, session), 'the enrolling session']];
    const { verify } = await enableTotp(ctx, session); // its cleanup turns TOTP off again
    expectRevokedCounts(ctx, verify, 'verifyTotp');
    await expectKeysRevoked(ctx, keys, 'TOTP enrolment');
  },
};

/** Issue 17's examples of breached passwords in disguise: leet, padding, walks, repeats. */
const DISGUISED_PASSWORDS = ['P@ssw0rd1234567', 'Password123456!', 'asdfghjklasdfgh', '111111111111111a', 'qwertyuiop12345'];

const realBlocklist: CheckDef = {
  id: 'HARDENING-36',
  requires: [credentialRules.breachedBlocklist],
  area,
  level: 'MUST',
  title: 'A new password that is a breached one in leet or padded with digits and symbols, or a keyboard walk or repetition, is refused with 422 weak_password (SEC 35)',
  owns: { giveBack: true },
  async run(ctx: CheckContext) {
    // Through changePassword, not register: the per-IP register budget (5 a minute) stays
    // untouched; the account's password is right, so nothing but the policy can refuse.
    const session = await ctx.accounts.own({ giveBack: true });
    for (const password of DISGUISED_PASSWORDS) {
      const ex = await ctx.call('changePassword', { token: session.token, body: { current_password: session.account.password, new_password: password } });
      expectProblem(ctx, ex, 422, 'weak_password', `the new password "${password}"`);
      if (ex.status === 200) session.account.password = password;
    }
  },
};

/** Pairs of timed logins (as LOGIN-03): more with distinct client addresses. */
const TIMING_SAMPLES = 4;
const TIMING_SAMPLES_WITH_ADDRESSES = 12;
/** A difference whose whole 95 % interval is beyond this is a leak (a hash costs tens of ms). */
const LARGE_MS = 25;

const staleHashTiming: CheckDef = {
  id: 'HARDENING-32',
  area,
  level: 'SHOULD',
  title: 'A wrong password for an account hashed at an old, cheaper scrypt cost takes as long as for an unknown address (interleaved samples, Mann–Whitney test, bootstrap interval) (SEC 4, 32)',
  needs: ['harness'],
  cost: { register: 1, login: TIMING_SAMPLES * 2 + 1 },
  hashes: TIMING_SAMPLES_WITH_ADDRESSES * 2 + 2,
  async run(ctx: CheckContext) {
    const harness = ctx.harness!;
    if (harness.setPasswordHash === undefined) ctx.skip('this suite\'s harness client cannot set a password hash');
    const account = await ctx.accounts.create();
    try {
      // scrypt's cheapest cost: the largest difference a deployment without padding shows.
      await harness.setPasswordHash(account.email, account.password, 1);
    } catch (error) {
      if (error instanceof HarnessError && / answered 404/u.test(error.message)) ctx.skip('the harness offers no /accounts/password-hash (SEC 32 not in this harness contract)');
      throw error;
    }
    const pairs = ctx.options.clientIpHeader ? TIMING_SAMPLES_WITH_ADDRESSES : TIMING_SAMPLES;
    let client = ctx.client;
    await client.call('login', { body: { email: ctx.accounts.newEmail(), password: ctx.accounts.newPassword() } }); // warm-up
    const unknownMs: number[] = [];
    const staleMs: number[] = [];
    for (let i = 0; i < pairs; i += 1) {
      if (ctx.options.clientIpHeader && i % 4 === 3) client = ctx.newClient();
      const unknownCall = () => client.call('login', { body: { email: ctx.accounts.newEmail(), password: ctx.accounts.newPassword() } });
      const staleCall = () => client.call('login', { body: { email: account.email, password: ctx.accounts.newPassword() } });
      // Interleaved, the order alternating, so drift in the deployment's load hits both alike.
      const [first, second] = i % 2 ? [unknownCall, staleCall] : [staleCall, unknownCall];
      const a = await first();
      const b = await second();
      const [u, s] = i % 2 ? [a, b] : [b, a];
      if (u.status === 401) unknownMs.push(u.durationMs);
      if (s.status === 401) staleMs.push(s.durationMs);
    }
    ctx.require(unknownMs.length >= 3 && staleMs.length >= 3, 'too few 401 answers to compare timings');
    const verdict = compareTimings(unknownMs, staleMs, { largeMs: LARGE_MS, alpha: 0.05, labels: ['unknown e-mail', 'wrong password, stale hash'] });
    ctx.note(verdict.text);
    ctx.expect(!verdict.large, `${verdict.text}: the difference is significant and large, it reveals which addresses exist`);
  },
};

export const credentialChangeChecks: CheckDef[] = [passwordChangeRevokesKeys, totpEnrolmentRevokesKeys, realBlocklist, staleHashTiming];
