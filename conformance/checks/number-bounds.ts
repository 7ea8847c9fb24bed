import { feature, withCurrentPassword } from '../framework/features.ts';
import {
  bodyLimitBytes,
  policiesOf,
  recentAuthenticationSeconds,
  resetLifetimeSeconds,
  sessionLifetimeSeconds,
  totpLockout,
} from '../framework/contract-numbers.ts';
import type { CheckContext, CheckDef, Harness } from '../framework/types.ts';
import { decodeJwt } from '../lib/jwt-forge.ts';
import { expectProblem, expectStatusSoft } from '../lib/problems.ts';
import { confirmReset, requestResetMail } from '../lib/reset-flow.ts';
import { timeStepAt, totpForStep } from '../lib/totp.ts';
import { enableTotp } from '../lib/totp-flow.ts';
import { drive, driveOpts, driverOf } from './rate-limits.ts';

// Both sides of every number (issue 19). The older checks hold most documented numbers from
// ABOVE (the (limit+1)th call is refused, a lock/lifetime/window is over once it has passed)
// and then follow what the server announces; a lock, lifetime or window SHORTER than
// documented passed them. These hold each number from BELOW, on the harness clock (moved
// time is free: no real wait): just before the number is reached the deployment must still
// behave as documented. The numbers come from the contract (framework/contract-numbers.ts):
// every x-rate-limit of every operation, x-totp-lockout, x-recent-authentication,
// x-request-body-limit-bytes, and the lifetimes login and requestPasswordReset state.
// Without a harness a check reports PARTIAL with what it could not verify.
//
// Already held from both sides elsewhere (not repeated): every limit count (RATE-01/02: the
// limit-th call served, the next refused; RATE-04 and HARDENING-06 for the per-account ones),
// x-totp-lockout.max_failures (TOTP-06: the max_failures-th wrong code is still 422), the
// backup code count (TOTP-02: exactly 5).

/** How far before the documented end the "still" side is looked at (s): the deployment's
 * answer time and the rounding of the moved clock stay well inside it. */
const WINDOW_MARGIN_S = 2;
const LOCK_MARGIN_S = 5;
const LIFETIME_MARGIN_S = 60;

/** Server time in seconds (the harness clock). */
const serverSeconds = async (h: Harness): Promise<number> => (await h.now()) / 1000;

const windowsFromBelow: CheckDef = {
  id: 'RATE-40',
  skipsAlone: true, // without a harness it returns PARTIAL before spending anything
  area: 'rate-limits',
  level: 'MUST',
  title: 'Every x-rate-limit window holds from below: a spent budget is still refused 2 s before window_seconds have passed since it opened, and served once they have (harness clock) (SEC 23)',
  requires: [feature.rule('an x-rate-limit on an operation', (c) => policiesOf(c as never, 'x-rate-limit').length > 0)],
  // One whole window of each policy (the (limit+1)th call and the "still" call are 429s, which
  // no budget counts); the token policy on a session of its own.
  cost: { register: 5, login: 11, 'password-reset-request': 3, 'password-reset-confirm': 10, health: 120 },
  hashes: 1,
  // It drives budgets and moves the clock between their calls: nothing else runs meanwhile.
  exclusive: true,
  timeoutMs: 600_000,
  async run(ctx: CheckContext) {
    const policies = policiesOf(ctx.contract, 'x-rate-limit');
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`${policies.map((p) => `"${p.policy}" (${p.window_seconds} s)`).join(', ')}: a spent window reopening early is seen only on the harness clock (no real wait of every window)`);
      return;
    }
    for (const policy of policies) {
      const op = driverOf(ctx, policy);
      const where = `x-rate-limit "${policy.policy}" (${policy.limit} per ${policy.window_seconds} s per ${policy.key}) on ${op.operationId}`;
      const session = policy.key === 'token' ? await ctx.accounts.login((await ctx.accounts.shared()).account) : undefined;
      const client = ctx.newClient();
      // Every earlier window of this key closed: the budget opens with the first call below.
      await h.advanceClock(policy.window_seconds + 1);
      const opened = await serverSeconds(h);
      await drive(ctx, policy, op, client, session?.token);
      const spent = Math.ceil((await serverSeconds(h)) - opened);
      const before = policy.window_seconds - WINDOW_MARGIN_S - spent;
      if (before < 1) {
        ctx.partial(`${where}: driving the budget took ${spent} s of its ${policy.window_seconds} s window, too long to look just before its end`);
      } else {
        await h.advanceClock(before);
        const still = await client.call(op.operationId, driveOpts(op, session?.token));
        ctx.expect(
          still.status === 429,
          `${where}: the spent budget was served again (${still.status}) at most ${policy.window_seconds - WINDOW_MARGIN_S} s after its window opened, before window_seconds ${policy.window_seconds}`,
          still,
        );
        await h.advanceClock(WINDOW_MARGIN_S + spent + 1);
        const again = await client.call(op.operationId, { ...driveOpts(op, session?.token), expect: [] });
        ctx.expect(again.status !== 429, `${where}: still 429 ${policy.window_seconds + 1} s after its window opened`, again);
        ctx.note(`${where}: still refused at ${policy.window_seconds - WINDOW_MARGIN_S} s, served at ${policy.window_seconds + 1} s`);
      }
      if (session) await client.call('logout', { token: session.token, pace: false, expect: [] });
    }
  },
};

