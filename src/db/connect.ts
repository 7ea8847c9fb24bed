import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import { createRequire } from 'node:module';
import type { DatabaseConfig } from '../config.ts';
import { closeFastPath, registerSqliteConnection } from './fast-path/index.ts';
import { migrationSource } from './migration-source.ts';

/**
 * pg (~8 MB of RSS) is loaded only by a server configured for PostgreSQL; knex itself
 * requires its driver lazily. int8 (bigint) columns hold epoch milliseconds, well inside
 * Number's safe range.
 */
function preparePg(): void {
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
}

// compileSqlOnError: false — by default knex writes a failed query into the error message
// with its bound values interpolated (password hashes, e-mail addresses, token hashes), and
// that message reaches the logs. With it off the message keeps the `?`/`$1` placeholders.

/** Bounds on every wait for PostgreSQL (ms). */
export const PG_TIMEOUTS = { connectMs: 2000, statementMs: 5000, acquireMs: 3000 };

/** A knex instance for SQLite (better-sqlite3: WAL, foreign keys on) or PostgreSQL. */
export function connectDatabase(database: DatabaseConfig): Knex {
  if (database.client === 'pg') {
    preparePg();
    // Never wait long for a database that is away: connect, statement and pool-acquire
    // timeouts turn an outage into fast 503s (src/errors/unavailable.ts), not hanging requests.
    return withFastPathClosed(knex({
      client: 'pg',
      connection: {
        connectionString: database.connectionString,
        connectionTimeoutMillis: PG_TIMEOUTS.connectMs,
        statement_timeout: PG_TIMEOUTS.statementMs,
        query_timeout: PG_TIMEOUTS.statementMs + 1000,
        keepAlive: true,
      },
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: PG_TIMEOUTS.acquireMs,
      compileSqlOnError: false,
    }));
  }
  if (database.filename !== ':memory:') mkdirSync(dirname(database.filename), { recursive: true });
  let current: (SqliteConnection & { open: boolean }) | undefined;
  const db = knex({
    client: 'better-sqlite3',
    connection: { filename: database.filename },
    useNullAsDefault: true,
    compileSqlOnError: false,
    // One connection: better-sqlite3 is synchronous, and an in-memory database exists per connection.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteConnection & { open: boolean }, done: (err: Error | null, conn: unknown) => void) => {
        try {
          cachePreparedStatements(conn);
          conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          // FULL: a commit is fsynced to the WAL before it is acknowledged, so an acknowledged
          // logout or revocation survives a power loss too, not only a process crash (DECISIONS, issue 9).
          conn.pragma('synchronous = FULL');
          current = conn;
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
  registerSqliteConnection(db, () => current as never);
  return withFastPathClosed(db);
}

/** The fast path's own connections (src/db/fast-path/) close with the knex instance. */
function withFastPathClosed(db: Knex): Knex {
  // knex.destroy() delegates to its client's destroy (knex itself is frozen).
  const client = db.client as { destroy(callback?: unknown): Promise<void> };
  const destroy = client.destroy.bind(client);
  client.destroy = (callback?: unknown) => {
    closeFastPath(db);
    return destroy(callback);
  };
  return db;
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

/**
 * Runs the migrations. Several instances may start at once on one PostgreSQL:
 * - knex's lock row serialises them, but knex does not wait for it: an instance that finds it
 *   taken fails at once ("Migration table is already locked"). So the lock is waited for, up
 *   to `lockWaitMs` (the other instance is migrating; on a busy machine that took more than the
 *   3 s the first version of this retry allowed, and CI saw the second server exit). A lock
 *   still held after that is reported with what to do about it (a crashed migration leaves it).
 * - the first creation of knex's own tables can collide (two CREATE TABLE IF NOT EXISTS at
 *   once): any other failure is retried a few times; each attempt runs in a transaction, so a
 *   retry starts clean.
 */
export async function migrateToLatest(db: Knex, opts: { attempts?: number; lockWaitMs?: number } = {}): Promise<void> {
  const attempts = opts.attempts ?? 5;
  const lockDeadline = Date.now() + (opts.lockWaitMs ?? 120_000);
  for (let attempt = 1; ; ) {
    try {
      await db.migrate.latest({ migrationSource });
      return;
    } catch (err) {
      if (isMigrationLocked(err)) {
        if (Date.now() >= lockDeadline) throw new MigrationLockHeld(err);
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
        continue;
      }
      if (attempt++ >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt + Math.random() * 200));
    }
  }
}

function isMigrationLocked(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'MigrationLocked' || /Migration table is already locked/.test(e?.message ?? '');
}

export class MigrationLockHeld extends Error {
  constructor(cause: unknown) {
    super(
      'the database migration lock is still held: another instance is migrating this database, or a migration that crashed left the lock behind. ' +
        'If no other instance is starting, release it with: UPDATE knex_migrations_lock SET is_locked = 0',
      { cause },
    );
    this.name = 'MigrationLockHeld';
  }
}

/** True when a write failed on a unique index (SQLite and PostgreSQL error shapes). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
