import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { ServiceUnavailableError } from '../errors/unavailable.ts';
import { clockOffsetMs, isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

/** Every budget lives under this prefix, so `reset('')` never touches other data in the same Redis. */
const PREFIX = 'quazzar:rl:';

/**
 * "Now" of every budget decision: Redis TIME (one clock for every instance that shares this
 * Redis, issue 17: instances a few seconds apart let twice the limit through one window)
 * plus the harness's clock offset (ARGV[1], 0 outside conformance runs). Scripts that call
 * TIME before writing are replicated by their effects (the only mode since Redis 7; asked
 * for explicitly on 3.2–6).
 */
const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
`;

/**
 * One fixed window per key, as a hash {s: window start (store ms), c: counted requests}.
 * A window opening in the future counts as closed (the harness clock moved back). The count
 * stops at limit + 1, so a refused request is not counted. Expiry (real time) is the window's
 * remaining length plus a minute: only housekeeping, never semantics. Returns start, count
 * and the "now" it used.
 */
const CONSUME = `${NOW}
local windowMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 's', 'c')
local start = tonumber(v[1])
local count = tonumber(v[2])
if start == nil or count == nil or now < start or now >= start + windowMs then
  start = now
  count = 0
  redis.call('HSET', KEYS[1], 's', tostring(now))
end
if count <= limit then
  count = count + 1
  redis.call('HSET', KEYS[1], 'c', count)
end
redis.call('PEXPIRE', KEYS[1], math.floor(start + windowMs - now) + 60000)
return {tostring(start), tostring(count), tostring(now)}
`;

/** Gives back one counted request of the current window (never below 0, never opens a window). */
const REFUND = `${NOW}
local v = redis.call('HMGET', KEYS[1], 's', 'c')
local start = tonumber(v[1])
local count = tonumber(v[2])
if start == nil or count == nil or now < start then return 0 end
if count > 0 then redis.call('HSET', KEYS[1], 'c', count - 1) end
return 1
`;

/** A budget's start and count, and the store's "now". */
const PEEK = `${NOW}
local v = redis.call('HMGET', KEYS[1], 's', 'c')
return {v[1] or false, v[2] or false, tostring(now)}
`;

type Scripted = Redis & {
  qzConsume(key: string, offsetMs: number, windowMs: number, limit: number): Promise<[string, string, string]>;
  qzRefund(key: string, offsetMs: number): Promise<number>;
  qzPeek(key: string, offsetMs: number): Promise<[string | null, string | null, string]>;
};

/**
 * Budgets in Redis, shared by every server process that uses the same REDIS_URL: one Lua
 * script per request (atomic, one round trip). When Redis cannot be reached, every call
 * fails fast (connect and command timeouts) with ServiceUnavailableError → 503.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Scripted;
  readonly #clock: Clock;

  constructor(url: string, clock: Clock, log?: Pick<Logger, 'warn'>) {
    this.#clock = clock;
    // Loaded on first use: ioredis (43 modules) stays out of the memory of servers that use
    // another store (docs/PERFORMANCE.md, row 5).
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    const redis = new RedisClient(url, {
      connectTimeout: 1000,
      commandTimeout: 1000,
      maxRetriesPerRequest: 1,
      // Reconnect for ever, at most every second: service resumes on its own.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
    });
    // Without a listener ioredis prints every failed reconnection; the failures reach
    // clients as 503 through the calls themselves.
    redis.on('error', () => {});
    redis.defineCommand('qzConsume', { numberOfKeys: 1, lua: CONSUME });
    redis.defineCommand('qzRefund', { numberOfKeys: 1, lua: REFUND });
    redis.defineCommand('qzPeek', { numberOfKeys: 1, lua: PEEK });
    this.#redis = redis as Scripted;
    if (log !== undefined) {
      this.evictionWarning().then((w) => w !== undefined && log.warn(w), () => {});
    }
  }

  /**
   * Budgets are never evicted by this store (a key expires a minute after its window closed),
   * but Redis itself evicts keys under `maxmemory` unless its policy is `noeviction` — which
   * would forget open budgets (issue 17, SEC 27). Says so when the policy can be read and is
   * another; with `noeviction` a full Redis refuses the write: 503, the budget fails closed.
   */
  async evictionWarning(): Promise<string | undefined> {
    const reply = (await this.#redis.config('GET', 'maxmemory-policy')) as unknown as string[];
    const policy = reply[1];
    if (policy === undefined || policy === 'noeviction') return undefined;
    return `the rate-limit Redis runs with maxmemory-policy ${policy}: under memory pressure it evicts open budgets (a locked account unlocks). Set maxmemory-policy noeviction (or give it memory enough)`;
  }

  async consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const offset = clockOffsetMs(this.#clock);
    const [start, count, now] = await this.#call(() => this.#redis.qzConsume(PREFIX + storedKey(policy, key), offset, windowMs, limit));
    return resultOf(Number(start), Number(count), limit, windowMs, Number(now));
  }

  async peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const offset = clockOffsetMs(this.#clock);
    const [s, c, nowText] = await this.#call(() => this.#redis.qzPeek(PREFIX + storedKey(policy, key), offset));
    const now = Number(nowText);
    if (s === null || c === null || !isWindowOpen(Number(s), windowMs, now)) return { allowed: true, remaining: limit, resetMs: windowMs };
    const count = Number(c);
    return { ...resultOf(Number(s), count + 1, limit, windowMs, now), remaining: Math.max(0, limit - count) };
  }

  async refund(policy: string, key: string): Promise<void> {
    await this.#call(() => this.#redis.qzRefund(PREFIX + storedKey(policy, key), clockOffsetMs(this.#clock)));
  }

  async reset(keyPrefix: string): Promise<number> {
    // SCAN with the glob characters of the prefix escaped (encodeURIComponent leaves `*` alone).
    const pattern = PREFIX + keyPrefix.replace(/[*?[\]\\]/g, (c) => '\\' + c) + '*';
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.#call(() => this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      if (keys.length > 0) deleted += await this.#call(() => this.#redis.del(...keys));
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  async #call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new ServiceUnavailableError('the rate-limit store (Redis) cannot be reached', err);
    }
  }
}
