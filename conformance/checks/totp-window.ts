import type { CheckContext, CheckDef } from '../framework/types.ts';
import { disableTotpAnyVersion, feature } from '../framework/features.ts';
import { expectProblem, expectStatusSoft } from '../lib/problems.ts';
import { timeStepAt, totpForStep } from '../lib/totp.ts';
import { attemptLogin, deviceFor, enableTotp, quietStep, stepFloor } from '../lib/totp-flow.ts';

// TOTP gaps of issue 11 (SECURITY.md 14, 15): the ±1 step tolerance accepts the neighbours,
// a right code resets the failure count, and failed verifies count towards the lock.

const area = 'totp';
const TOTP_TIMEOUT_MS = 180_000;

function maxFailuresOf(ctx: CheckContext): number {
  const raw = ctx.contract.document?.['x-totp-lockout'] as { max_failures?: unknown } | undefined;
  const max = Number(raw?.max_failures);
  if (!Number.isInteger(max) || max < 2) ctx.skip('the contract documents no x-totp-lockout.max_failures ≥ 2');
  return max;
}

const neighbourSteps: CheckDef = {
  id: 'TOTP-12',
  area,
  level: 'MUST',
  title: 'Codes one time step early and one step late are accepted: verify with the previous step\'s code, then log in with the next step\'s code (SEC 14)',
  cost: { login: 1 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.own({ giveBack: true });
    const provision = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(provision, 200);
    const secret = provision.body?.secret as string;
    ctx.require(typeof secret === 'string', 'provisionTotp returned no secret', provision);
    // Clear of a step boundary, and past every step used on the account before (a pooled
    // account): the previous step's code must be judged for its age, not as a replay.
    const step = timeStepAt(await quietStep(ctx, session.account, -1));
    const floor = stepFloor(session.account);
    floor.step = Math.max(floor.step, step + 1);
    // Steps only go up: a server may refuse any step at or before the last one it accepted.
    const late = await ctx.call('verifyTotp', { token: session.token, body: { code: totpForStep(secret, step - 1) } });
    expectStatusSoft(ctx, late, 200, 'verify with the code of the previous time step (one step late)');
    if (late.status !== 200) return;
    const backup = Array.isArray(late.body?.backup_codes) ? (late.body.backup_codes as string[]) : [];
    ctx.defer(`disable TOTP of ${session.account.email}`, async () => {
      const code = backup[backup.length - 1];
      if (!code) throw new Error('verify returned no backup code to disable TOTP with');
      const off = await disableTotpAnyVersion((op, o) => ctx.call(op, o), ctx.contract, { token: session.token, code, password: session.account.password });
      if (off.status !== 200) throw new Error(`disableTotp answered ${off.status}`);
    });
    const early = await attemptLogin(ctx, session.account, totpForStep(secret, step + 1));
    expectStatusSoft(ctx, early, 200, 'login with the code of the next time step (one step early)');
  },
};

const rightCodeResets: CheckDef = {
  id: 'TOTP-13',
  area,
  level: 'MUST',
  title: 'A right TOTP code resets the failure count: max_failures-1 wrong codes, a right one at login, max_failures-1 wrong codes again leave TOTP unlocked (SEC 15)',
  cost: { login: 1 },
  requires: [feature.extension('x-totp-lockout')],
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const max = maxFailuresOf(ctx);
    const session = await ctx.accounts.own({ giveBack: true });
    const { device, backupCodes } = await enableTotp(ctx, session);
    // The wrong codes go to disableTotp: its budget is the session's, not the per-address login
    // budget a run without a client-ip header shares; the count is one per user (TOTP-06).
    const wrongRound = async (round: number) => {
      for (let i = 1; i < max; i += 1) {
        const ex = await ctx.call('disableTotp', { token: session.token, body: { code: await device.wrongCode() }, expect: [422, 429] });
        expectProblem(ctx, ex, 422, 'invalid_totp_code', `wrong code #${i} of round ${round} at disable (the count must have restarted after the right code)`);
      }
    };
    await wrongRound(1);
    const right = await attemptLogin(ctx, session.account, device, { expect: [200, 429] });
    expectStatusSoft(ctx, right, 200, `a right code at login after ${max - 1} wrong ones`);
    await wrongRound(2);
    // A backup code is a right code too, and does not wait for a new time step.
    const code = backupCodes[backupCodes.length - 1] ?? (await device.nextCode()).code;
    const after = await ctx.call('disableTotp', { token: session.token, body: { code }, expect: [200, 429] });
    expectStatusSoft(ctx, after, 200, `a right code at disable after ${max - 1} wrong + 1 right + ${max - 1} wrong codes: TOTP must not be locked`);
  },
};

const verifyCounts: CheckDef = {
  id: 'TOTP-14',
  area,
  level: 'MUST',
  title: 'Failed verifies count towards the TOTP lockout: max_failures wrong codes at verify lock it, a right code then answers 429 totp_locked (SEC 15)',
  requires: [feature.extension('x-totp-lockout')],
  owns: {},
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const max = maxFailuresOf(ctx);
    const session = await ctx.accounts.own();
    const provision = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(provision, 200);
    const device = deviceFor(ctx, provision.body?.secret as string, session.account);
    for (let i = 1; i <= max; i += 1) {
      const ex = await ctx.call('verifyTotp', { token: session.token, body: { code: await device.wrongCode() } });
      expectProblem(ctx, ex, 422, 'invalid_totp_code', `wrong code #${i} at verify`);
    }
    const locked = await ctx.call('verifyTotp', { token: session.token, body: { code: (await device.nextCode()).code }, expect: 429 });
    expectProblem(ctx, locked, 429, 'totp_locked', `a right code at verify after ${max} wrong ones`);
    if (locked.status === 200) {
      // TOTP got enabled: leave the account as found.
      ctx.defer(`disable TOTP of ${session.account.email}`, async () => {
        const off = await disableTotpAnyVersion((op, o) => ctx.call(op, o), ctx.contract, { token: session.token, code: (await device.nextCode()).code, password: session.account.password });
        if (off.status !== 200) throw new Error(`disableTotp answered ${off.status}`);
      });
    }
  },
};

export const totpWindowChecks: CheckDef[] = [neighbourSteps, rightCodeResets, verifyCounts];
