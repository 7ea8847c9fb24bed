import { hashingCap, observeHashRuns, scryptWork, type HashRun } from './index.ts';

/** Resolves once no password hash runs or waits (e.g. login's dummy hash computed at start). */
export async function hashingIdle(): Promise<void> {
  for (let i = 0; i < 2000 && (hashingCap().running > 0 || hashingCap().queued > 0); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Fills every hashing slot and the whole wait queue with tasks that finish only when the
 * returned function is called, so the next hash is refused (503). For tests of that answer.
 */
export async function saturateHashing(): Promise<() => Promise<void>> {
  await hashingIdle();
  const cap = hashingCap();
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  const held = Array.from({ length: cap.maxConcurrent + cap.maxQueued }, () => cap.run(() => opened));
  await Promise.resolve();
  return async () => {
    open();
    await Promise.all(held);
  };
}

/** Records every scrypt run (kind and cost) until `stop()`; `work()` sums their cost. */
export function recordHashRuns(): { runs: HashRun[]; work(): number; stop(): void } {
  const runs: HashRun[] = [];
  const stop = observeHashRuns((run) => runs.push(run));
  return { runs, work: () => runs.reduce((sum, run) => sum + scryptWork(run), 0), stop };
}
