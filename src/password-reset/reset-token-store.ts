import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { generateResetToken, hashResetToken, RESET_TOKEN_TTL_MS } from './reset-token.ts';

/** Issues a new token for the user, voiding (deleting) every unused older one. Returns the plaintext. */
export async function issueResetToken(db: Knex, userId: string, now: number): Promise<string> {
  const token = generateResetToken();
  await db.transaction(async (trx) => {
    await trx('password_reset_tokens').where({ user_id: userId }).whereNull('used_at').delete();
    await trx('password_reset_tokens').insert({
      id: randomUUID(),
      user_id: userId,
      token_hash: hashResetToken(token),
      created_at: now,
      expires_at: now + RESET_TOKEN_TTL_MS,
      used_at: null,
    });
  });
  return token;
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
