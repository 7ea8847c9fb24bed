import type { Measurement } from '../framework/options.ts';
import type { CheckContext, Exchange } from '../framework/types.ts';
import { compareTimings } from './stats.ts';

// Timing checks that time what they say (LOGIN-03, RESET-11, HARDENING-32; issue 19).
//
// Samples are taken in interleaved pairs (baseline, suspect), the order alternating, so drift
// in the deployment's load hits both arms alike. Every sample is validated: an answer that is
// not the one the timed path gives (a 429 from a budget, another status, a reset mail that never
// came) did not time the path, so it is discarded and reported, never compared. Too few valid
// samples left → PARTIAL with the reason.
//
// The verdict (docs/DECISIONS.md, "Timing checks that time what they say"):
// - significant (Mann–Whitney p < ALPHA) AND large (the whole 95 % bootstrap interval of the
//   median difference beyond `largeMs`) → a finding: the MUST check FAILS;
// - significant but not large → WARN (`ctx.warn`), exit 0;
// - otherwise → pass. The difference, its interval and p are in the result either way
//   (`ctx.measured`, report.json's `measurement`, and a note).

/** Significance level: one false alarm in a hundred runs of an honest deployment at most,
 * before the size condition (the whole interval beyond the threshold) cuts it further. */
export const ALPHA = 0.01;

/** A sample: the exchange timed, and why it does not count (undefined: it does). */
export interface Sample {
  exchange: Exchange;
  invalid?: string;
}

export interface TimingPlan {
  /** [baseline, suspect]: the verdict is about suspect − baseline. */
  labels: [string, string];
  pairs: number;
  /** Fewest valid samples per arm to judge: below it the check ends PARTIAL. */
  minValid: number;
  largeMs: number;
  /** Runs before each pair (a new client address, the next rate-limit window). */
  beforePair?(i: number): Promise<void>;
  baseline(i: number): Promise<Sample>;
  suspect(i: number): Promise<Sample>;
  /** Runs after each pair (wait for its mail, reset a budget); may discard a sample of the
   * pair by setting its `invalid` reason. */
  afterPair?(i: number, pair: { baseline: Sample; suspect: Sample }): Promise<void>;
  /** What the finding says the difference reveals. */
  leak: string;
  /** Appended to the measurement text (e.g. the SMTP delay). */
  context?: string;
}

/** The smallest per-arm sample count at which the rank test can reach ALPHA at all
 * (complete separation of n + n samples): 6 + 6 gives p ≈ 0.005. */
export const MIN_VALID = 6;

export async function timePairs(ctx: CheckContext, plan: TimingPlan): Promise<Measurement> {
  const base: number[] = [];
  const suspect: number[] = [];
  const discarded: string[] = [];
  for (let i = 0; i < plan.pairs; i += 1) {
    let b: Sample;
    let s: Sample;
    await plan.beforePair?.(i);
    if (i % 2) {
      b = await plan.baseline(i);
      s = await plan.suspect(i);
    } else {
      s = await plan.suspect(i);
      b = await plan.baseline(i);
    }
    await plan.afterPair?.(i, { baseline: b, suspect: s });
    for (const [arm, sample, into] of [
      [plan.labels[0], b, base],
      [plan.labels[1], s, suspect],
    ] as const) {
      if (sample.invalid === undefined) into.push(sample.exchange.durationMs);
      else discarded.push(`pair ${i + 1} ${arm} (exchange ${sample.exchange.id}): ${sample.invalid}`);
    }
  }
  const summary = (n: number): string => `${n} of ${plan.pairs}`;
  if (discarded.length) ctx.note(`discarded ${discarded.length} sample(s) that did not take the timed path: ${discarded.join('; ')}`);
  if (base.length < plan.minValid || suspect.length < plan.minValid) {
    const what = `the timing comparison: only ${summary(base.length)} ${plan.labels[0]} and ${summary(suspect.length)} ${plan.labels[1]} samples took the timed path (at least ${plan.minValid} each needed)${discarded.length ? `; first discarded: ${discarded[0]}` : ''}`;
    ctx.partial(what);
    const m: Measurement = { kind: 'timing', labels: plan.labels, diffMs: NaN, lowMs: NaN, highMs: NaN, p: NaN, alpha: ALPHA, largeMs: plan.largeMs, n: [base.length, suspect.length], discarded, verdict: 'not judged', text: `not judged: ${what}` };
    ctx.measured(m);
    return m;
  }
  const v = compareTimings(base, suspect, { largeMs: plan.largeMs, alpha: ALPHA, labels: plan.labels });
  const text = `${v.text}${plan.context ? ` ${plan.context}` : ''}; fails when p < ${ALPHA} and the whole interval is beyond ±${plan.largeMs} ms`;
  const verdict = v.large ? 'fail' : v.significant ? 'warn' : 'pass';
  const m: Measurement = { kind: 'timing', labels: plan.labels, diffMs: v.diff, lowMs: v.low, highMs: v.high, p: v.p, alpha: ALPHA, largeMs: plan.largeMs, n: [base.length, suspect.length], discarded, verdict, text };
  ctx.measured(m);
  ctx.note(text);
  if (verdict === 'fail') ctx.expect(false, `${text}: the difference is significant and large — ${plan.leak}`);
  else if (verdict === 'warn') ctx.warn(`${text}: significant but not wholly beyond ${plan.largeMs} ms — a small difference, not judged a leak`);
  return m;
}

