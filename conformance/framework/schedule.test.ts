import { describe, expect, it } from 'vitest';
import { isExclusive, runOrder, schedule } from './schedule.ts';
import type { CheckContext, CheckDef } from './types.ts';

// Stands for the TOTP flow helpers (lib/totp-flow.ts): only the name matters to isExclusive.
const enableTotp = async (_ctx: CheckContext): Promise<void> => {};

// --jobs: at most N at a time, exclusive tasks alone, results in task order, stop honoured.

describe('schedule', () => {
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('`ready`: a free lane starts the first ready task before the next exclusive one, else the first; results keep the order', async () => {
    const tasks = [
      { id: 'waits', alone: false, ready: false },
      { id: 'r1', alone: false, ready: true },
      { id: 'waits2', alone: false, ready: false },
      { id: 'X', alone: true, ready: true },
      { id: 'r2', alone: false, ready: true },
    ];
    const started: string[] = [];
    const results = await schedule(tasks, {
      jobs: 1 + 1,
      exclusive: (t) => t.alone,
      ready: (t) => t.ready,
      skipped: (t) => t.id,
      run: async (t) => {
        started.push(t.id);
        await tick();
        return t.id;
      },
    });
    // r1 jumps the queue; with no ready task left before X the first one starts; r2 never
    // passes the exclusive X.
    expect(started).toEqual(['r1', 'waits', 'waits2', 'X', 'r2']);
    expect(results).toEqual(['waits', 'r1', 'waits2', 'X', 'r2']);
  });

  it('runs at most `jobs` tasks at once, exclusive ones alone, and keeps the order of results', async () => {
    const tasks = [
      { id: 'a', alone: false },
      { id: 'b', alone: false },
      { id: 'c', alone: false },
      { id: 'X', alone: true },
      { id: 'd', alone: false },
      { id: 'e', alone: false },
    ];
    let active = 0;
    let most = 0;
    const overlapWithX: string[] = [];
    let xRunning = false;
    const results = await schedule(tasks, {
      jobs: 2,
      exclusive: (t) => t.alone,
      skipped: (t) => `skipped ${t.id}`,
      run: async (t) => {
        active += 1;
        most = Math.max(most, active);
        if (t.alone) xRunning = true;
        else if (xRunning) overlapWithX.push(t.id);
        for (let i = 0; i < (t.id === 'a' ? 5 : 2); i += 1) await tick();
        if (t.alone) {
          if (active !== 1) overlapWithX.push('while X started');
          xRunning = false;
        }
        active -= 1;
        return t.id;
      },
    });
    expect(results).toEqual(['a', 'b', 'c', 'X', 'd', 'e']);
    expect(most).toBe(2);
    expect(overlapWithX).toEqual([]);
  });

  it('hands the tasks not started to `skipped` once stop() says so', async () => {
    let started = 0;
    const results = await schedule([1, 2, 3], { jobs: 1, exclusive: () => false, stop: () => started >= 1, skipped: (n) => -n, run: async (n) => (started += 1, n) });
    expect(results).toEqual([1, -2, -3]);
  });

  it('treats checks that use the harness, the whole run or time as exclusive', () => {
    const base = { area: 'login', level: 'MUST' as const, title: 't' };
    const plain: CheckDef = { ...base, id: 'T-01', run: async (ctx) => void (await ctx.call('getHealth')) };
    const clock: CheckDef = { ...base, id: 'T-02', run: async (ctx) => void (await ctx.harness!.advanceClock(5)) };
    const wide: CheckDef = { ...base, id: 'T-03', run: async (ctx) => void ctx.expect(ctx.exchanges().length > 0, 'none') };
    const said: CheckDef = { ...base, id: 'T-04', exclusive: true, run: async () => {} };
    const needs: CheckDef = { ...base, id: 'T-05', needs: ['harness'], run: async () => {} };
    expect([plain, clock, wide, said, needs].map((c) => isExclusive(c))).toEqual([false, true, true, true, true]);
  });

  it('with one shared address, runs alone only the checks that drive or judge a budget', () => {
    const base = { area: 'rate-limits', level: 'MUST' as const, title: 't' };
    const spends: CheckDef = { ...base, id: 'T-01', run: async (ctx) => void (await ctx.call('login', { body: {} })) };
    const provokes: CheckDef = { ...base, id: 'T-02', run: async (ctx) => void (await ctx.call('login', { body: {}, pace: false, expect: 429 })) };
    const fresh: CheckDef = { ...base, id: 'T-03', run: async (ctx) => void (await ctx.freshBudget('login')) };
    // Spending alongside others is safe: the pacer counts every call of the shared address.
    expect([spends, provokes, fresh].map((c) => isExclusive(c, { sharedAddress: true }))).toEqual([false, true, true]);
    // With addresses of their own, none of them disturbs another.
    expect([spends, provokes, fresh].map((c) => isExclusive(c))).toEqual([false, false, false]);
  });

  it('runs TOTP flows alone only when they move the harness clock', () => {
    const base = { area: 'totp', level: 'MUST' as const, title: 't' };
    const totp: CheckDef = { ...base, id: 'T-01', run: async (ctx) => void (await enableTotp(ctx)) };
    expect(isExclusive(totp)).toBe(true);
    expect(isExclusive(totp, { harness: true })).toBe(true);
    // Without a harness the flow sleeps for the next step in the check itself.
    expect(isExclusive(totp, { harness: false, sharedAddress: true })).toBe(false);
  });

  it('without a harness, does not run alone a check that would have moved its clock: it sleeps instead', () => {
    const base = { area: 'rate-limits', level: 'MUST' as const, title: 't' };
    const waits: CheckDef = {
      ...base,
      id: 'T-01',
      run: async (ctx) => {
        if (ctx.harness) await ctx.harness.advanceClock(60);
        else await ctx.sleep(60_000);
      },
    };
    const judges: CheckDef = { ...base, id: 'T-02', run: async (ctx) => void ctx.expect(ctx.exchanges().length > 0, 'none') };
    expect(isExclusive(waits, { harness: true, sharedAddress: true })).toBe(true);
    expect(isExclusive(waits, { harness: false, sharedAddress: true })).toBe(false);
    // Judging the whole run still needs every other check finished.
    expect(isExclusive(judges, { harness: false, sharedAddress: true })).toBe(true);
  });
});

