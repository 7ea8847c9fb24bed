import type { Knex } from 'knex';
import { loadContract, totpLockoutOf } from '../contract.ts';
import { Problem } from '../errors/problem.ts';

/**
 * Wrong codes in a row (login, verify, disable together) that lock TOTP checks, and for how
 * long: the contract's `x-totp-lockout` (5 and 15 minutes), never a number of our own.
 */
const { maxFailures, lockMs } = totpLockoutOf(loadContract().document);
export const TOTP_MAX_FAILURES = maxFailures;
export const TOTP_LOCK_MS = lockMs;

export function assertTotpNotLocked(lockedUntil: number | null, now: number): void {
  if (lockedUntil === null || lockedUntil <= now) return;
  const retryAfter = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
  throw new Problem(429, 'totp_locked', 'Too many wrong codes: code checks are locked for a while.', {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

/**
 * Counts one wrong code; the fifth locks the checks and restarts the count for after the lock.
 * Called inside checkSecondFactorCode's transaction, which holds the user's row, so the
 * count and the lock are one atomic step with the check itself.
 */
export async function recordTotpFailure(db: Knex | Knex.Transaction, userId: string, now: number): Promise<void> {
  await db.transaction(async (trx) => {
    const counted = await trx('users')
      .where({ id: userId })
      .andWhere((q) => q.whereNull('totp_locked_until').orWhere('totp_locked_until', '<=', now))
      .update({ totp_failed_count: trx.raw('totp_failed_count + 1') });
    if (counted === 0) return;
    const row = await trx('users').where({ id: userId }).first('totp_failed_count');
    if (row && Number(row.totp_failed_count) >= TOTP_MAX_FAILURES) {
      await trx('users').where({ id: userId }).update({ totp_failed_count: 0, totp_locked_until: now + TOTP_LOCK_MS });
    }
  });
}

/** A right code ends the run of failures. */
export async function clearTotpFailures(db: Knex | Knex.Transaction, userId: string): Promise<void> {
  await db('users').where({ id: userId }).andWhere('totp_failed_count', '>', 0).update({ totp_failed_count: 0 });
}