const lockFromBelow: CheckDef = {
  id: 'TOTP-40',
  skipsAlone: true, // without a harness it returns PARTIAL before spending anything
  area: 'totp',
  level: 'MUST',
  title: 'x-totp-lockout.lock_seconds holds from below: 5 s before lock_seconds have passed a right code is still 429 totp_locked; after them it is accepted (harness clock) (SEC 15)',
  requires: [feature.extension('x-totp-lockout')],
  cost: { login: 1 },
  owns: {}, // TOTP was enabled and locked on it: not given back
  timeoutMs: 180_000,
  async run(ctx: CheckContext) {
    const lock = totpLockout(ctx.contract)!;
    const where = `x-totp-lockout (${lock.maxFailures} wrong codes, lock_seconds ${lock.lockSeconds})`;
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`${where}: a lock shorter than ${lock.lockSeconds} s is seen only on the harness clock`);
      return;
    }
    const session = await ctx.accounts.own();
    const { provision } = await enableTotp(ctx, session);
    const secret = String(provision.body?.secret);
    const wrong = async () => {
      const step = timeStepAt(await h.now());
      const near = new Set([-1, 0, 1].map((d) => totpForStep(secret, step + d)));
      let code = '000000';
      for (let n = 0; near.has(code); n += 1) code = String(n).padStart(6, '0');
      return code;
    };
    for (let i = 1; i <= lock.maxFailures; i += 1) {
      const ex = await ctx.call('disableTotp', { token: session.token, body: { code: await wrong() } });
      ctx.require(ex.status === 422, `${where}: wrong code #${i} answered ${ex.status}, expected 422 (TOTP-06 judges the count)`, ex);
    }
    const lockedAt = await serverSeconds(h);
    await h.advanceClock(lock.lockSeconds - LOCK_MARGIN_S);
    // The session is older than x-recent-authentication by now: the body carries the password.
    const disableWith = async () => {
      const code = totpForStep(secret, timeStepAt(await h.now()));
      return ctx.call('disableTotp', {
        token: session.token,
        body: withCurrentPassword(ctx.contract, 'disableTotp', { code }, session.account.password),
        expect: 429,
      });
    };
    const still = await disableWith();
    const at = Math.floor((await serverSeconds(h)) - lockedAt);
    expectProblem(ctx, still, 429, 'totp_locked', `${where}: a right code ${at} s after the lock began (before lock_seconds ${lock.lockSeconds})`);
    // Past the lock, and on a step the refused code did not touch.
    await h.advanceClock(LOCK_MARGIN_S + 31);
    expectStatusSoft(ctx, await disableWith(), 200, `${where}: a right code ${lock.lockSeconds + 31} s after the lock began`);
  },
};

const sessionFromBelow: CheckDef = {
  id: 'SESSIONS-40',
  area: 'sessions',
  level: 'MUST',
  title: 'The session token lifetime holds from below: a token is honoured until 60 s before its exp, and its exp − iat is the lifetime login states (3600 s by default) (harness clock) (SEC 8)',
  requires: [feature.rule('the session token lifetime (login "access-token lifetime")', (c) => sessionLifetimeSeconds(c as never) !== undefined)],
  cost: { login: 1 },
  async run(ctx: CheckContext) {
    const stated = sessionLifetimeSeconds(ctx.contract)!;
    const session = await ctx.accounts.login((await ctx.accounts.shared()).account);
    const { payload } = decodeJwt(session.token);
    const exp = Number(payload['exp']);
    const iat = Number(payload['iat']);
    ctx.require(Number.isFinite(exp) && Number.isFinite(iat), 'the token has no numeric exp and iat', session.exchange);
    const lifetime = exp - iat;
    if (lifetime !== stated) ctx.note(`the token's lifetime (exp − iat) is ${lifetime} s; login states ${stated} s by default (a deployment may configure another)`);
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`a token refused before its exp (${lifetime} s) is seen only on the harness clock`);
    } else {
      const ahead = Math.floor(exp - (await serverSeconds(h)) - LIFETIME_MARGIN_S);
      if (ahead >= 1) await h.advanceClock(ahead);
      const still = await ctx.call('getCurrentUser', { token: session.token });
      ctx.expect(still.status === 200, `session token lifetime: refused (${still.status}) ${LIFETIME_MARGIN_S} s before its exp, ${lifetime - LIFETIME_MARGIN_S} s after it was issued (lifetime ${lifetime} s)`, still);
    }
    await ctx.call('logout', { token: session.token, pace: false, expect: [] });
  },
};

