import { describe, expect, it } from 'vitest';
import { createContract } from './contract.ts';
import { Pacer, parseRateLimit } from './pacer.ts';

// A two-operation contract: "login" 2 per 60 s per IP (+ failures per account), "me" per token.
const contract = createContract({
  openapi: '3.1.0',
  paths: {
    '/login': { post: { operationId: 'login', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'login', limit: 2, window_seconds: 60, key: 'ip' }, 'x-rate-limit-failures': { policy: 'login-failures', limit: 3, window_seconds: 3600, key: 'account' } } },
    '/me': { get: { operationId: 'me', responses: { '200': { description: 'ok' } }, 'x-rate-limit': { policy: 'authenticated', limit: 5, window_seconds: 60, key: 'token' } } },
    // Declares only the token budget, but a wrong current password spends login's failure budget.
    '/me/password': {
      post: {
        operationId: 'change',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { current_password: { type: 'string' }, new_password: { type: 'string' } } } } } },
        responses: { '200': { description: 'ok' } },
        'x-rate-limit': { policy: 'authenticated', limit: 5, window_seconds: 60, key: 'token' },
      },
    },
  },
});

function fakeTime() {
  const clock = { now: 1_000_000, slept: [] as number[] };
  return {
    clock,
    options: {
      now: () => clock.now,
      sleep: async (ms: number) => {
        clock.slept.push(ms);
        clock.now += ms;
      },
    },
  };
}

const ok = { status: 200, headers: {} };

