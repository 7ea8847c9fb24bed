import { availableParallelism } from 'node:os';
import { Problem } from '../errors/problem.ts';
import { CapacityExceeded, ConcurrencyCap } from './concurrency-cap.ts';

export { CapacityExceeded, ConcurrencyCap } from './concurrency-cap.ts';

/**
 * The libuv thread-pool size this process runs with (UV_THREADPOOL_SIZE, default 4). scrypt,
 * file reads and DNS lookups all run there.
 */
export function threadPoolSize(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

/**
 * Default number of concurrent scrypt operations: one core left to the event loop (so
 * authenticated requests keep flowing during a login storm), and one thread-pool thread left
 * for file and DNS work, so they never queue behind scrypt. At least 1.
 */
export function defaultHashConcurrency(env: Record<string, string | undefined> = process.env): number {
  return Math.max(1, Math.min(availableParallelism() - 1, threadPoolSize(env) - 1));
}

export interface HashingLimits {
  hashConcurrency: number;
  hashQueueMax: number;
}

let cap = new ConcurrencyCap(defaultHashConcurrency(), 32);

/**
 * Sets the process-wide cap (from config, at app start). The cap is per process because the
 * resource it protects — libuv's thread pool and the CPU cores — is per process.
 */
export function configureHashing(limits: HashingLimits): void {
  if (cap.maxConcurrent === limits.hashConcurrency && cap.maxQueued === limits.hashQueueMax) return;
  cap = new ConcurrencyCap(limits.hashConcurrency, limits.hashQueueMax);
}

export function hashingCap(): ConcurrencyCap {
  return cap;
}

/**
 * Runs one password hash under the cap; when every slot is busy and the queue is full, answers
 * 503 `service_unavailable` with Retry-After (documented on every operation that hashes).
 */
export async function withHashingSlot<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await cap.run(task);
  } catch (err) {
    if (err instanceof CapacityExceeded) {
      throw new Problem(503, 'service_unavailable', `Too many password checks are in progress; retry in ${err.retryAfterSeconds} s.`, {
        headers: { 'Retry-After': String(err.retryAfterSeconds) },
      });
    }
    throw err;
  }
}

/** One scrypt run: what it was for and its cost parameters (for tests of equal cost, SEC 4/32). */
export interface HashRun {
  kind: 'hash' | 'verify' | 'pad';
  logN: number;
  r: number;
  p: number;
}

const observers = new Set<(run: HashRun) => void>();

/** Calls `listener` for every scrypt run of this process until the returned function is called. */
export function observeHashRuns(listener: (run: HashRun) => void): () => void {
  observers.add(listener);
  return () => observers.delete(listener);
}

/** Reported by src/auth/passwords.ts for each scrypt run (no cost when nobody observes). */
export function reportHashRun(run: HashRun): void {
  for (const o of observers) o(run);
}

/** The memory-hard work of one run, in units of one r=8, p=1 block pass: 2^logN × r × p / 8. */
export function scryptWork(params: { logN: number; r: number; p: number }): number {
  return (2 ** params.logN * params.r * params.p) / 8;
}
