import type { BuiltApp } from '../../../src/app.ts';
import { hashResetToken } from '../../../src/password-reset/reset-token.ts';

// Sequence bugs planted INSIDE the reference server for the stateful self-test (server-side:
// the fault changes the server's stored state, not its answers; every answer stays
// well-formed, so only a check that follows the account's state across operations sees it).
// Each is a Koa middleware put first in the app's chain (startReference's `prepare`): after the
// real handler ran, it undoes part of what the handler stored, the way a real implementation
// with that bug would never have stored it.

export interface SequenceFault {
  name: string;
  /** What the broken deployment does wrong, and the shortest story that shows it. */
  breaks: string;
  plant(built: BuiltApp): void;
}

type Mw = BuiltApp['app']['middleware'][number];

function first(built: BuiltApp, mw: Mw): void {
  // Koa composes `app.middleware` when the server starts listening: first = outermost.
  built.app.middleware.unshift(mw);
}

export const sequenceFaults: SequenceFault[] = [
  {
    name: 'logout-after-password-change',
    breaks:
      'after a password change, logging out answers 200 but leaves the session usable (a session cache re-keyed by the change, ' +
      'evicted under the old key): change password → log out → the token still answers 200',
    plant(built) {
      const changed = new Set<string>();
      first(built, async (ctx, next) => {
        await next();
        const principal = ctx.state.principal;
        if (ctx.method !== 'POST' || ctx.status !== 200 || principal?.kind !== 'session') return;
        if (ctx.path === '/auth/password/change') changed.add(principal.userId);
        if (ctx.path === '/auth/logout' && changed.has(principal.userId)) {
          await built.deps.db('sessions').where({ id: principal.sessionId }).update({ revoked_at: null });
        }
      });
    },
  },
  {
    name: 'reset-keeps-api-keys',
    breaks:
      'a password reset revokes every session but not the API keys minted with the old password: ' +
      'create a key → request a reset → confirm it → the key still answers 200',
    plant(built) {
      first(built, async (ctx, next) => {
        await next();
        if (ctx.method !== 'POST' || ctx.path !== '/auth/password-reset/confirm' || ctx.status !== 200) return;
        const token = (ctx.request as { body?: { token?: unknown } }).body?.token;
        if (typeof token !== 'string') return;
        const db = built.deps.db;
        const row = await db('password_reset_tokens').where({ token_hash: hashResetToken(token) }).first('user_id', 'used_at');
        if (!row?.used_at) return;
        await db('api_keys').where({ user_id: row.user_id }).andWhere('revoked_at', '>=', row.used_at).update({ revoked_at: null });
      });
    },
  },
];
