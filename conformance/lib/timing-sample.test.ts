import { describe, expect, it } from 'vitest';
import { runChecks } from '../framework/runner.ts';
import { testRunnerDeps } from '../framework/test-runner-deps.ts';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { MIN_VALID, timePairs, unexpected, type Sample } from './timing-sample.ts';

// The timing verdicts without HTTP: samples with fixed durations through the real runner, so
// the outcome (pass / warn / fail / partial) is the one a run would report.

let nextId = 1;
const ex = (durationMs: number, status = 401, code = 'invalid_credentials'): Exchange =>
  ({ id: nextId++, status, durationMs, body: { code }, headers: {}, text: '', violations: [], checkId: 'T', client: 'self', request: { method: 'POST', url: 'http://x/auth/login', headers: {}, bodyBytes: 0 } }) as Exchange;

const jitter = (i: number): number => ((i * 7) % 5) - 2; // -2..2 ms, deterministic

function timingCheck(suspectMs: (i: number) => Exchange, baselineMs: (i: number) => Exchange = (i) => ex(100 + jitter(i))): CheckDef {
  return {
    id: 'T-01',
    area: 'login',
    level: 'MUST',
    title: 'timing',
    run: async (ctx: CheckContext) => {
      const sample = (e: Exchange): Sample => ({ exchange: e, invalid: unexpected(e, 401, 'invalid_credentials') });
      await timePairs(ctx, { labels: ['unknown', 'wrong'], pairs: 10, minValid: MIN_VALID, largeMs: 25, baseline: async (i) => sample(baselineMs(i)), suspect: async (i) => sample(suspectMs(i)), leak: 'it leaks' });
    },
  };
}

const run = async (check: CheckDef) => (await runChecks([check], testRunnerDeps({}, [])))[0]!;

describe('timing verdicts (issue 19)', () => {
  it('a significant and large difference FAILS a MUST check, with the interval in the reason and the measurement', async () => {
    const r = await run(timingCheck((i) => ex(260 + jitter(i))));
    expect(r.outcome).toBe('fail');
    expect(r.reason).toMatch(/median difference 160\.0 ms, 95 % CI \[\d+\.\d, \d+\.\d\] ms, Mann–Whitney p = .*significant and large — it leaks/u);
    expect(r.measurement).toMatchObject({ verdict: 'fail', n: [10, 10], discarded: [] });
    expect(r.measurement!.lowMs).toBeGreaterThan(25);
  });

  it('a significant but small difference WARNS (exit 0), the MUST level kept', async () => {
    const r = await run(timingCheck((i) => ex(108 + jitter(i))));
    expect(r).toMatchObject({ outcome: 'warn', level: 'MUST' });
    expect(r.reason).toMatch(/significant but not wholly beyond 25 ms/u);
    expect(r.warnings).toHaveLength(1);
  });

  it('no difference passes, and still reports its interval', async () => {
    const r = await run(timingCheck((i) => ex(100 + jitter(i + 3))));
    expect(r.outcome).toBe('pass');
    expect(r.notes.join('\n')).toMatch(/95 % CI \[/u);
    expect(r.measurement).toMatchObject({ verdict: 'pass' });
  });

  it('samples that did not take the timed path (a 429 from a budget) are discarded and named, never compared', async () => {
    // Every other wrong-password sample meets the account's budget: a fast 429 that would
    // otherwise pull the suspect's median down and hide the slow path.
    const r = await run(timingCheck((i) => (i % 3 === 2 ? ex(3, 429, 'rate_limited') : ex(260 + jitter(i)))));
    expect(r.outcome).toBe('fail');
    expect(r.measurement!.n).toEqual([10, 7]);
    expect(r.measurement!.discarded).toHaveLength(3);
    expect(r.notes.join('\n')).toMatch(/discarded 3 sample\(s\) that did not take the timed path: pair 3 wrong \(exchange \d+\): answered 429 rate_limited, not 401 invalid_credentials/u);
  });

  it('too few valid samples: PARTIAL with the reason, no verdict', async () => {
    const r = await run(timingCheck((i) => (i % 2 ? ex(3, 429, 'rate_limited') : ex(300))));
    expect(r.outcome).toBe('partial');
    expect(r.reason).toMatch(/not verified: the timing comparison: only 10 of 10 unknown and 5 of 10 wrong samples took the timed path \(at least 6 each needed\)/u);
    expect(r.measurement).toMatchObject({ verdict: 'not judged' });
  });
});
