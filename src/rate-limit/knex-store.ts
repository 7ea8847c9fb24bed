import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { pgNamedRow } from '../db/fast-path/index.ts';
import { isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

const SWEEP_EVERY = 5000;
/** Rows whose window opened longer ago than this are deleted now and then (longest window: 1 h). */
const STALE_AFTER_MS = 24 * 3600 * 1000;

// Closed: past its end, or opening in the future (the clock was moved back).
const EXPIRED = '(rate_limits.window_start + ? <= ? OR rate_limits.window_start > ?)';
const CONSUME = `INSERT INTO rate_limits ("key", window_start, "count") VALUES (?, ?, 1)
       ON CONFLICT ("key") DO UPDATE SET
         window_start = CASE WHEN ${EXPIRED} THEN excluded.window_start ELSE rate_limits.window_start END,
         "count" = CASE WHEN ${EXPIRED} THEN 1
                        WHEN rate_limits."count" <= ? THEN rate_limits."count" + 1
                        ELSE rate_limits."count" END
       RETURNING window_start, "count"`;
type CounterRow = { window_start: number | string; count: number | string };

/**
 * Budgets in the `rate_limits` table, shared by every server process on one database.
 * One atomic upsert per request (SQLite ≥ 3.35 and PostgreSQL both support
 * INSERT … ON CONFLICT DO UPDATE … RETURNING); the SET expressions see the old row, so
 * concurrent requests can neither lose a count nor open two windows.
 */
export class KnexRateLimiter implements RateLimiter {
  readonly #db: Knex;
  readonly #clock: Clock;
  readonly #pg: boolean;
  #untilSweep = SWEEP_EVERY;

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#pg = (db.client as { config?: { client?: unknown } }).config?.client === 'pg';
  }

  async consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    if (--this.#untilSweep <= 0) await this.#sweep(now);
    const values = [storedKey(policy, key), now, windowMs, now, now, windowMs, now, now, limit];
    // PostgreSQL: a named prepared statement (one round trip, parsed and planned once per
    // connection, no query builder); SQLite: knex.raw on the cached prepared statement.
    const row = this.#pg ? await pgNamedRow<CounterRow>(this.#db, 'qz_rate_limit_consume', CONSUME, values) : firstRow(await this.#db.raw(CONSUME, values));
    if (row === undefined) throw new Error('rate limit upsert returned no row');
    return resultOf(Number(row.window_start), Number(row.count), limit, windowMs, now);
  }

  async peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    const row = await this.#db('rate_limits').where('key', storedKey(policy, key)).first('window_start', 'count');
    if (row === undefined || !isWindowOpen(Number(row.window_start), windowMs, now)) return { allowed: true, remaining: limit, resetMs: windowMs };
    const count = Number(row.count);
    return { ...resultOf(Number(row.window_start), count + 1, limit, windowMs, now), remaining: Math.max(0, limit - count) };
  }

  /**
   * One conditional UPDATE: atomic on both databases, never below zero. A row whose window
   * already closed may be decremented too: harmless, the next consume starts a new window.
   */
  async refund(policy: string, key: string): Promise<void> {
    await this.#db('rate_limits')
      .where('key', storedKey(policy, key))
      .andWhere('count', '>', 0)
      .update({ count: this.#db.raw('"count" - 1') });
  }

  async reset(keyPrefix: string): Promise<number> {
    // LIKE with an escaped prefix: keys contain only URI-encoded values, '|' and policy names.
    const pattern = keyPrefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    return this.#db('rate_limits').whereRaw(`"key" LIKE ? ESCAPE '\\'`, [pattern]).delete();
  }

  async #sweep(now: number): Promise<void> {
    this.#untilSweep = SWEEP_EVERY;
    await this.#db('rate_limits').where('window_start', '<', now - STALE_AFTER_MS).delete();
  }
}

function firstRow(raw: unknown): CounterRow | undefined {
  // better-sqlite3 gives an array of rows; pg gives { rows }.
  const rows = Array.isArray(raw) ? raw : (raw as { rows: unknown[] }).rows;
  return rows[0] as CounterRow | undefined;
}
