import type { Knex } from 'knex';

/** The TOTP columns of one user row, with SQLite's 0/1 and pg's strings normalised. */
export interface TotpState {
  userId: string;
  email: string;
  enabled: boolean;
  secretEnc: string | null;
  pendingSecretEnc: string | null;
  lastStep: number | null;
  lockedUntil: number | null;
}

const nullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function loadTotpState(db: Knex | Knex.Transaction, userId: string, opts: { forUpdate?: boolean } = {}): Promise<TotpState | undefined> {
  const query = db('users').where({ id: userId });
  // Row lock on PostgreSQL; SQLite has no FOR UPDATE (its write transactions are serial anyway).
  if (opts.forUpdate === true && db.client.config.client === 'pg') query.forUpdate();
  const row = await query.first('id', 'email', 'totp_enabled', 'totp_secret_enc', 'totp_pending_secret_enc', 'totp_last_step', 'totp_locked_until');
  if (!row) return undefined;
  return {
    userId: row.id,
    email: row.email,
    enabled: Boolean(row.totp_enabled),
    secretEnc: row.totp_secret_enc ?? null,
    pendingSecretEnc: row.totp_pending_secret_enc ?? null,
    lastStep: nullableNumber(row.totp_last_step),
    lockedUntil: nullableNumber(row.totp_locked_until),
  };
}

/**
 * Records `step` as the user's last accepted time step, only if it is newer than the one
 * stored. Exactly one of several concurrent requests carrying the same code wins.
 */
export async function claimTimeStep(db: Knex | Knex.Transaction, userId: string, step: number): Promise<boolean> {
  const updated = await db('users')
    .where({ id: userId })
    .andWhere((q) => q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
    .update({ totp_last_step: step });
  return updated === 1;
}
