import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knex, { type Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { ShiftableClock } from '../clock.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { KnexRateLimiter } from './knex-store.ts';
import { budgetKey, type RateLimiter, type RateLimitResult } from './limiter.ts';
import { MemoryRateLimiter } from './memory-store.ts';
import { RedisRateLimiter } from './redis-store.ts';
import { redisMissing, startRedis } from '../../test/scale/services.ts';
import { ServiceUnavailableError } from '../errors/unavailable.ts';

/**
 * The same contract for every store: fixed windows, refusals not counted, prefix reset.
 * `storeTime`: the store's own clock decides (PostgreSQL, Redis; issue 17), the test clock only
 * adds its offset: real time passes between calls, so `resetMs` may be a little shorter.
 */
function behavesAsFixedWindow(name: string, make: (clock: ShiftableClock) => Promise<{ limiter: RateLimiter; close(): Promise<void> }>, storeTime = false) {
  const slackMs = storeTime ? 10_000 : 0;
  const expectResult = (actual: RateLimitResult, expected: RateLimitResult): void => {
    expect({ allowed: actual.allowed, remaining: actual.remaining }).toEqual({ allowed: expected.allowed, remaining: expected.remaining });
    expect(actual.resetMs).toBeLessThanOrEqual(expected.resetMs);
    expect(actual.resetMs).toBeGreaterThanOrEqual(expected.resetMs - slackMs);
  };
  describe(name, () => {
    const clock = new ShiftableClock(() => 1_700_000_000_000);
    let limiter: RateLimiter;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ limiter, close } = await make(clock));
    });
    afterAll(async () => {
      await close?.();
    });

    it('allows `limit` requests per window, refuses the next without counting it, reopens after the window', async () => {
      const key = budgetKey('ip', `10.0.0.${Math.random()}`);
      for (let i = 1; i <= 3; i++) {
        const r = await limiter.consume('p', key, 3, 60_000);
        expectResult(r, { allowed: true, remaining: 3 - i, resetMs: 60_000 - (i - 1) * 1000 });
        clock.advance(1000);
      }
      const refused = await limiter.consume('p', key, 3, 60_000);
      expectResult(refused, { allowed: false, remaining: 0, resetMs: 57_000 });
      expect((await limiter.peek('p', key, 3, 60_000)).allowed).toBe(false);
      clock.advance(57_000);
      expectResult(await limiter.consume('p', key, 3, 60_000), { allowed: true, remaining: 2, resetMs: 60_000 });
    });

    it('opens a new window when the clock moves back before the start of a window', async () => {
      const key = budgetKey('ip', `10.0.1.${Math.random()}`);
      clock.advance(3_600_000); // e.g. the harness moved the server an hour ahead…
      expect((await limiter.consume('p', key, 1, 60_000)).allowed).toBe(true);
      expect((await limiter.consume('p', key, 1, 60_000)).allowed).toBe(false);
      clock.reset(); // …and back (harness /clock/reset): the budget is not blocked for that hour
      expect((await limiter.peek('p', key, 1, 60_000)).allowed).toBe(true);
      expectResult(await limiter.consume('p', key, 1, 60_000), { allowed: true, remaining: 0, resetMs: 60_000 });
    });

    it('keeps policies and keys apart; reset clears every budget under a prefix', async () => {
      const ipA = budgetKey('ip', '2001:db8::1');
      const ipB = budgetKey('ip', '2001:db8::1:2');
      await limiter.consume('login', ipA, 1, 60_000);
      await limiter.consume('register', ipA, 1, 60_000);
      await limiter.consume('login', ipB, 1, 60_000);
      expect((await limiter.consume('login', ipA, 1, 60_000)).allowed).toBe(false);
      expect(await limiter.reset(ipA)).toBe(2);
      expect((await limiter.consume('login', ipA, 1, 60_000)).allowed).toBe(true);
      expect((await limiter.consume('login', ipB, 1, 60_000)).allowed).toBe(false);
    });

    it('refund gives one request back to the current window, never below zero (issue #10: reserve before hashing)', async () => {
      const key = budgetKey('account', `refund-${Math.random()}`);
      await limiter.refund('p', key); // no window: a no-op
      expect((await limiter.consume('p', key, 2, 60_000)).remaining).toBe(1);
      expect((await limiter.consume('p', key, 2, 60_000)).remaining).toBe(0);
      await limiter.refund('p', key);
      expect(await limiter.peek('p', key, 2, 60_000)).toMatchObject({ allowed: true, remaining: 1 });
      await limiter.refund('p', key);
      await limiter.refund('p', key);
      await limiter.refund('p', key);
      expect(await limiter.peek('p', key, 2, 60_000)).toMatchObject({ allowed: true, remaining: 2 });
      expect((await limiter.consume('p', key, 2, 60_000)).remaining).toBe(1);
      // A refund after the window closed does not touch the next window.
      clock.advance(60_000);
      await limiter.refund('p', key);
      expect((await limiter.consume('p', key, 2, 60_000)).remaining).toBe(1);
    });

    it('reserve-then-refund under concurrency: never more than `limit` reservations held at once', async () => {
      const key = budgetKey('account', randomUUID());
      const results = await Promise.all(Array.from({ length: 30 }, () => limiter.consume('f', key, 10, 60_000)));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
      await Promise.all(Array.from({ length: 5 }, () => limiter.refund('f', key)));
      const again = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('f', key, 10, 60_000)));
      // The refused requests left one "refused" mark above the limit (a refusal is not counted
      // twice): the first refund takes that mark back, so 4 of the 5 come back. Conservative.
      expect(again.filter((r) => r.allowed)).toHaveLength(4);
    });

    it('counts exactly under concurrency', async () => {
      const key = budgetKey('token', randomUUID());
      const results = await Promise.all(Array.from({ length: 40 }, () => limiter.consume('authenticated', key, 25, 60_000)));
      expect(results.filter((r) => r.allowed)).toHaveLength(25);
    });
  });
}

