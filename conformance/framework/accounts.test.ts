import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccountPool } from './accounts.ts';
import { fakeExchange } from './test-runner-deps.ts';
import { Tracker } from './tracker.ts';
import type { CallOptions, Client } from './types.ts';

// The account pool against a fake deployment: how many registrations and logins (each a
// password hash, and a share of the per-address budgets) the checks' sessions cost.

function fakeDeployment(opts: { retireTotp?: boolean } = {}) {
  const tracker = new Tracker();
  const calls: string[] = [];
  let n = 0;
  const client: Client = {
    ip: 'self',
    async call(operationId: string, opts: CallOptions = {}) {
      calls.push(operationId);
      n += 1;
      const sent = opts.body as Record<string, string>;
      const body =
        operationId === 'register'
          ? { id: `id-${n}`, email: sent['email'] }
          : operationId === 'login'
            ? { access_token: `token-${n}`, user: { email: sent['email'] } }
            : {};
      const ex = fakeExchange(operationId, operationId === 'register' ? 201 : 200, body, opts, n);
      tracker.observe(ex);
      return ex;
    },
    request: () => Promise.reject(new Error('not used')),
  };
  /** What the checks deferred; `end()` runs them as the runner does after a check. */
  const deferred: Array<() => Promise<void>> = [];
  const ctx = {
    client,
    expectStatus: () => {},
    require: (() => {}) as never,
    defer: (_: string, action: () => Promise<void>) => void deferred.push(action),
  };
  const end = async () => {
    for (const action of deferred.splice(0).reverse()) await action();
  };
  const pool = new AccountPool('run1', tracker, opts);
  return { pool, ctx, calls, tracker, client, end };
}

