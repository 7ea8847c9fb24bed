import { recipientLimit, takeFrom, type PooledAccount } from './accounts.ts';
import { budgetsOf, isExclusive, nextToStart, perAddressLimits, runOrder } from './schedule.ts';
import type { CheckDef, Contract } from './types.ts';

// The run-time estimate printed before the run (and by --dry-run). Three parts:
// - the deployment's password hashing: every register/login/reset-confirm the checks make
//   hashes a password (their declared `cost`, or `hashes` when a check hashes more or less than
//   its budget calls say: unpaced failures, 422s that never reach the hash). The reference
//   server hashes one password at a time on a 2-core machine, so hashes do not overlap;
// - the rest of each check (requests, validation): PER_CHECK_MS, divided by `--jobs` for the
//   checks that may run alongside others (schedule.ts);
// - with neither a trusted client-ip header nor a harness, the pacing waits: every per-IP
//   budget is shared by the whole run, so the estimate replays the checks in order (on `--jobs`
//   lanes) against those budgets, waiting for a window to reopen whenever one is spent — as
//   the pacer will. Checks that skip in that mode (`skipsAlone`) cost nothing there;
// - without a harness, the real time checks sleep (`waitsMs`: a window of their own, a
//   Retry-After) and the TOTP time steps they wait for (TOTP_WAITS: a deployment accepts each
//   step once per user, so a third code waits for the next step), with or without a header;
// - the final cleanup (a logout per session the run made, a backup-code login per account
//   TOTP stays locked on).
// Every wait a check makes is declared (estimate.test.ts fails for a check that waits and is
// not listed), and `estimateParts` breaks the estimate down for the plan and the run's header.

declare module './types.ts' {
  interface RunResult {
    /** The password hash the run measured before it started (ms): the next `--dry-run`
     * against the same deployment estimates with it. */
    hashMs?: number;
  }
  interface CheckDef {
    /** Password hashes the check makes when it has addresses of its own (a trusted client-ip
     * header), when that differs from the register/login/reset-confirm calls of its `cost`. */
    hashes?: number;
    /** With neither a client-ip header nor the harness the check skips: its cost is not spent. */
    skipsAlone?: boolean;
    /** The check waits until every per-address window it spends has closed (`freshBudget`). */
    freshWindows?: boolean;
  }
}

/** Requests, validation and bookkeeping of one check, measured against the reference server
 * with fast hashing (15.5 s for 97 checks). */
const PER_CHECK_MS = 160;
const WINDOW_MARGIN_MS = 1200;
/** What a hashing request adds to its hash in a run (its validation and bookkeeping, while the
 * suite and the deployment share the machine), fitted on two runs of 451 planned hashes:
 * 16.9 s at scrypt 2^10 (~5 ms a hash) and 83.5 s at 2^15 (150 ms), --jobs 4. */
const HASH_OVERHEAD_MS = 15;
/** A password hash when the deployment was not measured (--dry-run): scrypt N=2^15, 2 cores. */
export const ASSUMED_HASH_MS = 140;
const HASHING = ['register', 'login', 'password-reset-confirm'];

/** One TOTP time step (RFC 6238 default; the contract's TOTP is 30 s). */
const STEP_MS = 30_000;
/** A check's first wait for a fresh step ends at the next boundary: half a step on average,
 * plus the second the device adds. Each further one is a whole step. */
const FIRST_STEP_WAIT_MS = STEP_MS / 2 + 1000;
/** `quietStep`: the check waits while the step is more than 20 s old (a third of the time,
 * 5 s on average, plus a second). */
const QUIET_STEP_WAIT_MS = Math.round(((STEP_MS - 20_000) / 2 + 1000) / 3);
/** A request of the final cleanup (a logout, a revocation) on loopback. */
const CLEANUP_CALL_MS = 8;

