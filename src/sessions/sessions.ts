import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AppDeps } from '../deps.ts';
import { selectRows } from '../db/raw-rows.ts';
import { signAccessToken } from './access-token.ts';

/** A new session row and its access token (every login gets a new one: new `jti`). */
export async function createSession(deps: AppDeps, userId: string): Promise<{ sessionId: string; accessToken: string }> {
  const now = deps.clock.now();
  const ttl = deps.config.accessTokenTtlSeconds;
  const sessionId = randomUUID();
  // exp is whole seconds; the row expires at the same instant as the token.
  const expiresAt = (Math.floor(now / 1000) + ttl) * 1000;
  await deps.db('sessions').insert({ id: sessionId, user_id: userId, created_at: now, expires_at: expiresAt, revoked_at: null });
  const accessToken = await signAccessToken(deps.keys.jwtSecret, { userId, sessionId }, now, ttl);
  return { sessionId, accessToken };
}

/**
 * True when the session exists, belongs to the user, is neither revoked nor expired, and the
 * user is active (one indexed query per authenticated request).
 */
export async function isSessionLiveForActiveUser(db: Knex, sessionId: string, userId: string, now: number): Promise<boolean> {
  const [row] = await selectRows<{ is_active: unknown }>(
    db,
    `SELECT users.is_active FROM sessions JOIN users ON users.id = sessions.user_id
     WHERE sessions.id = ? AND sessions.user_id = ? AND sessions.revoked_at IS NULL AND sessions.expires_at > ?`,
    [sessionId, userId, now],
  );
  return row !== undefined && Boolean(row.is_active);
}

export async function revokeSession(db: Knex, sessionId: string, now: number): Promise<void> {
  await db('sessions').where({ id: sessionId }).whereNull('revoked_at').update({ revoked_at: now });
}

/** Password change / TOTP enable keep the current session (`exceptSessionId`); password reset revokes all. */
export async function revokeAllSessions(db: Knex | Knex.Transaction, userId: string, now: number, exceptSessionId?: string): Promise<number> {
  const q = db('sessions').where({ user_id: userId }).whereNull('revoked_at');
  if (exceptSessionId !== undefined) q.whereNot({ id: exceptSessionId });
  return q.update({ revoked_at: now });
}
