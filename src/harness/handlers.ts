import type { components, operations } from '../../generated/harness.d.ts';
import { ShiftableClock } from '../clock.ts';
import type { AppContext, AppDeps } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { clientIdentityOf } from '../http/client-ip.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { hashPassword } from '../auth/passwords.ts';
import { findUserByEmail, normalizeEmail, setUserActive } from '../users/repository.ts';
import type { Context } from 'openapi-backend';

type Body<Op extends keyof operations> = operations[Op] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type ClockState = components['schemas']['ClockState'];
type AccountState = components['schemas']['AccountState'];
type HarnessHandler = (c: Context, ctx: AppContext) => Promise<void>;

/** The harness needs a clock it can move; createApp gives one whenever HARNESS_TOKEN is set. */
function shiftable(deps: AppDeps): ShiftableClock {
  if (!(deps.clock instanceof ShiftableClock)) throw new Error('the harness needs a ShiftableClock in deps.clock');
  return deps.clock;
}

function clockState(clock: ShiftableClock): ClockState {
  return { now: new Date(clock.now()).toISOString(), offset_seconds: Math.floor(clock.offsetMs / 1000) };
}

export function createHarnessHandlers(deps: AppDeps): Record<keyof operations, HarnessHandler> {
  const setActive = (active: boolean): HarnessHandler => async (c, ctx) => {
    const { email } = c.request.requestBody as Body<'harnessDeactivateAccount'>;
    const user = await setUserActive(deps.db, email, active, deps.clock.now());
    if (user === undefined) throw new Problem(404, 'user_not_found', 'No account has this e-mail address.');
    const body: AccountState = { id: user.id, email: user.email, is_active: user.is_active };
    ctx.status = 200;
    ctx.body = body;
  };

  return {
    harnessDeactivateAccount: setActive(false),
    harnessActivateAccount: setActive(true),

    // An account hashed before SCRYPT_LOG_N was raised, for the SEC 32 check (issue 17).
    async harnessSetPasswordHash(c, ctx) {
      const { email, password, log_n: logN } = c.request.requestBody as Body<'harnessSetPasswordHash'>;
      const user = await findUserByEmail(deps.db, email);
      if (user === undefined) throw new Problem(404, 'user_not_found', 'No account has this e-mail address.');
      const hash = await hashPassword(password, logN);
      await deps.db('users').where({ id: user.id }).update({ password_hash: hash });
      ctx.status = 200;
      ctx.body = { id: user.id, email: user.email, log_n: logN } satisfies components['schemas']['PasswordHashState'];
    },

    async harnessGetClock(_c, ctx) {
      ctx.status = 200;
      ctx.body = clockState(shiftable(deps));
    },

    async harnessAdvanceClock(c, ctx) {
      const { seconds } = c.request.requestBody as Body<'harnessAdvanceClock'>;
      const clock = shiftable(deps);
      clock.advance(seconds * 1000);
      ctx.status = 200;
      ctx.body = clockState(clock);
    },

    async harnessResetClock(_c, ctx) {
      const clock = shiftable(deps);
      clock.reset();
      ctx.status = 200;
      ctx.body = clockState(clock);
    },

    async harnessSetDatabaseFault(c, ctx) {
      const { unavailable_seconds: seconds } = c.request.requestBody as Body<'harnessSetDatabaseFault'>;
      const until = seconds === 0 ? null : deps.clock.now() + seconds * 1000;
      deps.faults.databaseUnavailableUntil = until;
      ctx.status = 200;
      ctx.body = { unavailable_until: until === null ? null : new Date(until).toISOString() } satisfies components['schemas']['DatabaseFault'];
    },

    async harnessResetRateLimits(c, ctx) {
      const { ip, email } = c.request.requestBody as Body<'harnessResetRateLimits'>;
      let reset = 0;
      if (ip !== undefined) reset += await deps.limiter.reset(budgetKey('ip', clientIdentityOf(deps.config, ip)));
      if (email !== undefined) reset += await deps.limiter.reset(budgetKey('account', normalizeEmail(email)));
      ctx.status = 200;
      ctx.body = { reset } satisfies components['schemas']['RateLimitResetResult'];
    },
  };
}
