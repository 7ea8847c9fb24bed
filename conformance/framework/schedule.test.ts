import { describe, expect, it } from 'vitest';
import { isExclusive, schedule } from './schedule.ts';
import type { CheckContext, CheckDef } from './types.ts';

// Stands for the TOTP flow helpers (lib/totp-flow.ts): only the name matters to isExclusive.
const enableTotp = async (_ctx: CheckContext): Promise<void> => {};

// --jobs: at most N at a time, exclusive tasks alone, results in task order, stop honoured.

describe('schedule', () => {
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

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
});
