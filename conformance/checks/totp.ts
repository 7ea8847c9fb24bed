import { wrongPassword } from '../framework/accounts.ts';
import { feature, withCurrentPassword } from '../framework/features.ts';
import type { CheckContext, CheckDef } from '../framework/types.ts';
import { expectProblem, expectStatusSoft, retryAfterSeconds } from '../lib/problems.ts';
import { decodeQrDataUrl } from '../lib/qr.ts';
import { decodeBase32, timeStepAt, totpForStep } from '../lib/totp.ts';
import { attemptLogin, deviceFor, enableTotp, quietStep } from '../lib/totp-flow.ts';

// TOTP (SECURITY.md 13–16, 10): every code is computed by the suite from the provisioned
// secret (conformance/lib/totp.ts, its own RFC 6238 implementation) at the server's time.

const area = 'totp';
const BACKUP_CODE = /^[a-z0-9]{8}$/u;
/** TOTP checks may wait for the next 30 s step when no harness can move the clock. */
const TOTP_TIMEOUT_MS = 180_000;

/** An account of the check's own (AccountFactory.own); `giveBack` when the check leaves it as
 * it found it (enableTotp's cleanup disables TOTP first). */
function ownSession(ctx: CheckContext, giveBack: boolean) {
  return ctx.accounts.own({ giveBack });
}

const provisionFormat: CheckDef = {
  id: 'TOTP-01',
  area,
  level: 'MUST',
  title: 'Provisioning returns a 160-bit base32 secret, an otpauth URI with issuer Quazzar, and a QR PNG that encodes exactly that URI (SEC 13)',
  owns: {},
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, false);
    const ex = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(ex, 200);
    const { secret, uri, qr_code: qrCode } = ex.body ?? {};
    ctx.require(typeof secret === 'string' && typeof uri === 'string' && typeof qrCode === 'string', 'secret, uri and qr_code must be strings', ex);

    let bits = 0;
    try {
      bits = decodeBase32(secret).length * 8;
    } catch (error) {
      ctx.expect(false, `secret is not base32: ${(error as Error).message}`, ex);
    }
    ctx.expect(bits === 160, `secret carries ${bits} bits, expected 160`, ex);

    let parsed: URL | undefined;
    try {
      parsed = new URL(uri);
    } catch {
      ctx.expect(false, `uri is not a URL: ${uri}`, ex);
    }
    if (parsed) {
      ctx.expect(parsed.protocol === 'otpauth:' && parsed.host === 'totp', `uri must start with otpauth://totp/, got ${uri}`, ex);
      const label = decodeURIComponent(parsed.pathname.replace(/^\//u, ''));
      ctx.expect(
        label.toLowerCase() === `quazzar:${session.account.email.toLowerCase()}`,
        `uri label must be "Quazzar:<email>", got "${label}"`,
        ex,
      );
      const q = parsed.searchParams;
      ctx.expect(q.get('secret')?.replace(/=+$/u, '').toUpperCase() === secret.replace(/=+$/u, '').toUpperCase(), 'uri secret differs from the secret field', ex);
      ctx.expect(q.get('issuer') === 'Quazzar', `uri issuer must be Quazzar, got ${String(q.get('issuer'))}`, ex);
      ctx.expect(!q.has('algorithm') || q.get('algorithm')?.toUpperCase() === 'SHA1', `uri algorithm must be SHA1, got ${String(q.get('algorithm'))}`, ex);
      ctx.expect(!q.has('digits') || q.get('digits') === '6', `uri digits must be 6, got ${String(q.get('digits'))}`, ex);
      ctx.expect(!q.has('period') || q.get('period') === '30', `uri period must be 30, got ${String(q.get('period'))}`, ex);
    }

    try {
      const decoded = decodeQrDataUrl(qrCode);
      ctx.expect(decoded === uri, `the QR code decodes to "${decoded}", not to the uri`, ex);
    } catch (error) {
      ctx.expect(false, `qr_code: ${(error as Error).message}`, ex);
    }
  },
};