behavesAsFixedWindow('MemoryRateLimiter', async (clock) => ({ limiter: new MemoryRateLimiter(clock), close: async () => {} }));

behavesAsFixedWindow('KnexRateLimiter on SQLite', async (clock) => {
  const db = connectDatabase({ client: 'sqlite', filename: ':memory:' });
  await migrateToLatest(db);
  return { limiter: new KnexRateLimiter(db, clock), close: () => db.destroy() };
});

const pgUrl = process.env.TEST_DATABASE_URL;
if (pgUrl !== undefined) {
  behavesAsFixedWindow('KnexRateLimiter on PostgreSQL', async (clock) => {
    const schema = `rl_${randomUUID().replace(/-/g, '')}`;
    const admin: Knex = knex({ client: 'pg', connection: pgUrl });
    await admin.raw(`create schema "${schema}"`);
    const url = new URL(pgUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const db = connectDatabase({ client: 'pg', connectionString: url.toString() });
    await migrateToLatest(db);
    return {
      limiter: new KnexRateLimiter(db, clock),
      close: async () => {
        await db.destroy();
        await admin.raw(`drop schema "${schema}" cascade`);
        await admin.destroy();
      },
    };
  }, true);
} else {
  describe.skip('KnexRateLimiter on PostgreSQL (skipped: set TEST_DATABASE_URL=postgres://… to run it)', () => {
    it('needs TEST_DATABASE_URL', () => {});
  });
}

const noRedis = redisMissing();
if (noRedis === undefined) {
  behavesAsFixedWindow('RedisRateLimiter (a private redis-server)', async (clock) => {
    const redis = await startRedis();
    const limiter = new RedisRateLimiter(redis.url, clock);
    return {
      limiter,
      close: async () => {
        await limiter.close();
        await redis.stop();
      },
    };
  }, true);

  describe('RedisRateLimiter when Redis is away', () => {
    it('fails fast with ServiceUnavailableError (→ 503), then works again once Redis is back', async () => {
      const clock = new ShiftableClock(() => 1_700_000_000_000);
      const redis = await startRedis();
      const limiter = new RedisRateLimiter(redis.url, clock);
      try {
        const key = budgetKey('ip', '192.0.2.1');
        expect((await limiter.consume('p', key, 5, 60_000)).remaining).toBe(4);
        await redis.stop();
        const started = Date.now();
        await expect(limiter.consume('p', key, 5, 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
        await expect(limiter.peek('p', key, 5, 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
        const failMs = Date.now() - started;
        console.log(`redis down: two calls failed in ${failMs} ms`);
        expect(failMs).toBeLessThan(10_000); // bounded by the connect/command timeouts, not a hang
        const again = await startRedis(redis.port);
        try {
          let ok = false;
          for (let i = 0; i < 100 && !ok; i++) {
            ok = await limiter.consume('p', key, 5, 60_000).then(() => true, () => false);
            if (!ok) await new Promise((r) => setTimeout(r, 100));
          }
          expect(ok).toBe(true); // reconnected on its own (the new server is empty: a fresh window)
        } finally {
          await again.stop();
        }
      } finally {
        await limiter.close();
      }
    });
  });
} else {
  describe.skip(`RedisRateLimiter (skipped: ${noRedis})`, () => {
    it('needs redis-server', () => {});
  });
}
