import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { pgNamedRow } from '../db/fast-path/index.ts';
import { clockOffsetMs, isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

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
/**
 * PostgreSQL: "now" is the database's (issue 17, one clock per shared budget: instances a few
 * seconds apart let twice the limit through one window), plus the harness's clock offset as an
 * explicit parameter. now() is the transaction's start, one value for the whole statement;
 * the inserted window_start (excluded.window_start) is that "now" in the SET expressions.
 */
const PG_NOW = 'CAST(floor(extract(epoch from now()) * 1000) AS bigint) + CAST(? AS bigint)';
const PG_EXPIRED = '(rate_limits.window_start + ? <= excluded.window_start OR rate_limits.window_start > excluded.window_start)';
const PG_CONSUME = `WITH t AS (SELECT ${PG_NOW} AS now)
     INSERT INTO rate_limits ("key", window_start, "count") SELECT ?, t.now, 1 FROM t
       ON CONFLICT ("key") DO UPDATE SET
         window_start = CASE WHEN ${PG_EXPIRED} THEN excluded.window_start ELSE rate_limits.window_start END,
         "count" = CASE WHEN ${PG_EXPIRED} THEN 1
                        WHEN rate_limits."count" <= ? THEN rate_limits."count" + 1
                        ELSE rate_limits."count" END
       RETURNING window_start, "count", (SELECT now FROM t) AS now`;
const PG_PEEK = `SELECT t.now, r.window_start, r."count" FROM (SELECT ${PG_NOW} AS now) t LEFT JOIN rate_limits r ON r."key" = ?`;
type CounterRow = { window_start: number | string; count: number | string; now?: number | string };

/**
 * Budgets in the `rate_limits` table, shared by every server process on one database. On
 * SQLite "now" is the process clock: every process sharing one SQLite file runs on one host,
 * so on one clock. On PostgreSQL it is the database's (PG_NOW).
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
    const processNow = this.#clock.now();
    if (--this.#untilSweep <= 0) await this.#sweep(processNow);
    // PostgreSQL: a named prepared statement (one round trip, parsed and planned once per
    // connection, no query builder); SQLite: knex.raw on the cached prepared statement.
    const row = this.#pg
      ? await pgNamedRow<CounterRow>(this.#db, 'qz_rate_limit_consume_store_clock', PG_CONSUME, [clockOffsetMs(this.#clock), storedKey(policy, key), windowMs, windowMs, limit])
      : firstRow(await this.#db.raw(CONSUME, [storedKey(policy, key), processNow, windowMs, processNow, processNow, windowMs, processNow, processNow, limit]));
    if (row === undefined) throw new Error('rate limit upsert returned no row');
    return resultOf(Number(row.window_start), Number(row.count), limit, windowMs, row.now === undefined ? processNow : Number(row.now));
  }

  async peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    let now = this.#clock.now();
    let row: { window_start: unknown; count: unknown } | undefined;
    if (this.#pg) {
      const r = await pgNamedRow<{ now: string; window_start: string | null; count: number | null }>(this.#db, 'qz_rate_limit_peek', PG_PEEK, [clockOffsetMs(this.#clock), storedKey(policy, key)]);
      now = Number(r!.now);
      row = r?.window_start === null || r === undefined ? undefined : r;
    } else {
      row = await this.#db('rate_limits').where('key', storedKey(policy, key)).first('window_start', 'count');
    }
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
