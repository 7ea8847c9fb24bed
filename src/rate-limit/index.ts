import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { KnexRateLimiter } from './knex-store.ts';
import type { RateLimiter } from './limiter.ts';
import { MemoryRateLimiter } from './memory-store.ts';
import { RedisRateLimiter } from './redis-store.ts';

export { budgetKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

/**
 * `memory` for one process; `database` shares budgets between processes on one database;
 * `redis` shares them through Redis (REDIS_URL), keeping the counter writes off the database.
 */
export function createRateLimiter(config: Pick<Config, 'rateLimitStore' | 'redisUrl' | 'rateLimitMemoryMaxKeys'>, db: Knex, clock: Clock): RateLimiter {
  if (config.rateLimitStore === 'redis') return new RedisRateLimiter(config.redisUrl!, clock);
  return config.rateLimitStore === 'database' ? new KnexRateLimiter(db, clock) : new MemoryRateLimiter(clock, config.rateLimitMemoryMaxKeys);
}
