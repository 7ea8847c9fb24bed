import type { Clock } from '../clock.ts';
import { isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

interface Window {
  start: number;
  windowMs: number;
  /** Counted requests; capped at limit + 1 (the +1 marks "refused"). */
  count: number;
}

const SWEEP_EVERY = 1000;

/** One process only: budgets live in a Map (about a microsecond per request). */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #clock: Clock;
  #untilSweep = SWEEP_EVERY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    if (--this.#untilSweep <= 0) this.#sweep(now);
    const id = storedKey(policy, key);
    let w = this.#windows.get(id);
    if (w === undefined || !isWindowOpen(w.start, w.windowMs, now)) {
      w = { start: now, windowMs, count: 0 };
      this.#windows.set(id, w);
    }
    if (w.count <= limit) w.count += 1;
    return resultOf(w.start, w.count, limit, windowMs, now);
  }

  async peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    const w = this.#windows.get(storedKey(policy, key));
    if (w === undefined || !isWindowOpen(w.start, w.windowMs, now)) return { allowed: true, remaining: limit, resetMs: windowMs };
    // "allowed" here means: one more request would still fit.
    return { ...resultOf(w.start, w.count + 1, limit, windowMs, now), remaining: Math.max(0, limit - w.count) };
  }

  async refund(policy: string, key: string): Promise<void> {
    const w = this.#windows.get(storedKey(policy, key));
    if (w !== undefined && isWindowOpen(w.start, w.windowMs, this.#clock.now()) && w.count > 0) w.count -= 1;
  }

  async reset(keyPrefix: string): Promise<number> {
    let n = 0;
    for (const id of [...this.#windows.keys()]) {
      if (id.startsWith(keyPrefix)) {
        this.#windows.delete(id);
        n += 1;
      }
    }
    return n;
  }

  #sweep(now: number): void {
    this.#untilSweep = SWEEP_EVERY;
    for (const [id, w] of this.#windows) if (!isWindowOpen(w.start, w.windowMs, now)) this.#windows.delete(id);
  }
}