describe('AccountPool', () => {
  it('gives the checks that need a session apart from the shared one a single scratch session, not a login each', async () => {
    const { pool, ctx, calls } = fakeDeployment();
    const sessions = await Promise.all(Array.from({ length: 8 }, () => pool.factoryFor(ctx).scratch()));
    const shared = await pool.factoryFor(ctx).shared();
    expect(new Set(sessions.map((s) => s.token)).size).toBe(1);
    expect(sessions[0]!.token).not.toBe(shared.token);
    expect(sessions[0]!.account).toBe(shared.account);
    // One registration (the shared account), two logins (shared + scratch) for 8 checks.
    expect(calls).toEqual(['register', 'login', 'login']);
  });

  it('logs the scratch session in again once the suite saw it end, once for all who ask', async () => {
    const { pool, ctx, calls, client } = fakeDeployment();
    const first = await pool.factoryFor(ctx).scratch();
    // A deployment wrongly accepted a malformed logout: the tracker saw the session end.
    await client.call('logout', { token: first.token });
    const again = await Promise.all([pool.factoryFor(ctx).scratch(), pool.factoryFor(ctx).scratch()]);
    expect(again[0]!.token).not.toBe(first.token);
    expect(again[1]!.token).toBe(again[0]!.token);
    expect(calls.filter((c) => c === 'login')).toHaveLength(3);
    // The shared session was not touched by any of it.
    expect(calls.filter((c) => c === 'register')).toHaveLength(1);
  });

  it('gives the checks that need a second user one more shared account, registered once', async () => {
    const { pool, ctx, calls } = fakeDeployment();
    const owners = await Promise.all(Array.from({ length: 3 }, () => pool.factoryFor(ctx).other()));
    const intruder = await pool.factoryFor(ctx).shared();
    expect(new Set(owners.map((o) => o.account.email)).size).toBe(1);
    expect(owners[0]!.account.email).not.toBe(intruder.account.email);
    // Three checks, two accounts: two registrations and two logins instead of four and four.
    expect(calls).toEqual(['register', 'login', 'register', 'login']);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('replaces a reused session before it outgrows x-recent-authentication (createApiKey would want the password again)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { pool, ctx, calls } = fakeDeployment();
    const withContract = { ...ctx, contract: { document: { 'x-recent-authentication': { max_age_seconds: 600 } } } };
    const first = await pool.factoryFor(withContract).shared();
    vi.setSystemTime(Date.now() + 500_000);
    expect((await pool.factoryFor(withContract).shared()).token).toBe(first.token);
    vi.setSystemTime(Date.now() + 60_000); // 560 s: within a minute of the 600 s
    const renewed = await pool.factoryFor(withContract).shared();
    expect(renewed.token).not.toBe(first.token);
    expect(renewed.account).toBe(first.account);
    expect(calls).toEqual(['register', 'login', 'login']);
  });
});

describe('AccountPool: accounts a check owns (own / giveBack)', () => {
  it('hands an account a passing check gave back, with its live session, to the next check instead of registering', async () => {
    const { pool, ctx, calls, end } = fakeDeployment();
    const first = await pool.factoryFor(ctx, () => true).own({ giveBack: true });
    await end();
    const second = await pool.factoryFor(ctx, () => true).own({ giveBack: true });
    await end();
    expect(second.account).toBe(first.account);
    expect(second.token).toBe(first.token);
    expect(calls).toEqual(['register', 'login']);
  });

  it('keeps an account back when its check had a finding, or when TOTP is on or pending on it', async () => {
    const { pool, ctx, calls, end, client } = fakeDeployment();
    await pool.factoryFor(ctx, () => false).own({ giveBack: true }); // a finding
    await end();
    const withTotp = await pool.factoryFor(ctx, () => true).own({ giveBack: true });
    await client.call('provisionTotp', { token: withTotp.token }); // a secret pending
    await end();
    await pool.factoryFor(ctx, () => true).own();
    expect(calls.filter((c) => c === 'register')).toHaveLength(3);
  });

  it('sends reset mails only to an account whose per-recipient budget has room, and logs in again after a reset', async () => {
    const { pool, ctx, calls, end } = fakeDeployment();
    const contract = { document: { paths: { '/auth/password-reset/request': { post: { 'x-rate-limit-recipient': { limit: 3 } } } } } };
    const factory = () => pool.factoryFor({ ...ctx, contract }, () => true);
    const mailed = await factory().own({ mails: 2, giveBack: true });
    await end();
    // 2 + 2 > 3: a fresh account; 2 + 1 fits: the mailed one, logged in again (a reset revokes sessions).
    const fresh = await factory().ownAccount({ mails: 2 });
    const again = await factory().own({ mails: 1 });
    expect(fresh.email).not.toBe(mailed.account.email);
    expect(again.account).toBe(mailed.account);
    expect(again.token).not.toBe(mailed.token);
    expect(calls).toEqual(['register', 'login', 'register', 'login']);
  });

  it('keeps counting the reset mails an account was sent through checks that sent none', async () => {
    const { pool, ctx, end } = fakeDeployment();
    const factory = () => pool.factoryFor(ctx, () => true);
    const mailed = await factory().ownAccount({ mails: 2, giveBack: true });
    await end();
    const between = factory();
    const again = await between.ownAccount();
    expect(again).toBe(mailed);
    between.giveBack(again); // given back by a check that sent no mail
    await end();
    // 2 + 2 > 3 (the default per-recipient budget): not that account.
    expect(await factory().ownAccount({ mails: 2 })).not.toBe(mailed);
  });

  it('gives back an account a check registered itself, found by its address', async () => {
    const { pool, ctx, calls, end, client } = fakeDeployment();
    await client.call('register', { body: { email: 'QZ-Conf-run1-x@example.com', password: 'pw-1234567890123', full_name: 'A' } });
    pool.factoryFor(ctx, () => true).giveBack('QZ-Conf-run1-x@example.com');
    await end();
    const taken = await pool.factoryFor(ctx, () => true).ownAccount();
    expect(taken.email).toBe('QZ-Conf-run1-x@example.com');
    expect(calls).toEqual(['register']);
  });

  it('retires an account that used a TOTP step when registering is cheap (a client-ip header or a harness): its next owner would wait for a fresh step', async () => {
    for (const retireTotp of [true, false]) {
      const { pool, ctx, calls, end, client } = fakeDeployment({ retireTotp });
      const used = await pool.factoryFor(ctx, () => true).own({ giveBack: true });
      await client.call('provisionTotp', { token: used.token });
      await client.call('verifyTotp', { token: used.token, body: { code: '123456' } });
      await client.call('disableTotp', { token: used.token, body: { code: 'backup01' } }); // TOTP off again
      await end();
      const next = await pool.factoryFor(ctx, () => true).own();
      expect(next.account === used.account).toBe(!retireTotp);
      expect(calls.filter((c) => c === 'register')).toHaveLength(retireTotp ? 2 : 1);
    }
  });
});
