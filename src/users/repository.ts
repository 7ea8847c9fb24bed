import type { Knex } from 'knex';
import { selectRows } from '../db/raw-rows.ts';

/** A `users` row with booleans normalised (SQLite stores 0/1) and times as epoch ms. */
export interface UserRow {
  id: string;
  email: string;
  email_normalized: string;
  password_hash: string;
  full_name: string;
  company_name: string | null;
  phone: string | null;
  is_active: boolean;
  totp_enabled: boolean;
  totp_secret_enc: string | null;
  totp_pending_secret_enc: string | null;
  totp_last_step: number | null;
  totp_failed_count: number;
  totp_locked_until: number | null;
  created_at: number;
  updated_at: number;
}

/** The public profile columns the authentication fast path reads (src/db/fast-path/). */
export type ProfileRow = Pick<UserRow, 'id' | 'email' | 'full_name' | 'company_name' | 'phone' | 'is_active' | 'totp_enabled' | 'created_at'>;

/** A raw profile row (either driver) with booleans and times normalised. */
export function profileFromDb(row: Record<string, unknown> | undefined): ProfileRow | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id as string,
    email: row.email as string,
    full_name: row.full_name as string,
    company_name: (row.company_name ?? null) as string | null,
    phone: (row.phone ?? null) as string | null,
    is_active: Boolean(row.is_active),
    totp_enabled: Boolean(row.totp_enabled),
    created_at: Number(row.created_at),
  };
}

/** Addresses are unique case-insensitively: stored as given, compared in this form. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').toLowerCase();
}

/** A raw `users` row (either driver) as a UserRow; also used by the authentication fast path. */
export function fromDb(row: Record<string, unknown> | undefined): UserRow | undefined {
  if (row === undefined) return undefined;
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    ...(row as unknown as UserRow),
    is_active: Boolean(row.is_active),
    totp_enabled: Boolean(row.totp_enabled),
    totp_last_step: num(row.totp_last_step),
    totp_failed_count: Number(row.totp_failed_count ?? 0),
    totp_locked_until: num(row.totp_locked_until),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

export async function findUserById(db: Knex, id: string): Promise<UserRow | undefined> {
  // Raw SQL: this runs on every authenticated request (see selectRows).
  const [row] = await selectRows<Record<string, unknown>>(db, 'SELECT * FROM users WHERE id = ?', [id]);
  return fromDb(row);
}

export async function findUserByEmail(db: Knex, email: string): Promise<UserRow | undefined> {
  return fromDb(await db('users').where({ email_normalized: normalizeEmail(email) }).first());
}

export interface NewUser {
  id: string;
  email: string;
  password_hash: string;
  full_name: string;
  company_name: string | null;
  now: number;
}

/** Throws the driver's unique-violation error when the address is taken (see isUniqueViolation). */
export async function insertUser(db: Knex, u: NewUser): Promise<UserRow> {
  const row = {
    id: u.id,
    email: u.email,
    email_normalized: normalizeEmail(u.email),
    password_hash: u.password_hash,
    full_name: u.full_name,
    company_name: u.company_name,
    phone: null,
    is_active: true,
    totp_enabled: false,
    totp_secret_enc: null,
    totp_pending_secret_enc: null,
    totp_last_step: null,
    totp_failed_count: 0,
    totp_locked_until: null,
    created_at: u.now,
    updated_at: u.now,
  };
  await db('users').insert(row);
  return row;
}

export type UserPatch = Partial<Pick<UserRow, 'full_name' | 'company_name' | 'phone' | 'password_hash' | 'is_active'>>;

/** Returns the number of rows changed (0 when the user does not exist). */
export async function updateUser(db: Knex | Knex.Transaction, id: string, patch: UserPatch, now: number): Promise<number> {
  return db('users').where({ id }).update({ ...patch, updated_at: now });
}

/** Used by the admin CLI and the conformance harness. */
export async function setUserActive(db: Knex, email: string, active: boolean, now: number): Promise<UserRow | undefined> {
  const user = await findUserByEmail(db, email);
  if (user === undefined) return undefined;
  await db.transaction(async (trx) => {
    await updateUser(trx, user.id, { is_active: active }, now);
    // Issue #10: a reactivation must not bring back what existed before the deactivation.
    if (!active) {
      await trx('sessions').where({ user_id: user.id }).whereNull('revoked_at').update({ revoked_at: now });
      await trx('api_keys').where({ user_id: user.id }).whereNull('revoked_at').update({ revoked_at: now });
      // Issue 17 (SEC 30): nor a reset link mailed before it.
      await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').delete();
    }
  });
  return { ...user, is_active: active, updated_at: now };
}
