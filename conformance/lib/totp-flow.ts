import type { Account, CheckContext, Exchange, Session } from '../framework/types.ts';
import { disableTotpAnyVersion } from '../framework/features.ts';
import { TOTP_PERIOD_SECONDS, timeStepAt } from './totp.ts';
import { TotpDevice } from './totp-device.ts';

/** The last TOTP step the suite used per account, across secrets and checks: a server accepts
 * each step once per user, and an account may come from the pool (AccountFactory.own). */
const floors = new WeakMap<Account, { step: number }>();

export function stepFloor(account: Account): { step: number } {
  let floor = floors.get(account);
  if (!floor) floors.set(account, (floor = { step: Number.NEGATIVE_INFINITY }));
  return floor;
}

/**
 * The server's time at least 10 s before the end of its TOTP step, and late enough that the
 * code `lowest` steps from now (e.g. -2) is later than any step already used on `account`:
 * a refusal can then only come from the rule a check tests, never from the replay guard.
 */
export async function quietStep(ctx: CheckContext, account: Account, lowest = 0): Promise<number> {
  const floor = stepFloor(account).step;
  for (;;) {
    const now = await ctx.serverTime();
    const intoStep = now % (TOTP_PERIOD_SECONDS * 1000);
    if (intoStep <= 20_000 && timeStepAt(now) + lowest > floor) return now;
    const wait = TOTP_PERIOD_SECONDS * 1000 - intoStep + 1000;
    if (ctx.harness) await ctx.harness.advanceClock(Math.ceil(wait / 1000));
    else await ctx.sleep(wait, 'for the start of a TOTP step (no harness clock to move)');
  }
}

export interface EnabledTotp {
  device: TotpDevice;
  backupCodes: string[];
  provision: Exchange;
  verify: Exchange;
}

/** The suite's authenticator for a provisioned secret, on the deployment's clock. */
export function deviceFor(ctx: CheckContext, secret: string, account?: Account): TotpDevice {
  return new TotpDevice(secret, () => ctx.serverTime(), ctx.harness, (ms, why) => ctx.sleep(ms, why), account ? stepFloor(account) : undefined);
}

/**
 * Provision + verify with a suite-computed code; ends the check unless both succeed. Registers
 * a cleanup that disables TOTP again (through the public API) if the check left it on.
 */
export async function enableTotp(
  ctx: CheckContext,
  session: Session,
  opts: { after?: TotpDevice } = {},
): Promise<EnabledTotp> {
  const provision = await ctx.call('provisionTotp', { token: session.token });
  ctx.expectStatus(provision, 200, 'provisionTotp with a fresh session');
  ctx.require(typeof provision.body?.secret === 'string', 'provisionTotp returned no secret', provision);
  const device = deviceFor(ctx, provision.body.secret as string, session.account);
  if (opts.after) device.continueAfter(opts.after);
  const { code } = await device.nextCode();
  const verify = await ctx.call('verifyTotp', { token: session.token, body: { code } });
  ctx.expectStatus(verify, 200, 'verifyTotp with a code computed from the provisioned secret');
  const backupCodes: string[] = Array.isArray(verify.body?.backup_codes) ? verify.body.backup_codes : [];
  ctx.defer(`disable TOTP of ${session.account.email}`, async () => {
    const me = await ctx.call('getCurrentUser', { token: session.token });
    // A dead session: the framework's final cleanup logs in with a backup code instead.
    if (me.status !== 200 || me.body?.totp_enabled !== true) return;
    // With the current password: the check may have moved the server clock past the contract's
    // x-recent-authentication window since this session logged in. With the last backup code
    // (the checks spend the first ones), not a TOTP code: the check may have used the steps the
    // server accepts now, and the next one is up to 30 s away without a harness (SEC 16: a
    // backup code disables TOTP too). A TOTP code only when no backup code is left or it is
    // refused.
    const disable = (code: string) => disableTotpAnyVersion((op, o) => ctx.call(op, o), ctx.contract, { token: session.token, code, password: session.account.password });
    const backup = backupCodes.pop();
    let off = backup ? await disable(backup) : undefined;
    if (!off || off.status === 422) off = await disable((await device.nextCode()).code);
    // 429: still locked (TOTP-06 without a harness); the framework's cleanup lists it.
    if (off.status !== 200 && off.status !== 429) throw new Error(`disableTotp answered ${off.status}`);
  });
  return { device, backupCodes, provision, verify };
}

/** A login attempt (any outcome), with an optional TOTP or backup code — or the next code of
 * a device, computed once the login budget is reserved (without a client-ip header the call
 * may wait a minute for the shared login window, and a code computed before that would be
 * two steps old when sent); `device.lastCode` is then the code sent. */
export function attemptLogin(
  ctx: CheckContext,
  account: { email: string; password: string },
  totpCode?: string | TotpDevice,
  opts: { expect?: number | number[] } = {},
): Promise<Exchange> {
  const body: Record<string, string> = { email: account.email, password: account.password };
  if (typeof totpCode === 'string') body.totp_code = totpCode;
  const device = totpCode instanceof TotpDevice ? totpCode : undefined;
  return ctx.call('login', {
    body,
    ...(device ? { lateBody: async () => ({ totp_code: (await device.nextCode()).code }) } : {}),
    ...(opts.expect === undefined ? {} : { expect: opts.expect }),
  });
}
