import { describe, expect, it } from 'vitest';
import { cleanUp } from './cleanup.ts';
import type { ContractClient } from './client.ts';
import { fakeExchange } from './test-runner-deps.ts';
import { Tracker } from './tracker.ts';
import { join } from 'node:path';
import { loadContract } from './contract.ts';
import { RELEASES_DIR } from './contract-version.ts';
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

  // A deployment of another version than the one checked: TOTP must still be turned off.
  // 2.0.0 server: a session older than x-recent-authentication needs current_password (403
  // reauthentication_required without it); 1.0.0 server: current_password is an unknown
  // property (422 validation_failed).
  const totpCase = async (chosen: string, server: '1.0.0' | '2.0.0') => {
    const tracker = new Tracker();
    const bodies: Array<Record<string, unknown>> = [];
    let n = 100;
    const client = {
      async call(operationId: string, opts: CallOptions = {}) {
        n += 1;
        let ex;
        if (operationId === 'disableTotp') {
          const body = opts.body as Record<string, unknown>;
          bodies.push(body);
          ex =
            server === '1.0.0' && 'current_password' in body
              ? fakeExchange(operationId, 422, { code: 'validation_failed' }, opts, n)
              : server === '2.0.0' && !('current_password' in body)
                ? fakeExchange(operationId, 403, { code: 'reauthentication_required' }, opts, n)
                : fakeExchange(operationId, 200, {}, opts, n);
        } else ex = fakeExchange(operationId, 200, {}, opts, n);
        tracker.observe(ex);
        return ex;
      },
    } as unknown as ContractClient;
    tracker.addAccount({ id: 'u1', email: 'a@example.com', password: 'pw-123456789012345', fullName: 'A' });
    tracker.observe(fakeExchange('login', 200, { access_token: 'old-session', user: { email: 'a@example.com' } }, { body: { email: 'a@example.com' } }, 1));
    tracker.observe(fakeExchange('verifyTotp', 200, { backup_codes: ['aaaa1111', 'bbbb2222'] }, { token: 'old-session' }, 2));
    const left = await cleanUp({ client, tracker, runId: 'r1', contract: loadContract(join(RELEASES_DIR, `${chosen}.json`)) });
    return { left, bodies };
  };

  it.each([
    ['2.0.0', '1.0.0'],
    ['1.0.0', '2.0.0'],
    ['2.0.0', '2.0.0'],
    ['1.0.0', '1.0.0'],
  ] as const)('turns TOTP off when checking %s against a %s deployment', async (chosen, server) => {
    const { left, bodies } = await totpCase(chosen, server);
    expect(left.filter((l) => l.includes('TOTP'))).toEqual([]);
    // Built from the chosen contract first: current_password only where it documents one.
    expect('current_password' in bodies[0]!).toBe(chosen === '2.0.0');
    expect(bodies.length).toBe(chosen === server ? 1 : 2);
  });
});
