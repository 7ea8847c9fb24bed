import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { generateResetToken, hashResetToken, RESET_TOKEN_TTL_MS } from './reset-token.ts';

/**
 * Locks the account's row for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite
 * serialises writers anyway) and says whether it is active. Issuing, confirming and
 * deactivating all take this lock first, so they cannot interleave (issue 17).
 */
export async function lockActiveUser(trx: Knex.Transaction, userId: string): Promise<boolean> {
  const query = trx('users').where({ id: userId }).first('is_active');
  const row = await (trx.client.config.client === 'pg' ? query.forUpdate() : query);
  return row !== undefined && Boolean(row.is_active);
}

/** Voids (deletes) every unused token of the account; returns how many. */
export async function voidUnusedResetTokens(trx: Knex | Knex.Transaction, userId: string): Promise<number> {
  return trx('password_reset_tokens').where({ user_id: userId }).whereNull('used_at').delete();
}

/**
 * Issues a new token for the user, voiding (deleting) every unused older one, and returns the
 * plaintext — or undefined when the account is (by now) deactivated. One unused token per
 * account is also enforced by a partial unique index (migration 002, SEC 30); the row lock
 * makes concurrent requests wait for each other instead of failing on it: the last one wins.
 */
export async function issueResetToken(db: Knex, userId: string, now: number): Promise<string | undefined> {
  const token = generateResetToken();
  const issued = await db.transaction(async (trx) => {
    if (!(await lockActiveUser(trx, userId))) return false;
    await voidUnusedResetTokens(trx, userId);
    await trx('password_reset_tokens').insert({
      id: randomUUID(),
      user_id: userId,
      token_hash: hashResetToken(token),
      created_at: now,
      expires_at: now + RESET_TOKEN_TTL_MS,
      used_at: null,
    });
    return true;
  });
  return issued ? token : undefined;
}

export interface LiveResetToken {
  id: string;
  userId: string;
}

/** The token's row if it is known, unused and unexpired; undefined otherwise (one answer for all). */
export async function findLiveResetToken(db: Knex, token: string, now: number): Promise<LiveResetToken | undefined> {
  const row = await db('password_reset_tokens')
    .where({ token_hash: hashResetToken(token) })
    .whereNull('used_at')
    .andWhere('expires_at', '>', now)
    .first('id', 'user_id');
  return row ? { id: row.id, userId: row.user_id } : undefined;
}

/**
 * Marks the token used. Conditional on still being unused and unexpired, so of several
 * concurrent confirms exactly one sees one affected row and goes on to change the password.
 */
export async function spendResetToken(trx: Knex | Knex.Transaction, id: string, now: number): Promise<boolean> {
  const updated = await trx('password_reset_tokens')
    .where({ id })
    .whereNull('used_at')
    .andWhere('expires_at', '>', now)
    .update({ used_at: now });
  return updated === 1;
}
