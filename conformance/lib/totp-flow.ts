import type { CheckContext, Exchange, Session } from '../framework/types.ts';
import { TotpDevice } from './totp-device.ts';

export interface EnabledTotp {
  device: TotpDevice;
  backupCodes: string[];
  provision: Exchange;
  verify: Exchange;
}

/** The suite's authenticator for a provisioned secret, on the deployment's clock. */
export function deviceFor(ctx: CheckContext, secret: string): TotpDevice {
  return new TotpDevice(secret, () => ctx.serverTime(), ctx.harness, (ms) => ctx.sleep(ms));
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
  const device = deviceFor(ctx, provision.body.secret as string);
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
    // x-recent-authentication window since this session logged in.
    const off = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code, current_password: session.account.password } });
    // 429: still locked (TOTP-06 without a harness); the framework's cleanup lists it.
    if (off.status !== 200 && off.status !== 429) throw new Error(`disableTotp answered ${off.status}`);
  });
  return { device, backupCodes, provision, verify };
}

/** A login attempt (any outcome), with an optional TOTP or backup code. */
export function attemptLogin(
  ctx: CheckContext,
  account: { email: string; password: string },
  totpCode?: string,
  opts: { expect?: number | number[] } = {},
): Promise<Exchange> {
  const body: Record<string, string> = { email: account.email, password: account.password };
  if (totpCode !== undefined) body.totp_code = totpCode;
  return ctx.call('login', { body, ...(opts.expect === undefined ? {} : { expect: opts.expect }) });
}
