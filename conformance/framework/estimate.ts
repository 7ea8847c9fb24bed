import { isExclusive } from './schedule.ts';
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
//   the pacer will. Checks that skip in that mode (`skipsAlone`) cost nothing there.

declare module './types.ts' {
  interface CheckDef {
    /** Password hashes the check makes when it has addresses of its own (a trusted client-ip
     * header), when that differs from the register/login/reset-confirm calls of its `cost`. */
    hashes?: number;
    /** With neither a client-ip header nor the harness the check skips: its cost is not spent. */
    skipsAlone?: boolean;
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

export interface EstimateMode {
  /** A trusted client-ip header: every check has addresses of its own. */
  clientIp: boolean;
  harness: boolean;
  jobs?: number;
  /** What one password hash costs the deployment (measured by the preflight). */
  hashMs: number;
}

/** Password hashes a check makes in this mode. */
export function hashesOf(check: CheckDef, mode: Pick<EstimateMode, 'clientIp' | 'harness'>): number {
  if (!mode.clientIp && !mode.harness && check.skipsAlone) return 0;
  if (mode.clientIp && check.hashes !== undefined) return check.hashes;
  return HASHING.reduce((n, policy) => n + (check.cost?.[policy] ?? 0), 0);
}

export function plannedHashes(checks: CheckDef[], mode: Pick<EstimateMode, 'clientIp' | 'harness'>): number {
  return checks.reduce((n, c) => n + hashesOf(c, mode), 0);
}

export function estimateRunMs(checks: CheckDef[], contract: Contract, mode: EstimateMode): number {
  const shared = !mode.clientIp && !mode.harness;
  const jobs = Math.max(1, mode.jobs ?? 1);
  const perHash = mode.hashMs + HASH_OVERHEAD_MS;
  if (!shared) {
    // Hashing never overlaps (one hash at a time); the rest of the parallel checks does.
    let ms = 0;
    for (const check of checks) ms += hashesOf(check, mode) * perHash + (isExclusive(check, { sharedAddress: !mode.clientIp, harness: mode.harness }) ? PER_CHECK_MS : PER_CHECK_MS / jobs);
    return ms;
  }
  // One address: every per-IP budget is shared by the whole run. The checks are replayed on
  // `jobs` lanes (an exclusive one waits for all lanes and runs alone), each spending its
  // declared cost against those budgets, waiting for a window to reopen whenever one is spent
  // — as the pacer will.
  const policies = new Map(contract.policies().filter((p) => p.key === 'ip').map((p) => [p.policy, p]));
  const windows = new Map<string, { start: number; count: number }>();
  const replay = (check: CheckDef, start: number): number => {
    let now = start;
    if (check.skipsAlone) return now + PER_CHECK_MS;
    for (const [name, calls] of Object.entries(check.cost ?? {})) {
      const policy = policies.get(name);
      if (!policy) continue;
      const windowMs = policy.window_seconds * 1000;
      let left = calls;
      while (left > 0) {
        let w = windows.get(name);
        if (!w || now >= w.start + windowMs) windows.set(name, (w = { start: now, count: 0 }));
        const take = Math.min(left, policy.limit - w.count);
        w.count += take;
        left -= take;
        if (left > 0) now = Math.max(now, w.start + windowMs + WINDOW_MARGIN_MS);
      }
    }
    return now + PER_CHECK_MS + hashesOf(check, mode) * perHash;
  };
  const lanes: number[] = new Array(jobs).fill(0);
  for (const check of checks) {
    if (jobs === 1 || isExclusive(check, { sharedAddress: true, harness: false })) lanes.fill(replay(check, Math.max(...lanes)));
    else {
      const lane = lanes.indexOf(Math.min(...lanes));
      lanes[lane] = replay(check, lanes[lane]!);
    }
  }
  return Math.max(...lanes);
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