describe('Pacer', () => {
  it('lets the limit through, then waits until the window has closed on the server', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    for (let i = 0; i < 2; i += 1) pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, true), ok);
    expect(clock.slept).toEqual([]);
    const started = clock.now;
    await pacer.acquire(login, { ip: 'a' }, true);
    // The window opened at the first answer: 60 s plus the safety margin later.
    expect(clock.now - started).toBeGreaterThanOrEqual(60_000);
    expect(clock.now - started).toBeLessThan(62_000);
  });

  it('keeps budgets per key and never waits for an unpaced call', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    for (let i = 0; i < 3; i += 1) pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, false), ok);
    pacer.settle(login, { ip: 'b' }, await pacer.acquire(login, { ip: 'b' }, true), ok);
    expect(clock.slept).toEqual([]);
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(-1);
    expect(pacer.remaining(login.rateLimit!, { ip: 'b' })).toBe(1);
  });

  it('does not count what the server does not count (429, 413, 415, malformed JSON)', async () => {
    const { options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    for (const answer of [{ status: 429, headers: {} }, { status: 413, headers: {} }, { status: 400, code: 'malformed_json', headers: {} }]) {
      pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, false), answer);
    }
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(0); // the 429 taught it the budget is spent
    const fresh = new Pacer(contract, options);
    for (const answer of [{ status: 413, headers: {} }, { status: 415, headers: {} }]) {
      fresh.settle(login, { ip: 'a' }, await fresh.acquire(login, { ip: 'a' }, false), answer);
    }
    expect(fresh.remaining(login.rateLimit!, { ip: 'a' })).toBe(2);
  });

  it('counts failed logins per account and paces on them', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    for (let i = 0; i < 3; i += 1) {
      const keys = { ip: `ip${i}`, email: 'x@example.com' };
      pacer.settle(login, keys, await pacer.acquire(login, keys, true), { status: 401, headers: {} });
    }
    // An hour is not worth waiting: the call fails at once, saying why.
    await expect(pacer.acquire(login, { ip: 'other', email: 'x@example.com' }, true)).rejects.toThrow(/login-failures.*spent for another 36\d\d s/u);
    const patient = new Pacer(contract, { ...options, maxWaitMs: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i += 1) {
      const keys = { ip: `ip${i}`, email: 'x@example.com' };
      patient.settle(login, keys, await patient.acquire(login, keys, true), { status: 401, headers: {} });
    }
    const started = clock.now;
    await patient.acquire(login, { ip: 'other', email: 'x@example.com' }, true);
    expect(clock.now - started).toBeGreaterThanOrEqual(3_600_000);
  });

  it('a budget the harness resets keeps the calls still on their way counted (a concurrent check sent them before the reset)', async () => {
    const { options } = fakeTime();
    const resets: string[] = [];
    const pacer = new Pacer(contract, { ...options, reset: async (_policy, id) => (resets.push(id), true) });
    const login = contract.operation('login'); // 2 a minute per address
    const first = await pacer.acquire(login, { ip: 'a' }, true);
    const second = await pacer.acquire(login, { ip: 'a' }, true);
    // The first is answered; the second is still on its way when another check needs the budget.
    pacer.settle(login, { ip: 'a' }, first, ok);
    await pacer.acquire(login, { ip: 'a' }, true);
    expect(resets).toEqual(['login|ip:a']);
    // After the reset: the one on its way (the server may count it after the reset) and the new one.
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(0);
    pacer.settle(login, { ip: 'a' }, second, ok);
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(0);
  });

  it('a call still on its way when its window runs out counts in the next one (the server may have rolled over before it arrived)', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login'); // 2 a minute per address
    pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, true), ok);
    clock.now += 61_000;
    // Sent just before the suite's window closes, answered after: on the server it opened the next window.
    const late = await pacer.acquire(login, { ip: 'a' }, true);
    clock.now += 500;
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(1);
    const started = clock.now;
    await pacer.acquire(login, { ip: 'a' }, true);
    // A third call in the server's new window must wait: two are in it already.
    const third = pacer.acquire(login, { ip: 'a' }, true);
    pacer.settle(login, { ip: 'a' }, late, { status: 200, headers: { ratelimit: '"login";r=1;t=60' } });
    await third;
    expect(clock.now - started).toBeGreaterThanOrEqual(60_000);
  });

  it('a reset while the whole budget is on its way polls for the answers instead of resetting again and again', async () => {
    const { clock, options } = fakeTime();
    let resets = 0;
    // Each poll yields to the event loop, as a real timer does.
    const sleep = async (ms: number) => {
      await options.sleep(ms);
      await new Promise((r) => setImmediate(r));
    };
    const pacer = new Pacer(contract, { ...options, sleep, reset: async () => ((resets += 1), true) });
    const login = contract.operation('login');
    const sent = [await pacer.acquire(login, { ip: 'a' }, true), await pacer.acquire(login, { ip: 'a' }, true)];
    const third = pacer.acquire(login, { ip: 'a' }, true);
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
    // One reset, then short polls while both calls are on their way.
    expect(resets).toBe(1);
    expect(clock.slept.length).toBeGreaterThan(1);
    expect(clock.slept.every((ms) => ms <= 200)).toBe(true);
    pacer.settle(login, { ip: 'a' }, sent[0]!, ok);
    await third;
    // Answered: the window is dated, the harness resets it again, the other call still counted.
    expect(resets).toBe(2);
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(0);
  });

  it('learns no window from a TOTP lockout 429 (not a rate-limit budget), and keeps it counted: it passed the limiter', async () => {
    const { options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, true), { status: 429, code: 'totp_locked', headers: { 'retry-after': '900' } });
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(1);
    // A rate-limit 429 is the limiter refusing: not counted, and its window is learnt.
    const other = new Pacer(contract, options);
    other.settle(login, { ip: 'a' }, await other.acquire(login, { ip: 'a' }, true), { status: 429, code: 'rate_limited', headers: { 'retry-after': '30' } });
    expect(other.remaining(login.rateLimit!, { ip: 'a' })).toBe(0);
  });

  it('refuses to wait longer than the documented window (a 429 with a huge Retry-After)', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, true), { status: 429, headers: { 'retry-after': '3600' } });
    const started = clock.now;
    await expect(pacer.acquire(login, { ip: 'a' }, true)).rejects.toThrow(/"login" budget/u);
    expect(clock.now).toBe(started);
  });

  it('trusts the server where it is more pessimistic (RateLimit header), and learns from clock moves', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const login = contract.operation('login');
    pacer.settle(login, { ip: 'a' }, await pacer.acquire(login, { ip: 'a' }, true), { status: 200, headers: { ratelimit: '"login";r=0;t=30' } });
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(0);
    pacer.clockAdvanced(61);
    expect(pacer.remaining(login.rateLimit!, { ip: 'a' })).toBe(2);
    const started = clock.now;
    await pacer.acquire(login, { ip: 'a' }, true);
    expect(clock.now).toBe(started);
  });

  it('keys token budgets by the credential', async () => {
    const { options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const me = contract.operation('me');
    pacer.settle(me, { ip: 'a', token: 't1' }, await pacer.acquire(me, { ip: 'a', token: 't1' }, true), ok);
    expect(pacer.remaining(me.rateLimit!, { ip: 'a', token: 't1' })).toBe(4);
    expect(pacer.remaining(me.rateLimit!, { ip: 'a', token: 't2' })).toBe(5);
    expect(pacer.remaining(me.rateLimit!, { ip: 'a' })).toBe(5);
  });

  it('names a token budget it waits for by a fingerprint, never by the token', async () => {
    const { options } = fakeTime();
    const lines: string[] = [];
    const pacer = new Pacer(contract, { ...options, log: (line: string) => void lines.push(line) });
    const me = contract.operation('me');
    const token = 'eyJhbGciOiJIUzI1NiJ9.secret-session.signature';
    for (let i = 0; i < 6; i += 1) pacer.settle(me, { ip: 'a', token }, await pacer.acquire(me, { ip: 'a', token }, true), ok);
    expect(lines.some((l) => /waiting .* "authenticated" budget \(token sha256:[0-9a-f]{12}\)/u.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain('secret-session');
  });
});

describe('Pacer and budgets an operation does not declare', () => {
  const user = { ip: 'a', token: 't1', email: 'u@example.com' };
  const failuresSpent = { status: 429, code: 'rate_limited', headers: { 'retry-after': '3000', 'ratelimit-policy': '"login-failures";q=3;w=3600', ratelimit: '"login-failures";r=0;t=3000' } };

  it('attributes a 429 to the policy it names (login-failures per account), not to the operation\'s own token budget', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, options);
    const change = contract.operation('change');
    const me = contract.operation('me');
    pacer.settle(change, user, await pacer.acquire(change, user, true), failuresSpent);
    // The session's own budget is untouched (the 429 did not count): other calls go on at once.
    expect(pacer.remaining(me.rateLimit!, user)).toBe(5);
    const started = clock.now;
    for (let i = 0; i < 5; i += 1) await pacer.acquire(me, user, true);
    expect(clock.now).toBe(started);
    // The account's failure budget is the one spent: the same account's login, and the next
    // changePassword, fail at once instead of stalling the run for an hour.
    const failures = contract.operation('login').rateLimitFailures!;
    expect(pacer.remaining(failures, user)).toBe(0);
    await expect(pacer.acquire(change, user, true)).rejects.toThrow(/"login-failures" budget/u);
    await expect(pacer.acquire(contract.operation('login'), { ip: 'b', email: user.email }, true)).rejects.toThrow(/"login-failures" budget/u);
    // Another account is not concerned.
    await pacer.acquire(change, { ip: 'a', token: 't2', email: 'other@example.com' }, true);
    expect(clock.now).toBe(started);
  });

  it('counts wrong current passwords against the account failure budget and plans the next reauthenticating call', async () => {
    const { clock, options } = fakeTime();
    const pacer = new Pacer(contract, { ...options, maxWaitMs: Number.POSITIVE_INFINITY });
    const change = contract.operation('change');
    const wrong = { status: 403, code: 'invalid_current_password', headers: {} };
    for (let i = 0; i < 3; i += 1) pacer.settle(change, user, await pacer.acquire(change, user, true), wrong);
    expect(pacer.remaining(contract.operation('login').rateLimitFailures!, user)).toBe(0);
    // The 4th would be the server's 429: the pacer waits for the failure window instead.
    const started = clock.now;
    await pacer.acquire(change, user, true);
    expect(clock.now - started).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('parseRateLimit', () => {
  it('reads the named item of the IETF draft header', () => {
    expect(parseRateLimit('"login";r=3;t=42', 'login')).toEqual({ remaining: 3, resetSeconds: 42 });
    expect(parseRateLimit('"a";r=1;t=2, "login";r=0;t=9', 'login')).toEqual({ remaining: 0, resetSeconds: 9 });
    expect(parseRateLimit('garbage', 'login')).toBeUndefined();
    expect(parseRateLimit(undefined, 'login')).toBeUndefined();
  });
});
