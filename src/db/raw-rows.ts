import type { Knex } from 'knex';

/**
 * Rows of a raw SELECT on either driver (better-sqlite3 answers an array, pg `{ rows }`).
 * For the per-request hot path only: knex's query builder costs ~90 µs per query to
 * compile, several times the query itself. Bindings are `?` placeholders (knex maps them).
 */
export async function selectRows<T>(db: Knex, sql: string, bindings: readonly Knex.Value[]): Promise<T[]> {
  const raw: unknown = await db.raw(sql, bindings);
  return (Array.isArray(raw) ? raw : (raw as { rows: T[] }).rows) as T[];
}
