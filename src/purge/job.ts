import type { AppDeps } from '../deps.ts';
import { errorFields } from '../log.ts';
import { purgeExpired } from './purge.ts';

export interface PurgeJob {
  stop(): Promise<void>;
}

/**
 * Runs `purgeExpired` every `intervalSeconds` (±10 % jitter, first run at a random point of
 * the first interval) so that instances started together do not purge in lockstep. A failed
 * purge is logged and retried at the next tick; `stop()` waits for a purge in progress.
 */
export function startPurgeJob(deps: Pick<AppDeps, 'db' | 'clock' | 'log' | 'contract' | 'limiter'>, intervalSeconds: number, random: () => number = Math.random): PurgeJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => schedule(intervalSeconds * 1000 * (0.9 + 0.2 * random())));
    }, ms);
    timer.unref();
  };
  const run = async (): Promise<void> => {
    try {
      const result = await purgeExpired(deps.db, deps.contract, deps.clock.now());
      // The memory limiter's size too (it bounds itself; the number shows how close to its cap it runs).
      // Issue 17: and how many new keys it had to count in a shared overflow budget (it never evicts an open one).
      const { size: limiterKeys, overflowed: limiterOverflowed } = deps.limiter as { size?: unknown; overflowed?: unknown };
      deps.log.info('purge', {
        ...result,
        ...(typeof limiterKeys === 'number' ? { limiterKeys } : {}),
        ...(typeof limiterOverflowed === 'number' ? { limiterOverflowed } : {}),
      });
    } catch (err) {
      deps.log.warn('purge failed; retrying at the next interval', errorFields(err));
    }
  };
  if (intervalSeconds > 0) schedule(intervalSeconds * 1000 * random());
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
