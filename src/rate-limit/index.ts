import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { KnexRateLimiter } from './knex-store.ts';
import type { RateLimiter } from './limiter.ts';
import { MemoryRateLimiter } from './memory-store.ts';

export { budgetKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

/** `memory` for one process; `database` shares budgets between processes on one database. */
export function createRateLimiter(config: Pick<Config, 'rateLimitStore' | 'rateLimitMemoryMaxKeys'>, db: Knex, clock: Clock): RateLimiter {
  return config.rateLimitStore === 'database' ? new KnexRateLimiter(db, clock) : new MemoryRateLimiter(clock, config.rateLimitMemoryMaxKeys);
}