const resetFromBelow: CheckDef = {
  id: 'RESET-40',
  skipsAlone: true, // without a harness it returns PARTIAL before spending anything
  area: 'password-reset',
  level: 'MUST',
  title: 'The reset token lifetime holds from below: a token 60 s short of the stated lifetime (1 hour) still sets the password (harness clock) (SEC 18)',
  needs: ['smtp'],
  requires: [feature.rule('the reset token lifetime (requestPasswordReset "valid for")', (c) => resetLifetimeSeconds(c as never) !== undefined)],
  cost: { register: 1, 'password-reset-request': 1, 'password-reset-confirm': 1 },
  async run(ctx: CheckContext) {
    const lifetime = resetLifetimeSeconds(ctx.contract)!;
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`a reset token dying before ${lifetime} s is seen only on the harness clock`);
      return;
    }
    const account = await ctx.accounts.create();
    const requestedAt = await serverSeconds(h);
    const { token } = await requestResetMail(ctx, account.email);
    const ahead = Math.floor(requestedAt + lifetime - LIFETIME_MARGIN_S - (await serverSeconds(h)));
    if (ahead >= 1) await h.advanceClock(ahead);
    const newPassword = ctx.accounts.newPassword();
    const ok = await confirmReset(ctx, token, newPassword);
    if (ctx.expect(ok.status === 200, `reset token lifetime: refused (${ok.status} ${String(ok.body?.code ?? '')}) ${lifetime - LIFETIME_MARGIN_S} s after it was requested (stated ${lifetime} s)`, ok)) {
      account.password = newPassword;
    }
  },
};

const recentAuthFromBelow: CheckDef = {
  id: 'HARDENING-40',
  skipsAlone: true, // without a harness it returns PARTIAL before spending anything
  area: 'hardening',
  level: 'MUST',
  title: 'x-recent-authentication.max_age_seconds holds from below: a session 5 s younger than max_age creates an API key without current_password (harness clock)',
  requires: [feature.extension('x-recent-authentication'), feature.operation('createApiKey'), feature.requestField('createApiKey', 'current_password')],
  cost: { register: 1, login: 1 },
  async run(ctx: CheckContext) {
    const maxAge = recentAuthenticationSeconds(ctx.contract)!;
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`a recent-authentication window shorter than ${maxAge} s is seen only on the harness clock`);
      return;
    }
    const before = await serverSeconds(h);
    const session = await ctx.accounts.login(await ctx.accounts.create());
    const ahead = Math.floor(before + maxAge - LOCK_MARGIN_S - (await serverSeconds(h)));
    if (ahead >= 1) await h.advanceClock(ahead);
    const key = await ctx.call('createApiKey', { token: session.token, body: { name: 'recent enough' } });
    ctx.expect(
      key.status === 201,
      `x-recent-authentication.max_age_seconds ${maxAge}: a session at most ${maxAge - LOCK_MARGIN_S} s old was refused (${key.status} ${String(key.body?.code ?? '')}) without current_password`,
      key,
    );
    if (key.status === 201) {
      const id = String(key.body?.id);
      ctx.defer(`revoke API key ${id}`, async () => void (await ctx.call('revokeApiKey', { token: session.token, params: { keyId: id } })));
    }
  },
};