const verifyEnables: CheckDef = {
  id: 'TOTP-02',
  area,
  level: 'MUST',
  title: 'Verify with a code computed from the secret enables TOTP and returns 5 distinct backup codes [a-z0-9]{8}; provisioning again replaces the pending secret (SEC 13, 16)',
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const first = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(first, 200);
    const stale = deviceFor(ctx, first.body.secret as string);
    const enabled = await enableTotp(ctx, session); // provisions again, then verifies (stale device never used a step)
    ctx.expect(enabled.provision.body.secret !== first.body.secret, 'provisioning twice returned the same secret', enabled.provision);
    // The first (replaced) secret must no longer be accepted: checked after enabling, as a
    // disable attempt, so a failure cannot leave the account half-provisioned.
    const staleTry = await ctx.call('disableTotp', { token: session.token, body: { code: (await stale.continueAfter(enabled.device).nextCode()).code } });
    expectProblem(ctx, staleTry, 422, 'invalid_totp_code', 'a code of the replaced (first) secret');

    const codes = enabled.backupCodes;
    ctx.expect(codes.length === 5, `expected 5 backup codes, got ${codes.length}`, enabled.verify);
    ctx.expect(codes.every((c) => BACKUP_CODE.test(c)), `backup codes must match ^[a-z0-9]{8}$: ${codes.length} received`, enabled.verify);
    ctx.expect(new Set(codes).size === codes.length, 'backup codes are not distinct', enabled.verify);
    // The text is an enum of the contract (TotpEnabled.message), not only an example.
    ctx.expect(enabled.verify.body?.message === 'TOTP successfully enabled', 'verify message must be the TotpEnabled.message enum value "TOTP successfully enabled"', enabled.verify);

    const me = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(me, 200);
    ctx.expect(me.body?.totp_enabled === true, 'GET /users/me must show totp_enabled: true after verify', me);
  },
};

const conflicts: CheckDef = {
  id: 'TOTP-03',
  area,
  level: 'MUST',
  title: 'TOTP state conflicts answer 409: verify before provision, provision or verify while enabled, disable while disabled',
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const early = await ctx.call('verifyTotp', { token: session.token, body: { code: '123456' } });
    expectProblem(ctx, early, 409, 'totp_not_provisioned', 'verify before provision');
    const off = await ctx.call('disableTotp', { token: session.token, body: { code: '123456' } });
    expectProblem(ctx, off, 409, 'totp_not_enabled', 'disable while TOTP is off');
    const { device } = await enableTotp(ctx, session);
    const again = await ctx.call('provisionTotp', { token: session.token });
    expectProblem(ctx, again, 409, 'totp_already_enabled', 'provision while TOTP is on');
    const reverify = await ctx.call('verifyTotp', { token: session.token, body: { code: (await device.nextCode()).code } });
    expectProblem(ctx, reverify, 409, 'totp_already_enabled', 'verify while TOTP is on');
  },
};

const loginRequiresTotp: CheckDef = {
  id: 'TOTP-04',
  area,
  level: 'MUST',
  title: 'With TOTP on, login needs a valid code: totp_required / invalid_totp_code only after a correct password (SEC 5)',
  cost: { login: 5 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const account = session.account;
    const { device } = await enableTotp(ctx, session);
    expectProblem(ctx, await attemptLogin(ctx, account), 401, 'totp_required', 'right password, no totp_code');
    const wrongNoCode = await attemptLogin(ctx, { email: account.email, password: wrongPassword(account.password) });
    expectProblem(ctx, wrongNoCode, 401, 'invalid_credentials', 'wrong password, no totp_code (must not reveal that TOTP is on)');
    expectProblem(ctx, await attemptLogin(ctx, account, await device.wrongCode()), 401, 'invalid_totp_code', 'right password, wrong totp_code');
    const withValidCode = await attemptLogin(ctx, { email: account.email, password: wrongPassword(account.password) }, device);
    expectProblem(ctx, withValidCode, 401, 'invalid_credentials', 'wrong password with a valid totp_code (must not reveal that TOTP is on)');
    const ok = await attemptLogin(ctx, account, device);
    if (expectStatusSoft(ctx, ok, 200, 'right password and a fresh code')) {
      ctx.expect(ok.body?.user?.totp_enabled === true, 'login response user.totp_enabled must be true', ok);
    }
  },
};

