import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { deriveBackupCodeKey, generateBackupCodes, hashBackupCode } from './backup-codes.ts';

/** Replaces the user's backup codes with five new ones; returns the plaintext (shown once). */
export async function replaceBackupCodes(trx: Knex.Transaction, dataKey: Buffer, userId: string): Promise<string[]> {
  const key = deriveBackupCodeKey(dataKey);
  const codes = generateBackupCodes();
  await trx('backup_codes').where({ user_id: userId }).delete();
  await trx('backup_codes').insert(
    codes.map((code) => ({ id: randomUUID(), user_id: userId, code_hash: hashBackupCode(key, code), used_at: null })),
  );
  return codes;
}

/**
 * Spends one backup code. The conditional UPDATE (unused only) is the single point of
 * truth: of N concurrent requests with the same code, exactly one sees one affected row.
 */
export async function spendBackupCode(db: Knex | Knex.Transaction, dataKey: Buffer, userId: string, code: string, now: number): Promise<boolean> {
  const updated = await db('backup_codes')
    .where({ user_id: userId, code_hash: hashBackupCode(deriveBackupCodeKey(dataKey), code) })
    .whereNull('used_at')
    .update({ used_at: now });
  return updated === 1;
}

export async function deleteBackupCodes(trx: Knex | Knex.Transaction, userId: string): Promise<void> {
  await trx('backup_codes').where({ user_id: userId }).delete();
}
