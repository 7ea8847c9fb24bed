import type { CheckDef, Contract } from './types.ts';

// `--jobs N`: which checks may run alongside others. A check runs ALONE (after every running
// check finished, before the next starts) when another check could disturb it or be disturbed
// by it:
// - it moves the server clock, injects a fault or (de)activates an account through the harness
//   (every concurrent token, budget window and shared account would feel it) — TOTP flows do
//   so to reach the next code step when the run has a harness;
// - it judges every exchange of the run (`ctx.exchanges()`), so it must see them all;
// - it measures time (timing comparisons, step waits: concurrent load skews them; with one
//   address and no harness a timing check's samples are sent alone instead, gate.ts);
// - it says so (`exclusive: true`), or it is one of the ids listed below.
// Everything else gets its own simulated client address (`--client-ip-header`), its own
// accounts and its own sessions, so it is independent. Without a client-ip header every check
// shares one address and one set of budgets: the pacer counts every call atomically, so checks
// that merely spend budgets may still overlap (one waits for the login window while another
// uses the register budget: most of such a run is waiting), but a check that drives or judges
// a budget (unpaced calls, a fresh window, a 429 provoked on purpose) runs alone there.

declare module './types.ts' {
  interface CheckDef {
    /** Never run alongside other checks under `--jobs` (see framework/schedule.ts), always or
     * in some runs only. Optional: the runner also infers it from what the check uses. */
    exclusive?: boolean | ((run: { sharedAddress: boolean; harness: boolean }) => boolean);
    /** Real time the check sleeps through without a harness (a window of its own to reopen,
     * a Retry-After to honour): it starts first when the run shares one address. */
    waitsMs?: number;
    /** With one address shared by the run: an exclusive check that runs at the very start, in
     * this rank, when every per-address window is still fresh (RATE-01 counts whole windows)
     * or just spent by the one before it (RATE-07, RATE-05 only need a 429): at the end of
     * the run it would first wait for those windows to reopen. */
    early?: number;
  }
}

/** Timing judgements: concurrent load would make them meaningless. They run alone, except
 * with one address shared by the run and no harness: their samples span several windows of a
 * budget every check shares, and running alone would idle every other budget meanwhile; their
 * timed requests go on the wire alone instead (`alone`, framework/gate.ts). */
const TIMED = new Set(['LOGIN-03', 'RESET-11']);

