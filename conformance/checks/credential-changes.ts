import { credentialRules } from '../framework/features.ts';
import { HarnessError } from '../framework/harness.ts';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { timeWrongPasswords } from '../lib/timing-sample.ts';
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

/** Pairs of timed logins, as LOGIN-03 (lib/timing-sample.ts): [one address, distinct addresses]. */
const TIMING_PAIRS: [number, number] = [8, 12];
/** A difference whose whole 95 % interval is beyond this is a leak (a hash costs tens of ms). */
const LARGE_MS = 25;

const staleHashTiming: CheckDef = {
  id: 'HARDENING-32',
  area,
  level: 'MUST',
  title: 'A wrong password for an account hashed at an old, cheaper scrypt cost takes as long as for an unknown address: no significant (p < 0.01) difference wholly beyond 25 ms (a smaller significant one warns) (SEC 4, 32)',
  needs: ['harness'],
  cost: { register: 1, login: TIMING_PAIRS[0] * 2 + 1 },
  hashes: TIMING_PAIRS[1] * 2 + 2,
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
    await timeWrongPasswords(ctx, account.email, { suspect: 'wrong password, stale hash', largeMs: LARGE_MS, pairs: TIMING_PAIRS });
  },
};

export const credentialChangeChecks: CheckDef[] = [passwordChangeRevokesKeys, totpEnrolmentRevokesKeys, realBlocklist, staleHashTiming];