/**
 * The TOTP time steps each check that uses TOTP codes waits for without a harness, on an
 * account of its own: the deployment accepts the current step and the next one at once, so
 * only a check's third code (and every one after it) waits for a step boundary (`steps`);
 * `quiet`: it waits until it is well inside a step (quietStep). With a harness the clock is
 * moved instead (a request). The cleanups disable TOTP with a backup code: no step.
 * Every check whose code uses TOTP codes must be listed (estimate.test.ts), 0 included.
 */
export const TOTP_WAITS: Readonly<Record<string, { steps: number; quiet?: boolean }>> = {
  'TOTP-02': { steps: 0 }, // verify, then the stale device's code: two steps
  'TOTP-03': { steps: 0 }, // verify, re-verify
  'TOTP-04': { steps: 1 }, // verify, a code with a wrong password, a code to log in
  'TOTP-05': { steps: 0 }, // verify, a fresh code to log in (then replayed)
  'TOTP-06': { steps: 1 }, // verify, two right codes while locked
  'TOTP-07': { steps: 0 },
  'TOTP-08': { steps: 0 },
  'TOTP-09': { steps: 0 }, // verify, verify again after the re-enrolment
  'TOTP-10': { steps: 0 },
  'TOTP-11': { steps: 0, quiet: true },
  'TOTP-12': { steps: 0, quiet: true },
  'TOTP-13': { steps: 0 }, // verify, a right code at login; disabled with a backup code
  'TOTP-14': { steps: 0 }, // only one right code (refused: locked)
  'HARDENING-04': { steps: 0 }, // verify, a right code while locked
  'HARDENING-05': { steps: 0 }, // needs the harness (its clock moves)
  'HARDENING-35': { steps: 0 }, // verify once (TOTP enrolment revokes the keys)
  'TOTP-40': { steps: 0 }, // verify once; its other codes are computed on the moved harness clock
};

/** Checks that leave TOTP locked on their account without a harness: the final cleanup logs
 * in with a backup code (a password hash) to try to disable it. */
const LEAVES_TOTP_LOCKED = new Set(['TOTP-06', 'HARDENING-04']);

export interface EstimateMode {
  /** A trusted client-ip header: every check has addresses of its own. */
  clientIp: boolean;
  harness: boolean;
  jobs?: number;
  /** What one password hash costs the deployment (measured by the preflight). */
  hashMs: number;
  /** How far into its TOTP step the deployment's clock is as the run starts (ms; a real run
   * reads it from a Date header); half a step when unknown (`--dry-run`). */
  stepPhaseMs?: number;
}

/**
 * Each check's budget calls with the accounts it owns (`owns`, AccountFactory.own) added: the
 * account pool replayed in run order — a registration and a login when no account a finished
 * check gave back fits, a login when the one that fits comes without a live session.
 */
export function withOwnedAccounts(checks: CheckDef[], contract: Pick<Contract, 'document'> | undefined, mode: Pick<EstimateMode, 'clientIp' | 'harness'>): Map<CheckDef, Record<string, number>> {
  const limit = recipientLimit(contract);
  const pool: Array<PooledAccount & { session: boolean }> = [];
  const costs = new Map<CheckDef, Record<string, number>>();
  for (const check of checks) {
    const cost = { ...check.cost };
    costs.set(check, cost);
    if (!mode.clientIp && !mode.harness && check.skipsAlone) continue;
    const add = (policy: string, n: number) => (cost[policy] = (cost[policy] ?? 0) + n);
    const owns = check.owns;
    const returned: typeof pool = [];
    for (let i = 0; owns && i < (owns.count ?? 1); i += 1) {
      const mails = owns.mails ?? 0;
      const pooled = takeFrom(pool, mails, limit, owns.session !== false);
      if (!pooled) add('register', 1);
      if (owns.session !== false && !pooled?.session) add('login', 1);
      // An account that used a TOTP step is retired when registering is cheap (AccountPool).
      const retired = (mode.clientIp || mode.harness) && !!TOTP_WAITS[check.id];
      if (owns.giveBack && !retired) returned.push({ mails: (pooled?.mails ?? 0) + mails, session: !mails && (owns.session !== false || !!pooled?.session) });
    }
    for (const kind of check.givesBack ?? []) returned.push({ mails: 0, session: kind === 'session' });
    pool.push(...returned);
  }
  return costs;
}