const replay: CheckDef = {
  id: 'TOTP-05',
  area,
  level: 'MUST',
  title: 'A TOTP code (time step) is accepted once per user: the code used to verify, or to log in, is refused when replayed (SEC 14)',
  cost: { login: 3 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const { device } = await enableTotp(ctx, session);
    const verifyCode = device.lastCode!;
    expectProblem(ctx, await attemptLogin(ctx, session.account, verifyCode), 401, 'invalid_totp_code', 'login replaying the code used by verify');
    const ok = await attemptLogin(ctx, session.account, device); // a fresh code, once the login budget is reserved
    const fresh = device.lastCode!;
    expectStatusSoft(ctx, ok, 200, 'login with a fresh code');
    expectProblem(ctx, await attemptLogin(ctx, session.account, fresh), 401, 'invalid_totp_code', 'second login replaying the same code');
    const disableReplay = await ctx.call('disableTotp', { token: session.token, body: { code: fresh } });
    expectProblem(ctx, disableReplay, 422, 'invalid_totp_code', 'disable replaying a code already used at login');
  },
};

/** The contract's `x-totp-lockout`: wrong codes in a row, and how long the lock lasts. */
function lockoutPolicy(ctx: CheckContext): { maxFailures: number; lockSeconds: number } {
  const raw = ctx.contract.document?.['x-totp-lockout'] as { max_failures?: unknown; lock_seconds?: unknown } | undefined;
  const maxFailures = Number(raw?.max_failures);
  const lockSeconds = Number(raw?.lock_seconds);
  if (!Number.isInteger(maxFailures) || maxFailures < 1 || !Number.isInteger(lockSeconds) || lockSeconds < 1) {
    ctx.skip('the contract documents no x-totp-lockout {max_failures, lock_seconds}');
  }
  return { maxFailures, lockSeconds };
}

const lockout: CheckDef = {
  id: 'TOTP-06',
  area,
  level: 'MUST',
  title: 'x-totp-lockout: max_failures wrong TOTP codes in a row (login and disable together) lock TOTP checks for lock_seconds: 429 totp_locked with Retry-After, even for a right code (SEC 15)',
  cost: { login: 2 },
  requires: [feature.extension('x-totp-lockout')],
  owns: {},
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const { maxFailures, lockSeconds } = lockoutPolicy(ctx);
    const session = await ownSession(ctx, false);
    const { device } = await enableTotp(ctx, session);
    const wrong = await device.wrongCode();
    // Spread over login and disable: the counter is one per user, not one per operation.
    const atLogin = Math.min(1, maxFailures - 1);
    for (let i = 1; i <= maxFailures; i += 1) {
      if (i <= atLogin) {
        expectProblem(ctx, await attemptLogin(ctx, session.account, wrong), 401, 'invalid_totp_code', `wrong code #${i} at login`);
      } else {
        const ex = await ctx.call('disableTotp', { token: session.token, body: { code: wrong } });
        expectProblem(ctx, ex, 422, 'invalid_totp_code', `wrong code #${i} at disable`);
      }
    }
    const lockedDisable = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code }, expect: 429 });
    expectProblem(ctx, lockedDisable, 429, 'totp_locked', `a right code after ${maxFailures} wrong ones (disable)`);
    const retry = retryAfterSeconds(lockedDisable);
    ctx.expect(retry !== undefined && retry <= lockSeconds + 5, `Retry-After must be whole seconds in 1..${lockSeconds}, got ${String(lockedDisable.headers['retry-after'])}`, lockedDisable);
    const lockedLogin = await attemptLogin(ctx, session.account, (await device.nextCode()).code, { expect: 429 });
    expectProblem(ctx, lockedLogin, 429, 'totp_locked', 'login with the right password and a right code while locked');

    if (!ctx.harness) {
      ctx.note(`the ${lockSeconds} s lock is not waited out without a harness clock; TOTP stays locked on this account`);
      ctx.partial(`the lock ends after ${lockSeconds} s and a right code works again (needs the harness clock)`);
      return;
    }
    // The clock only moves forward: moving it back would keep windows opened meanwhile open.
    await ctx.harness.advanceClock((retry ?? lockSeconds) + 1);
    // The lock outlasts x-recent-authentication: the session is no longer a recent login.
    const after = await ctx.call('disableTotp', { token: session.token, body: withCurrentPassword(ctx.contract, 'disableTotp', { code: (await device.nextCode()).code }, session.account.password) });
    expectStatusSoft(ctx, after, 200, 'a right code once Retry-After has passed (harness clock)');
  },
};

