import { createHash } from 'node:crypto';
import { ShiftableClock, type Clock } from '../clock.ts';

/** The outcome of counting one request against a fixed-window budget. */
export interface RateLimitResult {
  allowed: boolean;
  /** Requests left in the current window after this one (0 when refused). */
  remaining: number;
  /** Milliseconds until the current window closes. */
  resetMs: number;
}

/**
 * Fixed windows: a window opens at the first counted request of a key and closes
 * `windowMs` later. A refused request is not counted. Budgets are stored under
 * `${key}|${policy}` where `key` comes from `budgetKey()`, so `reset(budgetKey('ip', x))`
 * clears every ip-keyed budget of one client.
 */
export interface RateLimiter {
  consume(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /** The state of a budget without counting (used for the per-account failed-login budget). */
  peek(policy: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /**
   * Gives one request back to the current window of a budget: decrements its count by one if
   * it is > 0; a no-op when there is no open window. Login reserves a unit of the per-account
   * failure budget before hashing and refunds it when the attempt did not fail (issue #10).
   */
  refund(policy: string, key: string): Promise<void>;
  /** Deletes every budget whose stored key starts with `keyPrefix`; returns how many. */
  reset(keyPrefix: string): Promise<number>;
  /** Gives back one counted request of the current window (the count never goes below 0). */
  refund(policy: string, key: string): Promise<void>;
}

export type BudgetKind = 'ip' | 'token' | 'account';

/** Longer encoded values are replaced by their SHA-256, so a stored key stays short (column: 512). */
const MAX_ENCODED_VALUE = 128;

/**
 * `value` is URI-encoded so that no IP (IPv6 colons) or e-mail can collide with a separator;
 * a long value (a forwarded-for header of any length, a 254-char e-mail) is stored hashed.
 */
export function budgetKey(kind: BudgetKind, value: string): string {
  const encoded = encodeURIComponent(value.replace(/[\ud800-\udfff]/gu, '\ufffd'));
  return `${kind}|${encoded.length > MAX_ENCODED_VALUE ? `sha256:${createHash('sha256').update(value).digest('hex')}` : encoded}|`;
}

/**
 * Whether a window that opened at `start` is still open at `now`. A window that opens in the
 * future (the clock was moved back, e.g. by the harness after an advance) counts as closed, so
 * a budget is never blocked for as long as the clock had been ahead.
 */
export function isWindowOpen(start: number, windowMs: number, now: number): boolean {
  return now >= start && now < start + windowMs;
}

export function storedKey(policy: string, key: string): string {
  return key + policy;
}

/** Shared arithmetic of both stores, given the window's start and the count after this request. */
export function resultOf(windowStart: number, countAfter: number, limit: number, windowMs: number, now: number): RateLimitResult {
  const allowed = countAfter <= limit;
  return {
    allowed,
    remaining: Math.max(0, limit - countAfter),
    resetMs: Math.max(0, windowStart + windowMs - now),
  };
}

/**
 * The harness's shift of the server clock (0 unless the clock is a ShiftableClock that was
 * moved): the shared stores add it to their own time (issue 17, one clock per shared budget),
 * so `/__harness/clock/advance` moves every instance's windows alike.
 */
export function clockOffsetMs(clock: Clock): number {
  return clock instanceof ShiftableClock ? clock.offsetMs : 0;
}