/** Words in a check's code that mean it touches run-wide state or measures time. */
const RUN_WIDE = /\bharness\b|\.exchanges\(\)|\brunSoFar\(|\bsleep\(|\bserverTime\(|performance\.now|durationMs/u;
/** The same without a harness: no clock to move, so a check that would move it sleeps through
 * its wait instead (a per-token window, a TOTP step), which disturbs nobody. */
const RUN_WIDE_WITHOUT_HARNESS = /\.exchanges\(\)|\brunSoFar\(|performance\.now|durationMs/u;
/** TOTP flows wait for the next code step: through the harness clock (run-wide) when there is
 * one, else by sleeping in the check itself (disturbing nobody). */
const TOTP_STEPS = /Totp|totpFlow/u;

/** Words in a check's code that mean it judges every exchange of the run: it runs last. */
const JUDGES = /\.exchanges\(\)|\brunSoFar\(/u;

/** Words in a check's code that mean it drives or judges a per-address budget. */
const BUDGET_BOUND = /pace: false|freshBudget|\bdrive\(|freshClient\(|driveOpts\(/u;

/** `harness: false`: the run has no harness (TOTP steps are then waited for in real time). */
export function isExclusive(check: CheckDef, opts: { sharedAddress?: boolean; harness?: boolean } = {}): boolean {
  if (typeof check.exclusive === 'function') return check.exclusive({ sharedAddress: !!opts.sharedAddress, harness: opts.harness !== false });
  if (check.exclusive !== undefined) return check.exclusive;
  if (TIMED.has(check.id)) return !opts.sharedAddress || opts.harness !== false;
  if (check.needs?.includes('harness')) return true;
  const code = check.run.toString();
  const runWide = opts.harness === false ? RUN_WIDE_WITHOUT_HARNESS : RUN_WIDE;
  return runWide.test(code) || (opts.harness !== false && TOTP_STEPS.test(code)) || (!!opts.sharedAddress && BUDGET_BOUND.test(code));
}

/**
 * The order the checks start in (reports keep the suite's order). With addresses of its own,
 * no harness and `--jobs` above 1: the checks that run alone first, then those that sleep, the
 * judges of the whole run last (below). With one address shared by the whole run and `--jobs`
 * above 1:
 * - the exclusive checks marked `early` start first, alone, in their rank;
 * - the other checks that run alone start after all the others (in their own order, the judges of
 *   the whole run last as before): each waits for every running check to finish, and with
 *   shared budgets a running check is often waiting for a window, so the lanes would otherwise
 *   drain once per exclusive check;
 * - the others are interleaved by the per-address budget they spend most of (`perAddress`:
 *   each policy's limit), each budget's checks spread evenly over the run: in the suite's own
 *   order one area at a time waits on one budget (the TOTP checks on login, the reset checks on
 *   password-reset-request) while the others' windows go unused;
 * - checks that sleep through a window of their own (`waitsMs`) start first, so the sleep
 *   overlaps everything else.
 */
export function runOrder<T extends CheckDef>(
  checks: T[],
  opts: { sharedAddress: boolean; harness: boolean; jobs: number; perAddress?: ReadonlyMap<string, number> },
): T[] {
  if (opts.jobs <= 1) return checks;
  const alone = (c: T) => isExclusive(c, opts);
  if (!opts.sharedAddress) {
    // Addresses of its own: nothing waits for a shared budget, but without a harness some
    // checks sleep through a minute (a window to reopen, a Retry-After). Every check that runs
    // alone waits for all the running ones to end — a sleeper among them holds every lane —
    // so those start first, then the sleepers (their minute overlaps everything else), and
    // the judges of the whole run last.
    if (opts.harness) return checks;
    const judges = checks.filter((c) => alone(c) && JUDGES.test(c.run.toString()));
    const first = checks.filter((c) => alone(c) && !judges.includes(c));
    const others = checks.filter((c) => !alone(c));
    const sleepers = others.filter((c) => (c.waitsMs ?? 0) > 0).sort((a, b) => (b.waitsMs ?? 0) - (a.waitsMs ?? 0));
    return [...first, ...sleepers, ...others.filter((c) => !sleepers.includes(c)), ...judges];
  }
  const early = checks.filter((c) => alone(c) && c.early !== undefined).sort((a, b) => a.early! - b.early!);
  const rest = checks.filter((c) => !alone(c));
  const sleepers = rest.filter((c) => !opts.harness && (c.waitsMs ?? 0) > 0).sort((a, b) => (b.waitsMs ?? 0) - (a.waitsMs ?? 0));
  const late = checks.filter((c) => alone(c) && c.early === undefined);
  return [...early, ...sleepers, ...interleave(rest.filter((c) => !sleepers.includes(c)), opts.perAddress), ...late];
}

/** Each per-address policy's limit (`runOrder`'s `perAddress`). */
export function perAddressLimits(contract: Pick<Contract, 'policies'>): Map<string, number> {
  return new Map(contract.policies().filter((p) => p.key === 'ip').map((p) => [p.policy, p.limit]));
}

/** The per-address budgets a check spends (its declared calls; a login for an account of its
 * own with a session: a finished check may hand one on without). */
export function budgetsOf(check: CheckDef, limits: ReadonlyMap<string, number>): string[] {
  const out = Object.entries(check.cost ?? {}).filter(([policy, calls]) => calls > 0 && limits.has(policy)).map(([policy]) => policy);
  if (check.owns && check.owns.session !== false && limits.has('login') && !out.includes('login')) out.push('login');
  return out;
}

/** Merges the checks' queues (one per budget they spend most of, in the suite's order) so that
 * each queue's share of its total is taken at the same pace; checks spending no per-address
 * budget go first (they take no window). */
function interleave<T extends CheckDef>(checks: T[], limits: ReadonlyMap<string, number> | undefined): T[] {
  if (!limits?.size) return checks;
  const free: T[] = [];
  const queues = new Map<string, { items: Array<{ check: T; windows: number }>; total: number; taken: number }>();
  for (const check of checks) {
    let main: { policy: string; windows: number } | undefined;
    // An account of its own costs a registration and a login when no finished check has given
    // one back yet: such a check is not one to start first.
    const own = check.owns ? { register: 1, login: 1 } : {};
    for (const [policy, calls] of Object.entries({ ...own, ...check.cost })) {
      const limit = limits.get(policy);
      if (limit && (!main || calls / limit > main.windows)) main = { policy, windows: calls / limit };
    }
    if (!main) {
      free.push(check);
      continue;
    }
    const queue = queues.get(main.policy) ?? { items: [], total: 0, taken: 0 };
    queue.items.push({ check, windows: main.windows });
    queue.total += main.windows;
    queues.set(main.policy, queue);
  }
  const out = [...free];
  for (;;) {
    const open = [...queues.values()].filter((q) => q.items.length);
    if (!open.length) return out;
    const next = open.reduce((a, b) => (b.taken / b.total < a.taken / a.total ? b : a));
    const { check, windows } = next.items.shift()!;
    next.taken += windows;
    out.push(check);
  }
}

/** Which of `pending` a free lane starts (`schedule`'s `ready`; the estimate replays it): the
 * first ready one before the next exclusive one, else the first. */
export function nextToStart<T>(pending: readonly T[], alone: (item: T) => boolean, ready: (item: T) => boolean): number {
  if (!pending.length || alone(pending[0]!)) return 0;
  const found = pending.findIndex((item) => alone(item) || ready(item));
  return found !== -1 && !alone(pending[found]!) ? found : 0;
}

/**
 * Runs `tasks` in order with at most `jobs` at a time; an exclusive task waits for every
 * running task and runs alone. `ready`: when a lane is free, the first task (before the next
 * exclusive one) that is ready starts, else the first one — with one address, a check whose
 * budgets all have room now goes before one that would only wait for a spent window (without
 * it every lane filled with checks waiting for the login window while the reset-request window
 * went unused for three minutes). Results keep the tasks' order. `stop()` true: tasks not
 * started yet are handed to `skipped` instead.
 */
export async function schedule<T, R>(
  tasks: T[],
  opts: {
    jobs: number;
    exclusive: (task: T) => boolean;
    run: (task: T, index: number) => Promise<R>;
    stop?: () => boolean;
    skipped: (task: T, index: number) => R;
    ready?: (task: T) => boolean;
  },
): Promise<R[]> {
  const results: R[] = new Array(tasks.length);
  const running = new Set<Promise<void>>();
  const jobs = Math.max(1, opts.jobs);
  const alone = (task: T) => jobs === 1 || opts.exclusive(task);
  const pending = tasks.map((task, index) => ({ task, index }));
  while (pending.length) {
    const first = pending[0]!;
    if (alone(first.task)) await Promise.all(running);
    while (running.size >= jobs) await Promise.race(running);
    const at = opts.ready ? nextToStart(pending, (p) => alone(p.task), (p) => opts.ready!(p.task)) : 0;
    const [{ task, index }] = pending.splice(at, 1) as [{ task: T; index: number }];
    if (opts.stop?.()) {
      results[index] = opts.skipped(task, index);
      continue;
    }
    const p: Promise<void> = opts
      .run(task, index)
      .then((r) => void (results[index] = r))
      .finally(() => running.delete(p));
    running.add(p);
    if (alone(task)) await p;
  }
  await Promise.all(running);
  return results;
}