const backupSingleUse: CheckDef = {
  id: 'TOTP-07',
  area,
  level: 'MUST',
  title: 'A backup code logs in once in place of a TOTP code, and is refused the second time (SEC 16)',
  cost: { login: 2 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const { backupCodes } = await enableTotp(ctx, session);
    ctx.require(backupCodes.length > 0, 'verify returned no backup codes');
    const code = backupCodes[0]!;
    const first = await attemptLogin(ctx, session.account, code);
    expectStatusSoft(ctx, first, 200, 'login with an unused backup code');
    expectProblem(ctx, await attemptLogin(ctx, session.account, code), 401, 'invalid_totp_code', 'the same backup code again');
  },
};

const backupConcurrent: CheckDef = {
  id: 'TOTP-08',
  area,
  level: 'MUST',
  title: 'A backup code is spent atomically: 5 concurrent logins with one code → exactly one 200 (SEC 16)',
  cost: { login: 5 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const { backupCodes } = await enableTotp(ctx, session);
    ctx.require(backupCodes.length > 1, 'verify returned too few backup codes');
    const code = backupCodes[1]!;
    const attempts = await Promise.all(Array.from({ length: 5 }, () => attemptLogin(ctx, session.account, code)));
    const winners = attempts.filter((a) => a.status === 200);
    ctx.expect(winners.length === 1, `expected exactly one 200 among 5 concurrent logins, got ${winners.length} (statuses ${attempts.map((a) => a.status).join(',')})`, winners[1] ?? attempts[0]);
    for (const loser of attempts.filter((a) => a.status !== 200)) {
      expectProblem(ctx, loser, 401, 'invalid_totp_code', 'a concurrent login that lost the race');
    }
  },
};

const disableFlow: CheckDef = {
  id: 'TOTP-09',
  area,
  level: 'MUST',
  title: 'Disabling TOTP needs a valid code (a backup code works), then login needs none and the old backup codes are deleted (SEC 16)',
  cost: { login: 2 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const { backupCodes, device } = await enableTotp(ctx, session);
    ctx.require(backupCodes.length === 5, 'verify did not return 5 backup codes');
    const missing = await ctx.call('disableTotp', { token: session.token, body: {} });
    expectStatusSoft(ctx, missing, 422, 'disable without a code');
    const wrong = await ctx.call('disableTotp', { token: session.token, body: { code: await device.wrongCode() } });
    expectProblem(ctx, wrong, 422, 'invalid_totp_code', 'disable with a wrong code');
    const off = await ctx.call('disableTotp', { token: session.token, body: { code: backupCodes[0]! } });
    ctx.expectStatus(off, 200, 'disable with an unused backup code');
    // "TOTP disabled" is only the contract's example of a Message: any text will do.
    ctx.expect(typeof off.body?.message === 'string', `the answer must be a Message, got ${JSON.stringify(off.body)}`, off);
    const me = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expect(me.body?.totp_enabled === false, 'GET /users/me must show totp_enabled: false after disable', me);
    const plain = await attemptLogin(ctx, session.account);
    expectStatusSoft(ctx, plain, 200, 'login without totp_code once TOTP is disabled');
    // Re-enable: the 4 unused backup codes of the first enrolment must be gone.
    await enableTotp(ctx, session, { after: device });
    const old = await attemptLogin(ctx, session.account, backupCodes[1]!);
    expectProblem(ctx, old, 401, 'invalid_totp_code', 'a backup code from before TOTP was disabled and re-enabled');
  },
};

