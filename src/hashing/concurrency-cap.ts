/** Thrown by ConcurrencyCap.run when every slot is busy and the wait queue is full. */
export class CapacityExceeded extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('concurrency cap and wait queue are full');
    this.name = 'CapacityExceeded';
  }
}

/**
 * At most `maxConcurrent` tasks run at once; up to `maxQueued` more wait in FIFO order; past
 * that, `run` refuses at once (CapacityExceeded) instead of letting the backlog, and every
 * waiter's latency, grow without bound.
 */
export class ConcurrencyCap {
  #running = 0;
  readonly #queue: (() => void)[] = [];
  /** Moving average of a task's duration (ms), for the Retry-After estimate. */
  #avgMs = 100;

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError('maxConcurrent must be an integer ≥ 1');
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new RangeError('maxQueued must be an integer ≥ 0');
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxConcurrent) {
      if (this.#queue.length >= this.maxQueued) throw new CapacityExceeded(this.#retryAfterSeconds());
      // The slot is handed over by the finishing task (#running stays counted), so no newcomer
      // can overtake a waiter.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running += 1;
    }
    const started = performance.now();
    try {
      return await task();
    } finally {
      this.#avgMs = this.#avgMs * 0.8 + (performance.now() - started) * 0.2;
      const next = this.#queue.shift();
      if (next !== undefined) next();
      else this.#running -= 1;
    }
  }

  /** Time for the current backlog to drain, in whole seconds (at least 1). */
  #retryAfterSeconds(): number {
    const drainMs = ((this.#queue.length + this.#running) * this.#avgMs) / this.maxConcurrent;
    return Math.max(1, Math.ceil(drainMs / 1000));
  }
}
