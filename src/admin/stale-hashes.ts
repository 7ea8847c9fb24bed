import type { Knex } from 'knex';
import { hashParams, needsRehash } from '../auth/passwords.ts';

export interface StaleHash {
  id: string;
  email: string;
  /** The stored hash's scrypt log2(N); null for a hash that cannot be read. */
  logN: number | null;
}

/**
 * Accounts whose stored password hash is weaker than the configured SCRYPT_LOG_N (made before
 * it was raised) or unreadable, by id. Login re-hashes them at the next right password
 * and pads a wrong one to the configured cost (SEC 32); this list tells the operator who has
 * not logged in since (e.g. to force a reset). Read in pages, so a large table is not loaded at once.
 */
export async function findStaleHashes(db: Knex, logN: number, pageSize = 1000): Promise<StaleHash[]> {
  const stale: StaleHash[] = [];
  let after = '';
  for (;;) {
    const rows = (await db('users').where('id', '>', after).orderBy('id').limit(pageSize).select('id', 'email', 'password_hash')) as
      { id: string; email: string; password_hash: string }[];
    for (const row of rows) {
      const params = hashParams(row.password_hash);
      if (params === undefined || needsRehash(row.password_hash, logN)) stale.push({ id: row.id, email: row.email, logN: params?.logN ?? null });
    }
    if (rows.length < pageSize) return stale;
    after = rows[rows.length - 1]!.id;
  }
}
