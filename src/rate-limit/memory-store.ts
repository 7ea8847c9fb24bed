import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { isWindowOpen, resultOf, storedKey, type RateLimiter, type RateLimitResult } from './limiter.ts';

interface Window {
  start: number;
  windowMs: number;
  /** Counted requests; capped at limit + 1 (the +1 marks "refused"). */
  count: number;
}

const SWEEP_EVERY = 1000;
export const DEFAULT_MAX_KEYS = 100_000;
export const DEFAULT_MAX_ACCOUNT_KEYS = 100_000;
/** At most one "budgets overflowing" warning per space per this long (clock ms). */
const REPORT_EVERY_MS = 60_000;

export interface MemoryStoreOptions {
  /** Budgets keyed by client (IP or /64, token): RATE_LIMIT_MEMORY_MAX_KEYS. */
  maxKeys?: number;
  /** Budgets keyed by account (login failures, reset recipient): RATE_LIMIT_MEMORY_MAX_ACCOUNT_KEYS. */
  maxAccountKeys?: number;
  log?: Pick<Logger, 'warn'>;
}

/** One bounded space of budgets; account-keyed budgets have their own, so an IP flood cannot take their room. */
class Space {
  readonly windows = new Map<string, Window>();
  /** No held window closes before this (clock ms): until then a sweep frees nothing. */
  nextExpiry = Number.POSITIVE_INFINITY;
  /** The clock at the last sweep: a clock moved back (harness) may have closed windows too. */
  sweptAt = Number.NEGATIVE_INFINITY;
  overflowed = 0;
  reportedOverflowed = 0;
  reportedAt = Number.NEGATIVE_INFINITY;
  constructor(readonly name: 'client' | 'account', readonly max: number) {}
}

