import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import { migrationSource } from './migration-source.ts';

// int8 (bigint) columns hold epoch milliseconds, well inside Number's safe range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A knex instance for SQLite (better-sqlite3: WAL, foreign keys on) or PostgreSQL. */
export function connectDatabase(database: DatabaseConfig): Knex {
  if (database.client === 'pg') {
    return knex({ client: 'pg', connection: database.connectionString, pool: { min: 0, max: 10 } });
  }
  if (database.filename !== ':memory:') mkdirSync(dirname(database.filename), { recursive: true });
  return knex({
    client: 'better-sqlite3',
    connection: { filename: database.filename },
    useNullAsDefault: true,
    // One connection: better-sqlite3 is synchronous, and an in-memory database exists per connection.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        try {
          cachePreparedStatements(conn);
          conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          // FULL: a commit is fsynced to the WAL before it is acknowledged, so an acknowledged
          // logout or revocation survives a power loss too, not only a process crash (DECISIONS, issue 9).
          conn.pragma('synchronous = FULL');
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
}

interface SqliteConnection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * knex prepares every query again (about as costly as running it); the SQL text of a query
 * shape never changes (values are bound), so keep the prepared statements of one connection.
 * Safe because better-sqlite3 runs each statement synchronously to completion, and SQLite
 * re-prepares a statement by itself after a schema change.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(sql); // re-inserted below: most recently used last
    }
    cache.set(sql, statement);
    return statement;
  };
}

export async function migrateToLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** True when a write failed on a unique index (SQLite and PostgreSQL error shapes). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
