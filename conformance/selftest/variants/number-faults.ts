import type { BuiltApp } from '../../../src/app.ts';

// Documented numbers a deployment holds only from ABOVE, planted INSIDE the reference server
// (issue 19, "both sides of every number"): each fault keeps every answer well-formed and
// every announcement (exp, Retry-After, RateLimit) at the documented number, and lets a
// window, lock, lifetime or recent-authentication window end EARLY. The older checks, which
// prove "not longer than documented" and then follow what the server announces, pass them
// (`passes`); only the from-below check of conformance/checks/number-bounds.ts (`catches`)
// fails. Each is planted through startReference's `prepare` hook, like sequence-faults.ts.

export interface NumberFault {
  name: string;
  /** What the broken deployment does wrong. */
  breaks: string;
  /** The from-below check that must fail, naming the number. */
  catches: string;
  /** What its finding must say (the operation or extension, and the number). */
  finding: RegExp;
  /** The from-above checks of the same number, which this fault passes. */
  passes: string[];
  plant(built: BuiltApp): void;
}

type Mw = BuiltApp['app']['middleware'][number];

function first(built: BuiltApp, mw: Mw): void {
  // Koa composes `app.middleware` when the server starts listening: first = outermost.
  built.app.middleware.unshift(mw);
}

const MINUTE_MS = 60_000;

/** The limiter keeps `policy`'s windows `byMs` shorter than the contract's, and announces
 * (Retry-After, RateLimit t=) the documented window all the same. */
function shortWindow(built: BuiltApp, policyName: string, byMs: number): void {
  const limiter = built.deps.limiter;
  const consume = limiter.consume.bind(limiter);
  limiter.consume = async (policy, key, limit, windowMs) => {
    if (policy !== policyName) return consume(policy, key, limit, windowMs);
    const result = await consume(policy, key, limit, windowMs - byMs);
    return { ...result, resetMs: result.resetMs + byMs };
  };
}

export const numberFaults: NumberFault[] = [
  {
    name: 'login-window-50s',
    breaks:
      'the per-IP login budget is kept for 50 s instead of the documented 60 (a store TTL shorter than the window), ' +
      'while Retry-After and RateLimit still count down the 60 s window',
    catches: 'RATE-40',
    finding: /x-rate-limit "login" \(10 per 60 s per ip\) on login: the spent budget was served again/u,
    passes: ['RATE-01', 'RATE-05'],
    plant: (built) => shortWindow(built, 'login', 10_000),
  },
  {
    name: 'login-failures-window-50min',
    breaks: 'the per-account failed-login budget (x-rate-limit-failures, 100 per 3600 s) is kept for 50 minutes, while Retry-After counts down the hour',
    catches: 'RATE-04',
    finding: /x-rate-limit-failures "login-failures" \(100 per 3600 s per account\) on login: the right password 3595 s after the first failure \(before window_seconds\): expected 429 rate_limited, got 200/u,
    passes: [],
    plant: (built) => shortWindow(built, 'login-failures', 10 * MINUTE_MS),
  },
  {
    name: 'reset-recipient-window-50min',
    breaks: 'the per-address reset mail budget (x-rate-limit-recipient, 3 per 3600 s) is kept for 50 minutes: a fourth mail (voiding the live token) goes out before the hour',
    catches: 'HARDENING-41',
    finding: /x-rate-limit-recipient "password-reset-recipient" \(3 mails per 3600 s per address\) on requestPasswordReset: 3595 s after the first mail \(before window_seconds\) request #4 voided the live token/u,
    passes: ['HARDENING-06'],
    plant: (built) => shortWindow(built, 'password-reset-recipient', 10 * MINUTE_MS),
  },
  {
    name: 'totp-lock-10min',
    breaks: 'five wrong TOTP codes lock the account for 10 minutes instead of the documented 15 (x-totp-lockout.lock_seconds 900); Retry-After says 600',
    catches: 'TOTP-40',
    finding: /x-totp-lockout \(5 wrong codes, lock_seconds 900\): a right code \d+ s after the lock began \(before lock_seconds 900\): expected 429 totp_locked, got 200/u,
    passes: ['TOTP-06'],
    plant(built) {
      const { db, clock } = built.deps;
      first(built, async (_ctx, next) => {
        await next();
        const now = clock.now();
        // A lock just set (now + 15 min) is cut to now + 10 min; one already cut is left alone.
        await db('users')
          .where('totp_locked_until', '>', now + 10 * MINUTE_MS)
          .update({ totp_locked_until: db.raw('totp_locked_until - ?', [5 * MINUTE_MS]) });
      });
    },
  },
  {
    name: 'session-30min',
    breaks: 'a session ends on the server after 30 minutes while its token\'s exp (and the documented lifetime) says 60',
    catches: 'SESSIONS-40',
    finding: /session token lifetime: refused \(401\) 60 s before its exp, 3540 s after it was issued \(lifetime 3600 s\)/u,
    passes: ['SESSIONS-04'],
    plant(built) {
      const { db } = built.deps;
      first(built, async (ctx, next) => {
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/auth/login' || ctx.status !== 200) return;
        await db('sessions')
          .whereRaw('expires_at - created_at > ?', [30 * MINUTE_MS])
          .update({ expires_at: db.raw('created_at + ?', [30 * MINUTE_MS]) });
      });
    },
  },
  {
    name: 'recent-auth-5min',
    breaks: 'a session counts as a recent login for 5 minutes instead of x-recent-authentication.max_age_seconds (600)',
    catches: 'HARDENING-40',
    finding: /x-recent-authentication\.max_age_seconds 600: a session at most 595 s old was refused \(403 reauthentication_required\)/u,
    passes: ['HARDENING-05'],
    plant(built) {
      const { db, clock } = built.deps;
      first(built, async (ctx, next) => {
        const started = clock.now();
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/auth/login' || ctx.status !== 200) return;
        // The session this login made is recorded as 5 minutes older than it is.
        await db('sessions')
          .where('created_at', '>=', started)
          .update({ created_at: db.raw('created_at - ?', [5 * MINUTE_MS]) });
      });
    },
  },
];