/**
 * One process only: budgets live in Maps (about a microsecond per request).
 *
 * Bounded, and failing closed (issue 17, SEC 27): an open budget is never evicted to make
 * room. Account-keyed budgets (RATE_LIMIT_MEMORY_MAX_ACCOUNT_KEYS) and client-keyed ones
 * (RATE_LIMIT_MEMORY_MAX_KEYS: IP or IPv6 prefix, token) are bounded apart. When a NEW key
 * finds its space full, closed windows are swept (only when one can have closed); if the
 * space is still full, the new key is counted in the overflow budget of its policy and kind,
 * which every overflowing new key shares — they fail closed together, nobody's budget is
 * forgotten. Overflows are counted (`overflowed`) and logged at most once a minute per space,
 * without keys. A key held in the overflow gets a budget of its own again once there is room.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #client: Space;
  readonly #account: Space;
  /** Overflow budgets, at most one per policy and key kind: never bounded, never evicted. */
  readonly #overflow = new Map<string, Window>();
  readonly #clock: Clock;
  readonly #log: Pick<Logger, 'warn'> | undefined;
  #untilSweep = SWEEP_EVERY;
  /** Open budgets evicted to make room: 0 by construction since issue 17 (kept for the purge log and soak report). */
  readonly evicted = 0;

  constructor(clock: Clock, options: MemoryStoreOptions = {}) {
    this.#clock = clock;
    this.#client = new Space('client', options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.#account = new Space('account', options.maxAccountKeys ?? DEFAULT_MAX_ACCOUNT_KEYS);
    this.#log = options.log;
  }

  /** Budgets currently held (both spaces and the overflow budgets). */
  get size(): number {
    return this.#client.windows.size + this.#account.windows.size + this.#overflow.size;
  }

  /** New keys counted in an overflow budget because their space was full of open windows. */
  get overflowed(): number {
    return this.#client.overflowed + this.#account.overflowed;
  }

  async consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    if (--this.#untilSweep <= 0) this.#sweepAll(now);
    const space = this.#spaceOf(key);
    const id = storedKey(policy, key);
    let w = space.windows.get(id);
    if (w === undefined && space.windows.size >= space.max) {
      this.#sweep(space, now, false);
      if (space.windows.size >= space.max) {
        w = this.#overflowWindow(overflowId(key, policy), windowMs, now);
        space.overflowed += 1;
        this.#report(space, now);
      }
    }
    if (w === undefined) {
      w = { start: now, windowMs, count: 0 };
      space.windows.set(id, w);
      space.nextExpiry = Math.min(space.nextExpiry, now + windowMs);
    } else if (!isWindowOpen(w.start, w.windowMs, now)) {
      Object.assign(w, { start: now, windowMs, count: 0 });
      space.nextExpiry = Math.min(space.nextExpiry, now + windowMs);
    }
    if (w.count <= limit) w.count += 1;
    return resultOf(w.start, w.count, limit, windowMs, now);
  }

  async peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const now = this.#clock.now();
    const w = this.#held(policy, key);
    if (w === undefined || !isWindowOpen(w.start, w.windowMs, now)) return { allowed: true, remaining: limit, resetMs: windowMs };
    // "allowed" here means: one more request would still fit.
    return { ...resultOf(w.start, w.count + 1, limit, windowMs, now), remaining: Math.max(0, limit - w.count) };
  }

  /** A key not held (its request went to the overflow budget) gives back to that budget. */
  async refund(policy: string, key: string): Promise<void> {
    const w = this.#held(policy, key);
    if (w !== undefined && isWindowOpen(w.start, w.windowMs, this.#clock.now()) && w.count > 0) w.count -= 1;
  }

  async reset(keyPrefix: string): Promise<number> {
    let n = 0;
    for (const map of [this.#client.windows, this.#account.windows, this.#overflow]) {
      for (const id of [...map.keys()]) {
        if (id.startsWith(keyPrefix)) {
          map.delete(id);
          n += 1;
        }
      }
    }
    return n;
  }

  /** The key's own budget, else (its space full) the overflow budget it was counted in. */
  #held(policy: string, key: string): Window | undefined {
    const space = this.#spaceOf(key);
    const own = space.windows.get(storedKey(policy, key));
    if (own !== undefined || space.windows.size < space.max) return own;
    return this.#overflow.get(overflowId(key, policy));
  }

  #spaceOf(key: string): Space {
    return key.startsWith('account|') ? this.#account : this.#client;
  }

  #overflowWindow(id: string, windowMs: number, now: number): Window {
    let w = this.#overflow.get(id);
    if (w === undefined) {
      w = { start: now, windowMs, count: 0 };
      this.#overflow.set(id, w);
    }
    return w;
  }

  #sweepAll(now: number): void {
    this.#untilSweep = SWEEP_EVERY;
    this.#sweep(this.#client, now, true);
    this.#sweep(this.#account, now, true);
    for (const [id, w] of this.#overflow) if (!isWindowOpen(w.start, w.windowMs, now)) this.#overflow.delete(id);
  }

  /**
   * Drops closed windows. Under pressure (`always` false) only when one can have closed since
   * the last sweep, so a flood against a full space of open windows costs no scan per request.
   */
  #sweep(space: Space, now: number, always: boolean): void {
    if (!always && now < space.nextExpiry && now >= space.sweptAt) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, w] of space.windows) {
      if (!isWindowOpen(w.start, w.windowMs, now)) space.windows.delete(id);
      else next = Math.min(next, w.start + w.windowMs);
    }
    space.nextExpiry = next;
    space.sweptAt = now;
  }

  #report(space: Space, now: number): void {
    if (this.#log === undefined || now - space.reportedAt < REPORT_EVERY_MS) return;
    this.#log.warn('rate-limit store full: new keys share an overflow budget per policy (they fail closed together)', {
      space: space.name,
      held: space.windows.size,
      max: space.max,
      overflowedSinceLastReport: space.overflowed - space.reportedOverflowed,
      overflowedTotal: space.overflowed,
      hint: space.name === 'account' ? 'raise RATE_LIMIT_MEMORY_MAX_ACCOUNT_KEYS or use RATE_LIMIT_STORE=redis|database' : 'raise RATE_LIMIT_MEMORY_MAX_KEYS or use RATE_LIMIT_STORE=redis|database',
    });
    space.reportedAt = now;
    space.reportedOverflowed = space.overflowed;
  }
}

/**
 * `ip|#overflow|login`: `#` never appears in a budgetKey value (encodeURIComponent encodes it),
 * and the kind prefix stays, so `reset('ip|')` clears the ip overflow budgets too.
 */
function overflowId(key: string, policy: string): string {
  const kind = key.slice(0, Math.max(0, key.indexOf('|')));
  return `${kind}|#overflow|${policy}`;
}