/** Password hashes a check makes in this mode (`cost`: its budget calls with owned accounts). */
export function hashesOf(check: CheckDef, mode: Pick<EstimateMode, 'clientIp' | 'harness'>, cost = check.cost): number {
  if (!mode.clientIp && !mode.harness && check.skipsAlone) return 0;
  if (mode.clientIp && check.hashes !== undefined) return check.hashes;
  return HASHING.reduce((n, policy) => n + (cost?.[policy] ?? 0), 0);
}

/** Real time a check sleeps in this mode: a window of its own or a Retry-After (`waitsMs`)
 * and the TOTP steps it waits for, when no harness moves the clock; `pooledStep`: its account
 * comes from a check that used TOTP steps on it (the next step is then a boundary away). */
export function waitsOf(check: CheckDef, mode: Pick<EstimateMode, 'clientIp' | 'harness' | 'stepPhaseMs'>, pooledStep = false, atMs?: number): { totpMs: number; windowMs: number } {
  if (mode.harness || (!mode.clientIp && check.skipsAlone)) return { totpMs: 0, windowMs: 0 };
  const totp = TOTP_WAITS[check.id];
  const steps = (totp?.steps ?? 0) + (pooledStep && totp ? 1 : 0);
  let totpMs: number;
  if (atMs === undefined) totpMs = (steps > 0 ? FIRST_STEP_WAIT_MS + (steps - 1) * STEP_MS : 0) + (totp?.quiet ? QUIET_STEP_WAIT_MS : 0);
  else {
    // On the run's timeline (it starts `stepPhaseMs` into a step, half-way when unknown):
    // checks that wait one after the other are not independent — the second starts just after
    // a boundary the first waited for, and waits almost a whole step.
    const into = (atMs + (mode.stepPhaseMs ?? STEP_MS / 2)) % STEP_MS;
    const toBoundary = STEP_MS - into + 1000;
    totpMs = steps > 0 ? toBoundary + (steps - 1) * STEP_MS : totp?.quiet && into > 20_000 ? toBoundary : 0;
  }
  return { totpMs, windowMs: check.waitsMs ?? 0 };
}

/** The estimate's parts: hashing, real-time waits (TOTP steps, windows a check reopens), the
 * pacing waits of a shared address, the final cleanup — for the plan and the run's header. */
export interface EstimateParts {
  totalMs: number;
  hashes: number;
  hashingMs: number;
  totpMs: number;
  windowMs: number;
  cleanupMs: number;
}

/** The TOTP checks that take an account a check gave back after using TOTP steps on it (the
 * pool retires such accounts when registering is cheap: a header or a harness). */
function pooledSteps(checks: CheckDef[], mode: Pick<EstimateMode, 'clientIp' | 'harness'>): Set<CheckDef> {
  const out = new Set<CheckDef>();
  if (mode.clientIp || mode.harness) return out;
  const pool: Array<{ stepped: boolean }> = [];
  for (const check of checks) {
    if (check.skipsAlone) continue;
    for (let i = 0; check.owns && i < (check.owns.count ?? 1); i += 1) {
      const taken = pool.shift();
      if (taken?.stepped && TOTP_WAITS[check.id]) out.add(check);
      if (check.owns.giveBack) pool.push({ stepped: !!TOTP_WAITS[check.id] || !!taken?.stepped });
    }
    for (let i = 0; i < (check.givesBack?.length ?? 0); i += 1) pool.push({ stepped: false });
  }
  return out;
}

export function plannedHashes(checks: CheckDef[], mode: Pick<EstimateMode, 'clientIp' | 'harness'>, contract?: Pick<Contract, 'document'>): number {
  const costs = withOwnedAccounts(checks, contract, mode);
  return checks.reduce((n, c) => n + hashesOf(c, mode, costs.get(c)), 0);
}