const enableRevokesOthers: CheckDef = {
  id: 'TOTP-10',
  area,
  level: 'MUST',
  title: 'Enabling TOTP revokes the user\'s other sessions and keeps the current one (SEC 10)',
  cost: { login: 1 },
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const current = await ownSession(ctx, true);
    const other = await ctx.accounts.login(current.account);
    const before = await ctx.call('getCurrentUser', { token: other.token });
    ctx.expectStatus(before, 200, 'the other session works before TOTP is enabled');
    await enableTotp(ctx, current);
    const otherAfter = await ctx.call('getCurrentUser', { token: other.token, expect: 401 });
    expectProblem(ctx, otherAfter, 401, 'invalid_token', 'the other session after TOTP was enabled');
    const currentAfter = await ctx.call('getCurrentUser', { token: current.token });
    expectStatusSoft(ctx, currentAfter, 200, 'the session that enabled TOTP');
  },
};

const narrowWindow: CheckDef = {
  id: 'TOTP-11',
  area,
  level: 'MUST',
  title: 'Only codes within ±1 time step of the server clock are accepted: codes 2 steps early or late are refused (SEC 14)',
  owns: { giveBack: true },
  timeoutMs: TOTP_TIMEOUT_MS,
  async run(ctx: CheckContext) {
    const session = await ownSession(ctx, true);
    const provision = await ctx.call('provisionTotp', { token: session.token });
    ctx.expectStatus(provision, 200);
    const secret = provision.body.secret as string;
    // Clear of a step boundary (the server cannot cross one between our reading of its clock
    // and its check of the code), and past every step used on the account before: the code 2
    // steps old must be refused for its age, not as a replay.
    const step = timeStepAt(await quietStep(ctx, session.account, -2));
    const near = new Set([step - 1, step, step + 1].map((s) => totpForStep(secret, s)));
    for (const offset of [-2, 2]) {
      const code = totpForStep(secret, step + offset);
      if (near.has(code)) continue; // one in a million: the far code equals a near one
      const ex = await ctx.call('verifyTotp', { token: session.token, body: { code } });
      expectProblem(ctx, ex, 422, 'invalid_totp_code', `a code ${Math.abs(offset)} steps ${offset < 0 ? 'old' : 'ahead'}`);
    }
    // The right code then enables TOTP (and resets the failure counter).
    const device = deviceFor(ctx, secret, session.account);
    const ok = await ctx.call('verifyTotp', { token: session.token, body: { code: (await device.nextCode()).code } });
    expectStatusSoft(ctx, ok, 200, 'the code of the current step after the refusals');
    if (ok.status === 200) {
      ctx.defer(`disable TOTP of ${session.account.email}`, async () => {
        const off = await ctx.call('disableTotp', { token: session.token, body: { code: (await device.nextCode()).code } });
        if (off.status !== 200) throw new Error(`disableTotp answered ${off.status}`);
      });
    }
  },
};

export const totpChecks: CheckDef[] = [
  provisionFormat,
  verifyEnables,
  conflicts,
  loginRequiresTotp,
  replay,
  lockout,
  backupSingleUse,
  backupConcurrent,
  disableFlow,
  enableRevokesOthers,
  narrowWindow,
];
export default totpChecks;
