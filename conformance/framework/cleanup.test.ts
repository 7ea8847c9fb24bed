import { describe, expect, it } from 'vitest';
import { cleanUp } from './cleanup.ts';
import type { ContractClient } from './client.ts';
import { fakeExchange } from './test-runner-deps.ts';
import { Tracker } from './tracker.ts';
import type { CallOptions } from './types.ts';

// The cleanup after a run: it undoes through the public API, and never waits out a window for
// a session whose own budget a check spent (it used to hold a run up for a minute).

describe('cleanUp', () => {
  it('revokes a key with another session when the first one\'s budget is spent, without pacing, and logs sessions out unpaced', async () => {
    const tracker = new Tracker();
    const calls: Array<{ operationId: string; token?: string; pace?: boolean }> = [];
    let n = 0;
    const spent = new Set(['token-spent']);
    const client = {
      async call(operationId: string, opts: CallOptions = {}) {
        calls.push({ operationId, ...(opts.token ? { token: opts.token } : {}), ...(opts.pace !== undefined ? { pace: opts.pace } : {}) });
        n += 1;
        const limited = opts.token && spent.has(opts.token);
        const ex = limited
          ? fakeExchange(operationId, 429, { code: 'rate_limited' }, opts, n)
          : fakeExchange(operationId, operationId === 'revokeApiKey' ? 204 : 200, operationId === 'login' ? { access_token: `token-${n}`, user: { email: 'a@example.com' } } : {}, opts, n);
        tracker.observe(ex);
        return ex;
      },
    } as unknown as ContractClient;
    tracker.addAccount({ id: 'u1', email: 'a@example.com', password: 'pw-123456789012345', fullName: 'A' });
    // Two sessions of the account, the first one spent; an API key made with it.
    for (const token of ['token-spent', 'token-ok']) {
      tracker.observe(fakeExchange('login', 200, { access_token: token, user: { email: 'a@example.com' } }, { body: { email: 'a@example.com' } }, (n += 1)));
    }
    tracker.observe(fakeExchange('createApiKey', 201, { id: 'k1', key: 'qzk_x' }, { token: 'token-spent' }, (n += 1)));

    const left = await cleanUp({ client, tracker, runId: 'r1' });
    const revokes = calls.filter((c) => c.operationId === 'revokeApiKey');
    expect(revokes.map((c) => c.token)).toEqual(['token-spent', 'token-ok']);
    expect(revokes.every((c) => c.pace === false)).toBe(true);
    expect(calls.filter((c) => c.operationId === 'logout').every((c) => c.pace === false)).toBe(true);
    expect(left.some((l) => l.includes('API key'))).toBe(false);
    expect(left).toContain('1 session(s) not logged out: their rate-limit budget was spent (they expire at their exp)');
  });
});