export function estimateRunMs(checks: CheckDef[], contract: Contract, mode: EstimateMode): number {
  return estimateParts(checks, contract, mode).totalMs;
}

export function estimateParts(checks: CheckDef[], contract: Contract, mode: EstimateMode): EstimateParts {
  const shared = !mode.clientIp && !mode.harness;
  const jobs = Math.max(1, mode.jobs ?? 1);
  const perHash = mode.hashMs + HASH_OVERHEAD_MS;
  // In the order the runner starts them (schedule.ts: runOrder).
  checks = runOrder(checks, { sharedAddress: !mode.clientIp, harness: mode.harness, jobs, perAddress: perAddressLimits(contract) });
  const costs = withOwnedAccounts(checks, contract, mode);
  const stepped = pooledSteps(checks, mode);
  const parts = { hashes: 0, hashingMs: 0, totpMs: 0, windowMs: 0, cleanupMs: 0 };
  let logins = 0;
  for (const check of checks) {
    const hashes = hashesOf(check, mode, costs.get(check));
    parts.hashes += hashes;
    parts.hashingMs += hashes * perHash;
    if (!(shared && check.skipsAlone)) logins += costs.get(check)?.['login'] ?? 0;
  }
  /** The TOTP and window waits, as the timeline below meets them. */
  const wait = (check: CheckDef, atMs: number) => {
    const waits = waitsOf(check, mode, stepped.has(check), atMs);
    parts.totpMs += waits.totpMs;
    parts.windowMs += waits.windowMs;
    return waits.totpMs + waits.windowMs;
  };
  // The final cleanup: a logout per session, a backup-code login per locked TOTP account.
  const locked = mode.harness ? 0 : checks.filter((c) => LEAVES_TOTP_LOCKED.has(c.id)).length;
  parts.cleanupMs = logins * CLEANUP_CALL_MS + locked * perHash;
  // Both modes are simulated on `jobs` lanes in the order the runner starts the checks (an
  // exclusive check waits for every lane to finish and runs alone; a sleeping check holds its
  // lane). With one address, every per-IP budget is shared by the whole run: each budget call
  // is counted in its policy's window in time order, or waits for the window to reopen — as
  // the pacer does. With addresses of its own a check waits for no budget, but the deployment
  // hashes one password at a time: the run takes at least all its hashing.
  const run = { sharedAddress: !mode.clientIp, harness: mode.harness };
  const policies = new Map(shared ? contract.policies().filter((p) => p.key === 'ip').map((p) => [p.policy, p]) : []);
  const windows = new Map<string, { start: number; count: number }>();
  interface Lane {
    time: number;
    /** The budgeted calls of its check still to make, then its requests and hashes. */
    calls: string[];
    tail: number;
    busy: boolean;
  }
  const lanes: Lane[] = Array.from({ length: jobs }, () => ({ time: 0, calls: [], tail: 0, busy: false }));
  const exclusive = (check: CheckDef) => jobs === 1 || isExclusive(check, run);
  const start = (lane: Lane, check: CheckDef) => {
    const cost = costs.get(check) ?? {};
    const skips = shared && check.skipsAlone;
    lane.calls = skips ? [] : Object.entries(cost).flatMap(([name, n]) => (policies.has(name) ? new Array<string>(n).fill(name) : []));
    lane.tail = PER_CHECK_MS + (skips ? 0 : hashesOf(check, mode, cost) * perHash + wait(check, lane.time));
    lane.busy = true;
    if (shared && check.freshWindows && !skips) {
      for (const name of new Set(lane.calls)) {
        const w = windows.get(name);
        const windowMs = policies.get(name)!.window_seconds * 1000;
        if (w && lane.time < w.start + windowMs) lane.time = w.start + windowMs + WINDOW_MARGIN_MS;
      }
    }
  };
  // As the runner (schedule.ts): with one address and no harness, a free lane starts the first
  // check whose budgets all have room at its time, else the next one.
  const limits = perAddressLimits(contract);
  const ready = (check: CheckDef, at: number) =>
    budgetsOf(check, limits).every((name) => {
      const w = windows.get(name);
      return !w || at >= w.start + policies.get(name)!.window_seconds * 1000 || w.count < policies.get(name)!.limit;
    });
  const pending = [...checks];
  let alone = false;
  for (;;) {
    const startsNext = !alone && pending.length > 0 && !exclusive(pending[0]!);
    const candidates = lanes.filter((l) => l.busy || startsNext);
    if (!candidates.length) {
      if (!pending.length) break;
      // An exclusive check: every lane has finished; it runs alone from the latest of them.
      const t = Math.max(...lanes.map((l) => l.time));
      for (const l of lanes) l.time = t;
      start(lanes[0]!, pending.shift()!);
      alone = true;
      continue;
    }
    const lane = candidates.reduce((a, b) => (b.time < a.time ? b : a));
    if (!lane.busy) {
      const at = shared ? nextToStart(pending, exclusive, (c) => ready(c, lane.time)) : 0;
      start(lane, pending.splice(at, 1)[0]!);
      continue;
    }
    const name = lane.calls[0];
    if (name === undefined) {
      lane.time += lane.tail;
      lane.busy = false;
      if (alone) {
        for (const l of lanes) l.time = lane.time;
        alone = false;
      }
      continue;
    }
    const policy = policies.get(name)!;
    const windowMs = policy.window_seconds * 1000;
    let w = windows.get(name);
    if (!w || lane.time >= w.start + windowMs) windows.set(name, (w = { start: lane.time, count: 0 }));
    if (w.count < policy.limit) {
      w.count += 1;
      lane.calls.shift();
    } else lane.time = w.start + windowMs + WINDOW_MARGIN_MS;
  }
  const makespan = Math.max(...lanes.map((l) => l.time));
  const hashBound = shared ? 0 : parts.hashingMs + (checks.length * PER_CHECK_MS) / jobs;
  return { ...parts, totalMs: Math.max(makespan, hashBound) + parts.cleanupMs };
}