/** A problem answer with this status and code, else why not. */
export function unexpected(ex: Exchange, status: number, code?: string): string | undefined {
  if (ex.status !== status) return `answered ${ex.status || ex.error}${typeof ex.body?.code === 'string' ? ` ${ex.body.code}` : ''}, not ${status}${code ? ` ${code}` : ''}`;
  if (code !== undefined && ex.body?.code !== code) return `answered ${ex.status} ${String(ex.body?.code)}, not ${code}`;
  return undefined;
}

/**
 * LOGIN-03 / HARDENING-32: unknown addresses (baseline) against wrong passwords for `email`
 * (suspect), every sample a 401 invalid_credentials. `pairs`: [one shared address, distinct
 * addresses]. Each pair within one per-IP login window: a new simulated address every 4 pairs
 * (8 logins + the warm-up fit a window of 10), or with one address the next window, through the
 * harness clock when there is one (else the pacer waits for it). The account's failure budget
 * is emptied first through the harness when there is one.
 */
export async function timeWrongPasswords(
  ctx: CheckContext,
  email: string,
  opts: { suspect: string; largeMs: number; pairs: [number, number] },
): Promise<Measurement> {
  if (ctx.harness) await ctx.harness.resetRateLimits({ email });
  const withAddresses = !!ctx.options.clientIpHeader;
  const pairs = withAddresses ? opts.pairs[1] : opts.pairs[0];
  const perIp = ctx.contract.operation('login').rateLimit;
  let client = ctx.client;
  // One warm-up call: the first request of a connection or a code path is often slower.
  await client.call('login', { body: { email: ctx.accounts.newEmail(), password: ctx.accounts.newPassword() } });
  let used = 1;
  const sample = async (address: string): Promise<Sample> => {
    const exchange = await client.call('login', { body: { email: address, password: ctx.accounts.newPassword() }, alone: true });
    used += 1;
    return { exchange, invalid: unexpected(exchange, 401, 'invalid_credentials') };
  };
  return timePairs(ctx, {
    labels: ['unknown e-mail', opts.suspect],
    pairs,
    minValid: MIN_VALID,
    largeMs: opts.largeMs,
    beforePair: async (i) => {
      if (withAddresses) {
        if (i > 0 && i % 4 === 0) client = ctx.newClient();
      } else if (perIp && used + 2 > perIp.limit) {
        if (ctx.harness) await ctx.harness.advanceClock(perIp.window_seconds);
        used = 0;
      }
    },
    baseline: () => sample(ctx.accounts.newEmail()),
    suspect: () => sample(email),
    leak: 'it tells which addresses have an account',
  });
}
