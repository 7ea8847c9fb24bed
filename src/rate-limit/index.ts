import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { KnexRateLimiter } from './knex-store.ts';
import type { RateLimiter } from './limiter.ts';
import { MemoryRateLimiter } from './memory-store.ts';
import { RedisRateLimiter } from './redis-store.ts';

export { budgetKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

/**
 * `memory` for one process; `database` shares budgets between processes on one database;
 * `redis` shares them through Redis (REDIS_URL), keeping the counter writes off the database.
 */
export function createRateLimiter(
  config: Pick<Config, 'rateLimitStore' | 'redisUrl' | 'rateLimitMemoryMaxKeys' | 'rateLimitMemoryMaxAccountKeys'>,
  db: Knex,
  clock: Clock,
  log?: Pick<Logger, 'warn'>,
): RateLimiter {
  if (config.rateLimitStore === 'redis') return new RedisRateLimiter(config.redisUrl!, clock, log);
  if (config.rateLimitStore === 'database') return new KnexRateLimiter(db, clock);
  return new MemoryRateLimiter(clock, { maxKeys: config.rateLimitMemoryMaxKeys, maxAccountKeys: config.rateLimitMemoryMaxAccountKeys, ...(log ? { log } : {}) });
}