describe('timing checks (LOGIN-03, RESET-11)', () => {
  const timed = { id: 'LOGIN-03', area: 'login', level: 'MUST' as const, title: 't', run: async () => {} };
  it('run alone, except with one address and no harness, where their samples go on the wire alone instead (gate.ts)', () => {
    expect(isExclusive(timed, { sharedAddress: false, harness: false })).toBe(true);
    expect(isExclusive(timed, { sharedAddress: false, harness: true })).toBe(true);
    expect(isExclusive(timed, { sharedAddress: true, harness: true })).toBe(true);
    // Alone there, its 17 logins span two login windows and every other budget idles meanwhile.
    expect(isExclusive(timed, { sharedAddress: true, harness: false })).toBe(false);
  });
});

describe('runOrder', () => {
  const base = { area: 'x', level: 'MUST' as const, title: 't', run: async () => {} };
  const perAddress = new Map([['login', 10], ['password-reset-request', 3]]);
  const shared = { sharedAddress: true, harness: false, jobs: 4, perAddress };

  it('keeps the suite\'s order with addresses of its own or one job', () => {
    const checks: CheckDef[] = [{ ...base, id: 'A', exclusive: true }, { ...base, id: 'B', cost: { login: 5 } }];
    expect(runOrder(checks, { ...shared, sharedAddress: false }).map((c) => c.id)).toEqual(['A', 'B']);
    expect(runOrder(checks, { ...shared, jobs: 1 }).map((c) => c.id)).toEqual(['A', 'B']);
  });

  it('with one address: sleepers first, then the budget spenders interleaved by the budget they spend most of, the exclusive ones last', () => {
    const checks: CheckDef[] = [
      { ...base, id: 'ALONE', exclusive: true },
      { ...base, id: 'L1', cost: { login: 6 } },
      { ...base, id: 'L2', cost: { login: 6 } },
      { ...base, id: 'L3', cost: { login: 6 } },
      { ...base, id: 'R1', cost: { 'password-reset-request': 2, login: 1 } },
      { ...base, id: 'R2', cost: { 'password-reset-request': 2 } },
      { ...base, id: 'FREE', cost: {} },
      { ...base, id: 'SLEEPS', waitsMs: 60_000, exclusive: ({ harness }) => harness },
    ];
    const ids = runOrder(checks, shared).map((c) => c.id);
    expect(ids[0]).toBe('SLEEPS');
    expect(ids[1]).toBe('FREE');
    expect(ids.at(-1)).toBe('ALONE');
    // Neither budget waits for the other's checks to be done: the reset checks are not last.
    const spenders = ids.slice(2, -1);
    expect(spenders).toHaveLength(5);
    expect(spenders.indexOf('R1')).toBeLessThan(spenders.indexOf('L3'));
    expect(spenders.indexOf('R2')).toBeLessThan(spenders.length - 1);
    // Each budget's own checks keep their order.
    expect(spenders.filter((id) => id.startsWith('L'))).toEqual(['L1', 'L2', 'L3']);
    // With a harness the sleeper moves the clock instead: it runs alone, last.
    expect(runOrder(checks, { ...shared, harness: true }).map((c) => c.id).slice(-2)).toEqual(['ALONE', 'SLEEPS']);
  });

  it('with addresses of its own and no harness: the exclusive checks first (each waits for no sleeper), the sleepers next, the judges of the whole run last', () => {
    const base = { area: 'x', level: 'MUST' as const, title: 't', run: async () => {} };
    const checks: CheckDef[] = [
      { ...base, id: 'A' },
      { ...base, id: 'TIMED', exclusive: true },
      { ...base, id: 'SLEEPER', waitsMs: 60_000 },
      { ...base, id: 'JUDGE', run: async (ctx) => void ctx.exchanges() },
      { ...base, id: 'B' },
    ];
    expect(runOrder(checks, { sharedAddress: false, harness: false, jobs: 4 }).map((c) => c.id)).toEqual(['TIMED', 'SLEEPER', 'A', 'B', 'JUDGE']);
    // One job, or a harness (its sleepers move the clock instead): the suite's order.
    expect(runOrder(checks, { sharedAddress: false, harness: false, jobs: 1 }).map((c) => c.id)).toEqual(['A', 'TIMED', 'SLEEPER', 'JUDGE', 'B']);
    expect(runOrder(checks, { sharedAddress: false, harness: true, jobs: 4 }).map((c) => c.id)).toEqual(['A', 'TIMED', 'SLEEPER', 'JUDGE', 'B']);
  });
});
