/** The server's notion of "now" (epoch milliseconds). Every time comparison reads it, never Date.now(). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that can be moved forward, so token, reset-token and lockout expiry are testable
 * without waiting (tests, and the conformance harness's `/clock/advance`).
 */
export class ShiftableClock implements Clock {
  #offsetMs = 0;
  readonly #base: () => number;

  constructor(base: () => number = Date.now) {
    this.#base = base;
  }

  now(): number {
    return this.#base() + this.#offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.#offsetMs += ms;
  }

  reset(): void {
    this.#offsetMs = 0;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }
}
