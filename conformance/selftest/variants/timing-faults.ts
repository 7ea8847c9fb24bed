import type { BuiltApp } from '../../../src/app.ts';
import { verifyPassword } from '../../../src/auth/passwords.ts';
import { findUserByEmail, normalizeEmail } from '../../../src/users/repository.ts';

// Timing faults planted INSIDE the reference server (issue 19, "timing checks that time what
// they say"): every answer stays exactly the documented one (same status, same body), only the
// time it takes differs between a registered and an unknown address. Each is a Koa middleware
// put first in the app's chain (startReference's `prepare`), as in sequence-faults.ts.

export interface TimingFault {
  name: string;
  /** What the broken deployment does wrong. */
  breaks: string;
  /** The check that must FAIL the run. */
  catches: string;
  /** The scrypt cost (log2 N) the fault needs to show: a fault made of one more hash shows only
   * when a hash costs clearly more than the check's threshold. */
  scryptLogN: number;
  plant(built: BuiltApp): void;
}

type Mw = BuiltApp['app']['middleware'][number];

function first(built: BuiltApp, mw: Mw): void {
  // Koa composes `app.middleware` when the server starts listening: first = outermost.
  built.app.middleware.unshift(mw);
}

const bodyOf = (ctx: Parameters<Mw>[0]): { email?: unknown; password?: unknown } =>
  ((ctx.request as { body?: unknown }).body ?? {}) as { email?: unknown; password?: unknown };

export const timingFaults: TimingFault[] = [
  {
    name: 'wrong-password-hashed-twice',
    breaks:
      'a wrong password for a registered address is verified twice (against the current hash, then against a "previous ' +
      'password" kept for a history rule) while an unknown address costs one dummy hash: the same 401, one scrypt slower',
    catches: 'LOGIN-03',
    // 2^15 (the server's default): a hash is ≈ 150 ms on a loaded 2-core machine. At 2^14
    // (≈ 65 ms) the fault showed a 65 ms median difference whose 95 % interval began at 24.9 ms:
    // one hash must cost well beyond the 25 ms threshold for its whole interval to clear it.
    scryptLogN: 15,
    plant(built) {
      first(built, async (ctx, next) => {
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/auth/login' || ctx.status !== 401) return;
        const { email, password } = bodyOf(ctx);
        if (typeof email !== 'string' || typeof password !== 'string') return;
        const user = await findUserByEmail(built.deps.db, email);
        if (user) await verifyPassword(user.password_hash, password);
      });
    },
  },
  {
    name: 'reset-awaits-its-mail',
    breaks:
      'a reset request for a registered address answers only once its mail was handed to the SMTP server (the handler ' +
      'awaits the send): the same 200, as late as the mail server is slow',
    catches: 'RESET-11',
    // No hashing in the timed path: the self-tests' fast cost.
    scryptLogN: 10,
    plant(built) {
      // Sends by recipient: when each started, and the send itself.
      const sends = new Map<string, { startedAt: number; done: Promise<unknown> }>();
      const mailer = built.deps.mailer;
      const send = mailer.send.bind(mailer);
      mailer.send = (message) => {
        const done = send(message);
        sends.set(normalizeEmail(message.to), { startedAt: performance.now(), done: done.catch(() => undefined) });
        return done;
      };
      first(built, async (ctx, next) => {
        const began = performance.now();
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/auth/password-reset/request' || ctx.status !== 200) return;
        const { email } = bodyOf(ctx);
        if (typeof email !== 'string') return;
        const user = await findUserByEmail(built.deps.db, email);
        if (!user?.is_active) return;
        // The send this request started (in the background): wait for it to begin, then end.
        const key = normalizeEmail(email);
        for (const giveUp = performance.now() + 5000; performance.now() < giveUp; ) {
          const started = sends.get(key);
          if (started && started.startedAt >= began) {
            await started.done;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      });
    },
  },
];
