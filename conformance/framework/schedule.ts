import type { CheckDef } from './types.ts';

// `--jobs N`: which checks may run alongside others. A check runs ALONE (after every running
// check finished, before the next starts) when another check could disturb it or be disturbed
// by it:
// - it moves the server clock, injects a fault or (de)activates an account through the harness
//   (every concurrent token, budget window and shared account would feel it) — TOTP flows do
//   so to reach the next code step when the run has a harness;
// - it judges every exchange of the run (`ctx.exchanges()`), so it must see them all;
// - it measures time (timing comparisons, step waits: concurrent load skews them);
// - it says so (`exclusive: true`), or it is one of the ids listed below.
// Everything else gets its own simulated client address (`--client-ip-header`), its own
// accounts and its own sessions, so it is independent. Without a client-ip header every check
// shares one address and one set of budgets: the pacer counts every call atomically, so checks
// that merely spend budgets may still overlap (one waits for the login window while another
// uses the register budget: most of such a run is waiting), but a check that drives or judges
// a budget (unpaced calls, a fresh window, a 429 provoked on purpose) runs alone there.

declare module './types.ts' {
  interface CheckDef {
    /** Never run alongside other checks under `--jobs` (see framework/schedule.ts). Optional:
     * the runner also infers it from what the check uses. */
    exclusive?: boolean;
  }
}

/** Timing judgements: concurrent load would make them meaningless. */
const TIMED = new Set(['LOGIN-03', 'RESET-11']);

/** Words in a check's code that mean it touches run-wide state or measures time. */
const RUN_WIDE = /\bharness\b|\.exchanges\(\)|\brunSoFar\(|\bsleep\(|\bserverTime\(|performance\.now|durationMs/u;
/** TOTP flows wait for the next code step: through the harness clock (run-wide) when there is
 * one, else by sleeping in the check itself (disturbing nobody). */
const TOTP_STEPS = /Totp|totpFlow/u;

/** Words in a check's code that mean it drives or judges a per-address budget. */
const BUDGET_BOUND = /pace: false|freshBudget|\bdrive\(|freshClient\(|driveOpts\(/u;

/** `harness: false`: the run has no harness (TOTP steps are then waited for in real time). */
export function isExclusive(check: CheckDef, opts: { sharedAddress?: boolean; harness?: boolean } = {}): boolean {
  if (check.exclusive !== undefined) return check.exclusive;
  if (TIMED.has(check.id)) return true;
  if (check.needs?.includes('harness')) return true;
  const code = check.run.toString();
  return RUN_WIDE.test(code) || (opts.harness !== false && TOTP_STEPS.test(code)) || (!!opts.sharedAddress && BUDGET_BOUND.test(code));
}

/**
 * Runs `tasks` in order with at most `jobs` at a time; an exclusive task waits for every
 * running task and runs alone. Results keep the tasks' order. `stop()` true: tasks not started
 * yet are handed to `skipped` instead.
 */
export async function schedule<T, R>(
  tasks: T[],
  opts: { jobs: number; exclusive: (task: T) => boolean; run: (task: T, index: number) => Promise<R>; stop?: () => boolean; skipped: (task: T, index: number) => R },
): Promise<R[]> {
  const results: R[] = new Array(tasks.length);
  const running = new Set<Promise<void>>();
  const jobs = Math.max(1, opts.jobs);
  for (const [index, task] of tasks.entries()) {
    const alone = jobs === 1 || opts.exclusive(task);
    if (alone) await Promise.all(running);
    while (running.size >= jobs) await Promise.race(running);
    if (opts.stop?.()) {
      results[index] = opts.skipped(task, index);
      continue;
    }
    const p: Promise<void> = opts
      .run(task, index)
      .then((r) => void (results[index] = r))
      .finally(() => running.delete(p));
    running.add(p);
    if (alone) await p;
  }
  await Promise.all(running);
  return results;
}
