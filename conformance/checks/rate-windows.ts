import type { CheckContext, CheckDef } from '../framework/types.ts';
import { retryAfterSeconds } from '../lib/problems.ts';
import { drive, driveOpts, driverOf } from './rate-limits.ts';

// Per-token windows reopen (issue 11): RATE-05 waits out a per-IP 429; this one the budget of
// one session token, on the server clock (harness) or in real time.

const tokenWindowReopens: CheckDef = {
  id: 'RATE-08',
  area: 'rate-limits',
  level: 'MUST',
  title: 'A per-token x-rate-limit window reopens: after window_seconds (server clock moved through the harness, or real time) the same token is served again (SEC 23)',
  cost: { login: 1 },
  // Without a harness it sleeps through the token window (the contract's 60 s): with one
  // address it starts first, so the sleep overlaps the other checks' waits.
  waitsMs: 61_000,
  // Its unpaced calls spend its own session's budget, no per-address one: alone only when it
  // moves the harness clock.
  exclusive: ({ harness }) => harness,
  timeoutMs: 300_000,
  async run(ctx: CheckContext) {
    const policy = ctx.contract.policies().filter((p) => p.key === 'token').sort((a, b) => a.window_seconds - b.window_seconds)[0];
    if (!policy) ctx.skip('the contract declares no per-token rate limit');
    const op = driverOf(ctx, policy);
    // A session of its own (its budget is spent, then it is logged out), of the shared account.
    const session = await ctx.accounts.login((await ctx.accounts.shared()).account);
    const d = await drive(ctx, policy, op, ctx.client, session.token);
    const announced = retryAfterSeconds(d.limited);
    const waitSeconds = Math.max(policy.window_seconds, announced ?? 0) + 1;
    if (ctx.harness) await ctx.harness.advanceClock(waitSeconds);
    else await ctx.sleep(Math.max(0, d.openedAt + waitSeconds * 1000 - Date.now()), 'for its rate-limit window to reopen (no harness clock to move)');
    const again = await ctx.call(op.operationId, { ...driveOpts(op, session.token), expect: [] });
    ctx.expect(again.status !== 429, `"${policy.policy}": still 429 for the same token ${waitSeconds} s after its window of ${policy.window_seconds} s opened`, again);
    // Logged out here, unpaced: a deployment that kept the window shut would otherwise make the
    // run's final cleanup wait a whole window for this token's budget.
    await ctx.call('logout', { token: session.token, pace: false, expect: [] });
    ctx.note(`"${policy.policy}" (${policy.limit} per ${policy.window_seconds} s) reopened ${ctx.harness ? 'on the harness clock' : 'in real time'}`);
  },
};

export const rateWindowChecks: CheckDef[] = [tokenWindowReopens];
