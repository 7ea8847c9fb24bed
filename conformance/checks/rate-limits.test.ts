import { describe, expect, it } from 'vitest';
import type { CheckContext, Client, ContractOperation, Exchange, RateLimitPolicy } from '../framework/types.ts';
import { drive } from './rate-limits.ts';

// RATE-01 runs first with one address and no harness, and the suite sends nothing budgeted
// before it. But the suite only knows its own calls: a CI step that polled /health until the
// deployment was up has spent part of the health window already. `drive` must see that in the
// first answer (RateLimit r) and drive the next window from its first call, not report "call
// 117 of 120 was already refused" against a deployment that keeps the limit exactly.

const policy: RateLimitPolicy = { policy: 'health', limit: 120, window_seconds: 60, key: 'ip' };
const op = { operationId: 'getHealth' } as ContractOperation;

/** A deployment keeping 120 a window, whose current window already holds `prior` calls. */
function deployment(prior: number) {
  let used = prior;
  let id = 0;
  const client = {
    ip: 'self',
    call: async () => {
      id += 1;
      const status = used >= policy.limit ? 429 : 200;
      if (status === 200) used += 1;
      return { id, status, headers: { ratelimit: `"health";r=${policy.limit - used};t=40` } } as unknown as Exchange;
    },
  } as unknown as Client;
  return { client, nextWindow: () => (used = 0) };
}

function context(nextWindow: () => void) {
  const notes: string[] = [];
  const failures: string[] = [];
  let fresh = 0;
  const ctx = {
    note: (m: string) => notes.push(m),
    fail: (m: string) => {
      failures.push(m);
      throw new Error(m);
    },
    freshBudget: async () => {
      fresh += 1;
      nextWindow();
    },
  } as unknown as CheckContext;
  return { ctx, notes, failures, fresh: () => fresh };
}

describe('drive (RATE-01) after calls the suite did not make', () => {
  it('a fresh window: limit calls, then the 429; no wait', async () => {
    const d = deployment(0);
    const c = context(d.nextWindow);
    const result = await drive(c.ctx, policy, op, d.client);
    expect(result.answers).toHaveLength(120);
    expect(result.limited.status).toBe(429);
    expect(c.fresh()).toBe(0);
    expect(c.notes).toEqual([]);
  });

  it('a window three health polls into it: waits for the next one, then drives it from its first call', async () => {
    const d = deployment(3);
    const c = context(d.nextWindow);
    const result = await drive(c.ctx, policy, op, d.client);
    expect(c.failures).toEqual([]);
    expect(c.fresh()).toBe(1);
    expect(result.answers).toHaveLength(120);
    expect(result.answers.every((a) => a.status === 200)).toBe(true);
    expect(result.limited.status).toBe(429);
    expect(c.notes[0]).toMatch(/"health": its window already held calls the suite did not make \(first answer 200, RateLimit "\\"health\\";r=116;t=40"\)/u);
  });

  it('a window spent by others (429 at once): the same, once; a deployment refusing the first call of a fresh window still fails', async () => {
    const d = deployment(120);
    const c = context(d.nextWindow);
    expect((await drive(c.ctx, policy, op, d.client)).answers).toHaveLength(120);
    expect(c.fresh()).toBe(1);
    // Never reopening: the second window's first call is a 429 too → the check fails.
    const stuck = deployment(120);
    const s = context(() => {});
    await expect(drive(s.ctx, policy, op, stuck.client)).rejects.toThrow(/call 1 of 120 allowed per 60 s was already refused with 429/u);
    expect(s.fresh()).toBe(1);
  });
});