/**
 * The floor of a run with one address and no harness: every per-IP budget is shared by the
 * whole run and no clock can be moved, so a policy whose checks make N counted calls at `limit`
 * per window needs at least ceil(N / limit) − 1 whole windows, however many checks run at once.
 * The largest of them is the floor (`--dry-run` prints it with the policy that sets it); a
 * client-ip header or the harness lifts it.
 */
export function budgetFloor(checks: CheckDef[], contract: Contract, mode: Pick<EstimateMode, 'clientIp' | 'harness'>): { policy: string; calls: number; limit: number; windowSeconds: number; ms: number } | undefined {
  if (mode.clientIp || mode.harness) return undefined;
  const costs = withOwnedAccounts(checks, contract, mode);
  let floor: ReturnType<typeof budgetFloor>;
  for (const p of contract.policies().filter((q) => q.key === 'ip')) {
    let calls = 0;
    for (const check of checks) if (!check.skipsAlone) calls += costs.get(check)?.[p.policy] ?? 0;
    const ms = Math.max(0, Math.ceil(calls / p.limit) - 1) * p.window_seconds * 1000;
    if (calls > 0 && (floor === undefined || ms > floor.ms)) floor = { policy: p.policy, calls, limit: p.limit, windowSeconds: p.window_seconds, ms };
  }
  return floor;
}

/** `--jobs` unless given, with one address shared by the run (run.ts: defaultJobs). */
export const SHARED_ADDRESS_JOBS = 8;

/** With one address, no harness and `--jobs 1` given, what the default would take (said next
 * to the estimate: such a run spends most of its time waiting, and the checks wait together). */
export function jobsHint(checks: CheckDef[], contract: Contract, mode: EstimateMode): string {
  if (mode.clientIp || mode.harness || (mode.jobs ?? 1) > 1) return '';
  return `; about ${formatDuration(estimateRunMs(checks, contract, { ...mode, jobs: SHARED_ADDRESS_JOBS }))} with --jobs ${SHARED_ADDRESS_JOBS}`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
