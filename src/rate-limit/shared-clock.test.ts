import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import knex, { type Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { ShiftableClock } from '../clock.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { loadContract } from '../contract.ts';
import { KnexRateLimiter } from './knex-store.ts';
import { budgetKey, type RateLimiter } from './limiter.ts';
import { RedisRateLimiter } from './redis-store.ts';
import { redisMissing, startRedis } from '../../test/scale/services.ts';

// Issue 17 defect 8 (one clock per shared budget): with a shared store each instance used its
// own clock for the windows; an instance 5 s ahead let 20 logins through one 60 s window
// instead of 10. The store's time (Redis TIME, PostgreSQL now()) decides; the harness's clock
// offset is added as an explicit term.

const login = loadContract().operation('login').rateLimit;
const limit = login.limit;
const windowMs = login.window_seconds * 1000;

/** Process clocks 5 s apart (fixed, so the store's time is the only time that moves). */
const T = 1_700_000_000_000;
const clocks = () => ({ a: new ShiftableClock(() => T), b: new ShiftableClock(() => T + 5000) });

function sharesOneClock(name: string, make: (a: ShiftableClock, b: ShiftableClock) => Promise<{ a: RateLimiter; b: RateLimiter; close(): Promise<void> }>) {
  describe(name, () => {
    const clock = clocks();
    let a: RateLimiter;
    let b: RateLimiter;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ a, b, close } = await make(clock.a, clock.b));
    });
    afterAll(async () => {
      await close?.();
    });

    it(`two instances whose clocks differ by 5 s allow at most the login limit (${limit}) in one window`, async () => {
      const key = budgetKey('ip', `192.0.2.${Math.floor(Math.random() * 250)}-${randomUUID()}`);
      let allowed = 0;
      // The instance ahead opens the window; then both, alternately.
      for (let i = 0; i < limit; i++) if ((await b.consume(login.policy, key, limit, windowMs)).allowed) allowed += 1;
      for (let i = 0; i < 2 * limit; i++) {
        const r = await (i % 2 === 0 ? a : b).consume(login.policy, key, limit, windowMs);
        if (r.allowed) allowed += 1;
        expect(r.resetMs).toBeLessThanOrEqual(windowMs);
      }
      expect(allowed).toBe(limit);
      expect((await a.peek(login.policy, key, limit, windowMs)).allowed).toBe(false);
    });

    it('the harness offset is an explicit term: moved past the window on both, the window reopens', async () => {
      const key = budgetKey('ip', `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`);
      for (let i = 0; i < limit; i++) await a.consume(login.policy, key, limit, windowMs);
      expect((await b.consume(login.policy, key, limit, windowMs)).allowed).toBe(false);
      clock.a.advance(windowMs + 1000);
      clock.b.advance(windowMs + 1000);
      expect((await b.consume(login.policy, key, limit, windowMs)).remaining).toBe(limit - 1);
      expect((await a.consume(login.policy, key, limit, windowMs)).remaining).toBe(limit - 2);
      clock.a.reset();
      clock.b.reset();
    });
  });
}

const pgUrl = process.env.TEST_DATABASE_URL;
if (pgUrl !== undefined) {
  sharesOneClock('KnexRateLimiter on PostgreSQL: two instances, one database', async (ca, cb) => {
    const schema = `rl_${randomUUID().replace(/-/g, '')}`;
    const admin: Knex = knex({ client: 'pg', connection: pgUrl });
    await admin.raw(`create schema "${schema}"`);
    const url = new URL(pgUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const dbA = connectDatabase({ client: 'pg', connectionString: url.toString() });
    await migrateToLatest(dbA);
    const dbB = connectDatabase({ client: 'pg', connectionString: url.toString() });
    return {
      a: new KnexRateLimiter(dbA, ca),
      b: new KnexRateLimiter(dbB, cb),
      close: async () => {
        await dbA.destroy();
        await dbB.destroy();
        await admin.raw(`drop schema "${schema}" cascade`);
        await admin.destroy();
      },
    };
  });
} else {
  describe.skip('KnexRateLimiter on PostgreSQL, two instances (skipped: set TEST_DATABASE_URL=postgres://… to run it)', () => {
    it('needs TEST_DATABASE_URL', () => {});
  });
}

const noRedis = redisMissing();
if (noRedis === undefined) {
  sharesOneClock('RedisRateLimiter: two instances, one private redis-server', async (ca, cb) => {
    const redis = await startRedis();
    const a = new RedisRateLimiter(redis.url, ca);
    const b = new RedisRateLimiter(redis.url, cb);
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
        await redis.stop();
      },
    };
  });

  describe('RedisRateLimiter and Redis eviction (issue 17: budgets never forgotten)', () => {
    it('warns at start when Redis may evict keys under maxmemory; is quiet with noeviction', async () => {
      const redis = await startRedis();
      const { Redis } = await import('ioredis');
      const admin = new Redis(redis.url);
      const clock = new ShiftableClock();
      try {
        const quiet = new RedisRateLimiter(redis.url, clock);
        expect(await quiet.evictionWarning()).toBeUndefined(); // redis-server's default: noeviction
        await quiet.close();
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const warnings: string[] = [];
        const loud = new RedisRateLimiter(redis.url, clock, { warn: (msg) => warnings.push(msg) });
        await vi.waitFor(() => expect(warnings).toHaveLength(1));
        expect(warnings[0]).toMatch(/maxmemory-policy allkeys-lru.*noeviction/);
        await loud.close();
      } finally {
        admin.disconnect();
        await redis.stop();
      }
    });
  });
} else {
  describe.skip(`RedisRateLimiter, two instances (skipped: ${noRedis})`, () => {
    it('needs redis-server', () => {});
  });
}