const bodyLimitBothSides: CheckDef = {
  id: 'NEGATIVE-40',
  area: 'negative',
  level: 'MUST',
  title: 'x-request-body-limit-bytes holds from both sides: a body of exactly the limit is read (not 413), one byte more answers 413 payload_too_large (SEC 2)',
  requires: [feature.extension('x-request-body-limit-bytes')],
  cost: { login: 1 },
  async run(ctx: CheckContext) {
    const limit = bodyLimitBytes(ctx.contract)!;
    // An operation documenting 413 whose `{}` is refused by its schema (422) before anything
    // is hashed or changed: changePassword when the contract has it.
    const candidates = ctx.contract.operations.filter((o) => o.statuses.includes(413) && o.requestSchema && o.security.some((s) => s.includes('session')) && !o.path.includes('{'));
    const op = candidates.find((o) => o.operationId === 'changePassword') ?? candidates[0];
    if (!op) ctx.skip('no operation with a session and a body documents 413');
    const session = await ctx.accounts.login((await ctx.accounts.shared()).account);
    const body = (n: number) => `{${' '.repeat(n - 2)}}`;
    const exact = await ctx.call(op.operationId, { token: session.token, rawBody: body(limit), expect: [] });
    ctx.expect(exact.status !== 413, `x-request-body-limit-bytes ${limit}: a body of exactly ${limit} bytes to ${op.operationId} answered 413`, exact);
    const over = await ctx.call(op.operationId, { token: session.token, rawBody: body(limit + 1), expect: [] });
    expectProblem(ctx, over, 413, 'payload_too_large', `x-request-body-limit-bytes ${limit}: a body of ${limit + 1} bytes to ${op.operationId}`);
    await ctx.call('logout', { token: session.token, pace: false, expect: [] });
  },
};

const recipientWindowsFromBelow: CheckDef = {
  id: 'HARDENING-41',
  skipsAlone: true, // without a harness it returns PARTIAL before spending anything
  area: 'hardening',
  level: 'MUST',
  title: 'Every x-rate-limit-recipient window holds from both sides: 5 s before window_seconds a spent address still gets no mail (its live token is not voided), after them it gets one again (harness clock)',
  needs: ['smtp'],
  requires: [feature.rule('an x-rate-limit-recipient on an operation', (c) => policiesOf(c as never, 'x-rate-limit-recipient').length > 0)],
  cost: { register: 1, 'password-reset-request': 5, 'password-reset-confirm': 1 },
  timeoutMs: 240_000,
  async run(ctx: CheckContext) {
    const policies = policiesOf(ctx.contract, 'x-rate-limit-recipient');
    const h = ctx.harness;
    if (!h) {
      ctx.partial(`${policies.map((p) => `"${p.policy}" (${p.window_seconds} s)`).join(', ')}: a per-address window reopening early is seen only on the harness clock`);
      return;
    }
    for (const policy of policies) {
      // The reset mail budget is the one the contract has; another operation would need its own story.
      if (!policy.operations.includes('requestPasswordReset')) {
        ctx.partial(`x-rate-limit-recipient "${policy.policy}" on ${policy.operations.join(', ')}: only requestPasswordReset's is driven`);
        continue;
      }
      const where = `x-rate-limit-recipient "${policy.policy}" (${policy.limit} mails per ${policy.window_seconds} s per address) on requestPasswordReset`;
      const account = await ctx.accounts.create();
      const opened = await serverSeconds(h);
      let last = await requestResetMail(ctx, account.email);
      for (let i = 2; i <= policy.limit; i += 1) last = await requestResetMail(ctx, account.email);
      const ahead = Math.floor(opened + policy.window_seconds - LOCK_MARGIN_S - (await serverSeconds(h)));
      if (ahead < 1) {
        ctx.partial(`${where}: the ${policy.limit} mails took most of the ${policy.window_seconds} s window`);
        continue;
      }
      await h.advanceClock(ahead);
      const over = await ctx.newClient().call('requestPasswordReset', { body: { email: account.email } });
      ctx.expect(over.status === 200, `${where}: request #${policy.limit + 1} answered ${over.status}, expected the same 200`, over);
      // No mail, and so the live token is not voided: it still sets the password.
      const newPassword = ctx.accounts.newPassword();
      const confirmed = await confirmReset(ctx, last.token, newPassword);
      if (ctx.expect(confirmed.status === 200, `${where}: ${policy.window_seconds - LOCK_MARGIN_S} s after the first mail (before window_seconds) request #${policy.limit + 1} voided the live token (confirm answered ${confirmed.status}): the address got a new mail`, confirmed)) {
        account.password = newPassword;
      }
      await h.advanceClock(LOCK_MARGIN_S + 1);
      const reopened = await requestResetMail(ctx, account.email).catch((e: unknown) => ctx.fail(`${where}: no mail ${policy.window_seconds + 1} s after the first one: ${String(e instanceof Error ? e.message : e)}`));
      ctx.note(`${where}: no mail at ${policy.window_seconds - LOCK_MARGIN_S} s, a mail again at ${policy.window_seconds + 1} s (${reopened.link.pathname})`);
    }
  },
};

export const numberBoundChecks: CheckDef[] = [windowsFromBelow, lockFromBelow, sessionFromBelow, resetFromBelow, recentAuthFromBelow, recipientWindowsFromBelow, bodyLimitBothSides];
