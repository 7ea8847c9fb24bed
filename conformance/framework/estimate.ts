import type { CheckDef, Contract } from './types.ts';

// The run-time estimate printed before the run. With a trusted client-ip header (or a harness
// that resets budgets) budgets do not bind. Otherwise every per-IP budget is shared by the whole
// run: the estimate replays the checks in order against those budgets (each check's declared
// `cost`), waiting for a window to reopen whenever one is spent — as the pacer will.

const PER_CHECK_MS = 100;
const WINDOW_MARGIN_MS = 1200;

export function estimateRunMs(checks: CheckDef[], contract: Contract, sharedAddress: boolean): number {
  if (!sharedAddress) return checks.length * PER_CHECK_MS;
  const policies = new Map(contract.policies().filter((p) => p.key === 'ip').map((p) => [p.policy, p]));
  const windows = new Map<string, { start: number; count: number }>();
  let now = 0;
  for (const check of checks) {
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
        if (left > 0) now = w.start + windowMs + WINDOW_MARGIN_MS;
      }
    }
    now += PER_CHECK_MS;
  }
  return now;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
