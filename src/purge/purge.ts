import type { Knex } from 'knex';
import type { Contract } from '../contract.ts';

/** Rows deleted by one purge, per table. */
export interface PurgeResult {
  sessions: number;
  resetTokens: number;
  backupCodes: number;
  rateLimits: number;
}

/**
 * Expired or revoked sessions and reset tokens are kept this long after they stopped working
 * (for an operator looking into an incident), then deleted.
 */
export const RETENTION_MS = 24 * 3600 * 1000;

/**
 * Deletes what can never be used again. Every statement is a DELETE with a time cutoff, so it
 * is idempotent and safe to run from several instances at once (each row goes once; a
 * concurrent run just finds less). A deleted row answers exactly as its used/revoked/expired
 * self did: a purged session is 401, a purged reset token 400, a purged spent backup code a
 * wrong code, a purged budget a closed window.
 */
/** How far this process's clock may run ahead of the database's before purge could touch an open budget. */
const CLOCK_SKEW_MARGIN_MS = 10 * 60 * 1000;

export async function purgeExpired(db: Knex, contract: Contract, now: number): Promise<PurgeResult> {
  const cutoff = now - RETENTION_MS;
  const sessions = await db('sessions')
    .where('expires_at', '<', cutoff)
    .orWhere((q) => q.whereNotNull('revoked_at').andWhere('revoked_at', '<', cutoff))
    .delete();
  const resetTokens = await db('password_reset_tokens')
    .where('expires_at', '<', cutoff)
    .orWhere((q) => q.whereNotNull('used_at').andWhere('used_at', '<', cutoff))
    .delete();
  // A spent backup code is refused whether its row is there or not; keep none.
  const backupCodes = await db('backup_codes').whereNotNull('used_at').andWhere('used_at', '<', now).delete();
  // A budget whose window opened longer ago than the longest window of the contract is closed for every policy.
  // On PostgreSQL window_start is the database's clock (issue 17): a margin, so a process clock a few minutes
  // ahead of it never deletes an open budget.
  const rateLimits = await db('rate_limits').where('window_start', '<', now - longestWindowMs(contract) - CLOCK_SKEW_MARGIN_MS).delete();
  return { sessions, resetTokens, backupCodes, rateLimits };
}

export function longestWindowMs(contract: Contract): number {
  let longest = 0;
  for (const op of contract.operations.values()) {
    longest = Math.max(longest, op.rateLimit.window_seconds, op.failureRateLimit?.window_seconds ?? 0);
  }
  return longest * 1000;
}
