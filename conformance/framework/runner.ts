import { CheckFailed, CheckSkipped, createContext, type CheckState, type ContextDeps } from './context.ts';
import { NotInContract, notInContract } from './features.ts';
import { NotImplemented } from './profiles.ts';
import { budgetsOf, isExclusive, perAddressLimits, runOrder, schedule } from './schedule.ts';
import type { CheckDef, CheckResult, Exchange, Need, Outcome } from './types.ts';

// Runs checks one after the other (budgets are shared, and a check's timing must not be
// disturbed by another's burst) — or, with `--jobs N`, the independent ones N at a time
// (schedule.ts) — each with its own timeout; turns findings into outcomes:
// a MUST finding → fail, a SHOULD finding → warn; contract violations met by a check's own
// calls are findings of that check too.

export interface RunnerDeps extends ContextDeps {
  capabilities: Record<Need, boolean>;
  /** Cleanups that failed, reported as left behind. */
  leftBehind: string[];
  /** Once aborted, the remaining checks are skipped (the run still cleans up and reports). */
  interrupt?: AbortSignal;
  timeoutMs: number;
  log: (line: string) => void;
  /** `--jobs N`: independent checks run N at a time (schedule.ts says which are). */
  jobs?: number;
  /** `--fail-fast`: no check starts after a MUST failure. */
  failFast?: boolean;
}

export const NEED_REASON: Record<Need, string> = {
  smtp: 'needs an SMTP sink: pass --smtp-port N and point the deployment’s SMTP at it',
  harness: 'needs the conformance harness: pass --harness-url and --harness-token',
  clientIp: 'needs a trusted client-ip header: pass --client-ip-header NAME (the deployment must trust it)',
};

export async function runChecks(checks: CheckDef[], deps: RunnerDeps): Promise<CheckResult[]> {
  const width = String(checks.length).length;
  let done = 0;
  const report = (check: CheckDef, result: CheckResult): CheckResult => {
    done += 1;
    const reason = result.outcome === 'pass' ? '' : ` — ${result.reason ?? ''}`;
    deps.log(
      `[${String(done).padStart(width)}/${checks.length}] ${symbol(result.outcome)} ${check.id} ${check.level} ${check.title} (${(result.durationMs / 1000).toFixed(1)} s)${reason}`,
    );
    return result;
  };
  // With one shared address, the checks that drive or judge a budget run alone (schedule.ts).
  const sharedAddress = !deps.capabilities.clientIp;
  let firstMustFailure: string | undefined;
  const perAddress = perAddressLimits(deps.contract);
  const order = runOrder(checks, { sharedAddress, harness: deps.capabilities.harness, jobs: deps.jobs ?? 1, perAddress });
  // With one address and no harness, a check whose budgets all have room now starts first.
  const policies = new Map(deps.contract.policies().map((p) => [p.policy, p]));
  const ready = (check: CheckDef) => budgetsOf(check, perAddress).every((name) => deps.env.pacer.remaining(policies.get(name)!, { ip: 'self' }) > 0);
  const results = await schedule(order, {
    ...(sharedAddress && !deps.capabilities.harness ? { ready } : {}),
    jobs: deps.jobs ?? 1,
    // A check skipped for a need not offered runs nothing: it need not wait for the others.
    exclusive: (check) => (check.needs ?? []).every((need) => deps.capabilities[need]) && isExclusive(check, { sharedAddress, harness: deps.capabilities.harness }),
    stop: () => !!deps.interrupt?.aborted || (!!deps.failFast && firstMustFailure !== undefined),
    run: async (check) => {
      const result = await runOne(check, deps);
      if (result.outcome === 'fail' && result.level === 'MUST') firstMustFailure ??= result.id;
      return report(check, result);
    },
    skipped: (check) =>
      report(check, {
        id: check.id,
        area: check.area,
        level: check.level,
        title: check.title,
        outcome: 'skip',
        reason: deps.interrupt?.aborted ? 'the run was interrupted' : `not run: --fail-fast after ${firstMustFailure} failed`,
        findings: [],
        notes: [],
        exchangeIds: [],
        durationMs: 0,
      }),
  });
  return checks.map((check) => results[order.indexOf(check)]!);
}

