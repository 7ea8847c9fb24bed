import type { Clock } from '../clock.ts';
import { isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

interface Window {
  start: number;
  windowMs: number;
  /** Counted requests; capped at limit + 1 (the +1 marks "refused"). */
  count: number;
}

const SWEEP_EVERY = 1000;
export const DEFAULT_MAX_KEYS = 100_000;

/**
 * One process only: budgets live in a Map (about a microsecond per request).
 *
 * Bounded (RATE_LIMIT_MEMORY_MAX_KEYS): when a new budget would exceed the cap, closed
 * windows are dropped first; if the map is still full, the budgets whose window opened
 * earliest (the Map keeps them in window-opening order) are evicted, 1 % of the cap at a
 * time. An evicted budget starts afresh, so the cap must sit well above the number of
 * clients seen in the longest window (100,000 by default, about 15 MB).
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #clock: Clock;
  readonly #maxKeys: number;
  #untilSweep = SWEEP_EVERY;
  /** Budgets evicted while still open (the cap was too small for the traffic). */
  evicted = 0;

  constructor(clock: Clock, maxKeys = DEFAULT_MAX_KEYS) {
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  /** Budgets currently held. */
  get size(): number {
    return this.#windows.size;
  }

  async consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    if (--this.#untilSweep <= 0) this.#sweep(now);
    const id = storedKey(policy, key);
    let w = this.#windows.get(id);
    if (w === undefined || !isWindowOpen(w.start, w.windowMs, now)) {
      if (w === undefined && this.#windows.size >= this.#maxKeys) this.#makeRoom(now);
      w = { start: now, windowMs, count: 0 };
      this.#windows.delete(id); // re-inserted last: the Map stays in window-opening order
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

  #makeRoom(now: number): void {
    this.#sweep(now);
    if (this.#windows.size < this.#maxKeys) return;
    let toEvict = Math.max(1, Math.ceil(this.#maxKeys / 100));
    for (const id of this.#windows.keys()) {
      if (toEvict-- <= 0) break;
      this.#windows.delete(id);
      this.evicted += 1;
    }
  }

  #sweep(now: number): void {
    this.#untilSweep = SWEEP_EVERY;
    for (const [id, w] of this.#windows) if (!isWindowOpen(w.start, w.windowMs, now)) this.#windows.delete(id);
  }
}