export async function runOne(check: CheckDef, deps: RunnerDeps): Promise<CheckResult> {
  const started = performance.now();
  const base = { id: check.id, area: check.area, level: check.level, title: check.title, ...(check.needs ? { needs: check.needs } : {}) };
  // What the chosen contract does not promise is not checked (features.ts).
  const absent = notInContract(check, deps.contract);
  if (absent) return { ...base, outcome: 'skip', reason: absent, findings: [], notes: [], exchangeIds: [], durationMs: 0 };
  const missing = (check.needs ?? []).filter((need) => !deps.capabilities[need]);
  if (missing.length) {
    return { ...base, outcome: 'skip', reason: missing.map((n) => NEED_REASON[n]).join('; '), findings: [], notes: [], exchangeIds: [], durationMs: 0 };
  }
  const { ctx, state } = createContext(check, deps);
  const timeoutMs = check.timeoutMs ?? deps.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  let skipped: string | undefined;
  try {
    await Promise.race([
      check.run(ctx),
      new Promise<never>((_, reject) => {
        // The time the check queued for a rate-limit budget is not its own: with --jobs and one
        // address, checks wait for the same windows. The deadline moves by that much.
        let credited = 0;
        const arm = (ms: number): void => {
          timer = setTimeout(() => {
            const waited = deps.env.pacer.waitedFor(state.controller.signal);
            if (waited > credited) {
              arm(waited - credited);
              credited = waited;
              return;
            }
            // Settle the race first, so the verdict says "timed out", then stop the check's calls.
            reject(new Error(`timed out after ${timeoutMs} ms${credited ? ` (plus ${Math.round(credited / 1000)} s waiting for rate-limit budgets)` : ''}`));
            state.controller.abort();
          }, ms);
        };
        arm(timeoutMs);
      }),
    ]);
  } catch (error) {
    if (error instanceof CheckSkipped || error instanceof NotImplemented || error instanceof NotInContract) skipped = error.message;
    else if (!(error instanceof CheckFailed)) {
      state.findings.push({ message: `the check stopped: ${(error as Error).message ?? String(error)}`, requirement: check.id });
    }
  } finally {
    // Not aborted on completion: deferred cleanups still call through the check's context.
    clearTimeout(timer);
  }
  addViolations(state, deps.exchanges());
  const result = finish(check, state, skipped, 0);
  // The check's own cleanups (TOTP off, keys revoked) are part of its time: a wait there
  // belongs to it, and the progress line says so.
  await runDeferred(state, deps.leftBehind);
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

/** The check's own cleanups, newest first, while its sessions are still alive. */
async function runDeferred(state: CheckState, leftBehind: string[]): Promise<void> {
  for (const { description, action } of state.deferred.reverse()) {
    try {
      await Promise.race([action(), new Promise((_, reject) => setTimeout(() => reject(new Error('cleanup timed out')), 60_000).unref())]);
    } catch (error) {
      leftBehind.push(`${description}: ${(error as Error).message}`);
    }
  }
}

/** Contract violations seen on the check's own exchanges become its findings as well. */
function addViolations(state: CheckState, exchanges: readonly Exchange[]): void {
  const mine = new Set(state.exchangeIds);
  for (const ex of exchanges) {
    if (!mine.has(ex.id)) continue;
    for (const v of ex.violations) state.findings.push({ message: `${v.requirement}: ${v.message}`, requirement: v.requirement, exchangeId: ex.id });
  }
}

function finish(check: CheckDef, state: CheckState, skipped: string | undefined, durationMs: number): CheckResult {
  let outcome: Outcome = 'pass';
  // A check whose only findings are contract violations its calls met did not fail its own
  // requirement: the root cause is reported once, under the CONTRACT-* requirement, and the
  // check says it was blocked by it instead of repeating it.
  const own = state.findings.filter((f) => !f.requirement.startsWith('CONTRACT-'));
  const blockedBy = [...new Set(state.findings.filter((f) => f.requirement.startsWith('CONTRACT-')).map((f) => f.requirement))];
  if (own.length) outcome = check.level === 'MUST' ? 'fail' : 'warn';
  else if (blockedBy.length) {
    outcome = 'skip';
    skipped = `blocked by ${blockedBy.join(', ')} (reported once there): ${state.findings[0]!.message}`;
  } else if (skipped !== undefined) outcome = 'skip';
  else if (state.warnings?.length) {
    // `ctx.warn()`: a finding under the requirement's threshold; a MUST check warns too.
    outcome = 'warn';
    skipped = state.warnings[0]!.message;
  } else if (state.notVerified?.length) {
    outcome = 'partial';
    skipped = `not verified: ${state.notVerified.join('; ')}`;
  }
  return {
    id: check.id,
    area: check.area,
    level: check.level,
    title: check.title,
    ...(check.needs ? { needs: check.needs } : {}),
    outcome,
    ...(own.length ? { reason: own[0]!.message } : skipped !== undefined ? { reason: skipped } : {}),
    ...(state.notVerified?.length ? { notVerified: state.notVerified } : {}),
    ...(state.warnings?.length ? { warnings: state.warnings.map((w) => w.message) } : {}),
    ...(state.measurement ? { measurement: state.measurement } : {}),
    findings: outcome === 'warn' && !own.length ? [...state.findings, ...(state.warnings ?? [])] : state.findings,
    notes: state.notes,
    exchangeIds: state.exchangeIds,
    durationMs: Math.round(durationMs),
  };
}

function symbol(outcome: Outcome): string {
  return { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', partial: 'PARTIAL' }[outcome];
}
