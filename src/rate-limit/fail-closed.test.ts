import { afterAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ShiftableClock } from '../clock.ts';
import { buildTestApp, registerUser, type TestApp } from '../../test/helpers.ts';
import { budgetKey } from './limiter.ts';
import { MemoryRateLimiter } from './memory-store.ts';

// Issue 17 defect 1 (SEC 27, budgets never forgotten): the memory store evicted the oldest
// OPEN windows when full — an account's login-failure lock (1 h) among them. 1,000 GET
// /health from distinct addresses (smallest cap) or ~78,000 reset requests for random
// addresses cleared the lock, and guessing resumed.

/** An address per request: 10.x.y.z from a counter (TRUST_PROXY=true, one proxy). */
let nextAddress = 0;
const address = (): string => {
  nextAddress += 1;
  return `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}`;
};
const from = (ip: string) => ({ 'x-forwarded-for': ip });

/** An app whose victim account is locked by `failureRateLimit.limit` failed logins from many addresses. */
async function lockedApp(env: Record<string, string>): Promise<{ t: TestApp; rightPassword: () => ReturnType<TestApp['request']> }> {
  const t = await buildTestApp({ env: { TRUST_PROXY: 'true', ...env } });
  const victim = await registerUser({ request: (p, o) => t.request(p, { ...o, headers: from(address()) }) });
  const login = t.deps.contract.operation('login');
  const failures = login.failureRateLimit!;
  const perIp = login.rateLimit.limit;
  // The failure budget spent from many addresses, at most the per-IP limit each.
  let ip = address();
  for (let i = 0; i < failures.limit; i++) {
    if (i % perIp === 0) ip = address();
    const res = await t.request('/auth/login', { json: { email: victim.email, password: `wrong-${i}-password` }, headers: from(ip) });
    expect(res.status).toBe(401);
  }
  const rightPassword = () => t.request('/auth/login', { json: { email: victim.email, password: victim.password }, headers: from(address()) });
  expect((await rightPassword()).status).toBe(429);
  return { t, rightPassword };
}

describe('an account locked by failed logins stays locked under key pressure (smallest caps: 1,000)', () => {
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
  });

  it('1,000 GET /health from distinct addresses do not clear the lock', async () => {
    const locked = await lockedApp({ RATE_LIMIT_MEMORY_MAX_KEYS: '1000' });
    t = locked.t;
    for (let i = 0; i < 1100; i++) expect((await t.request('/health', { headers: from(address()) })).status).toBe(200);
    const res = await locked.rightPassword();
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate_limited');
    expect((t.deps.limiter as MemoryRateLimiter).overflowed).toBeGreaterThan(0);
    await t.close();
    t = undefined;
  });

  it('reset requests for random addresses (the handler keys them per account) do not clear it either', async () => {
    const locked = await lockedApp({ RATE_LIMIT_MEMORY_MAX_KEYS: '1000', RATE_LIMIT_MEMORY_MAX_ACCOUNT_KEYS: '1000' });
    t = locked.t;
    const perIp = t.deps.contract.operation('requestPasswordReset').rateLimit.limit;
    let ip = address();
    for (let i = 0; i < 1200; i++) {
      if (i % perIp === 0) ip = address();
      const email = `flood-${randomBytes(6).toString('hex')}@example.com`;
      expect((await t.request('/auth/password-reset/request', { json: { email }, headers: from(ip) })).status).toBe(200);
    }
    const store = t.deps.limiter as MemoryRateLimiter;
    // The recipient budget is spent in the background after the 200.
    await vi.waitFor(() => expect(store.overflowed).toBeGreaterThan(0));
    expect((await locked.rightPassword()).status).toBe(429);
    expect(store.evicted).toBe(0);
  });
});

describe('MemoryRateLimiter under a flood of tens of thousands of distinct keys', () => {
  it('never forgets an open budget: the account lock holds; new keys share an overflow budget per policy and kind', async () => {
    const clock = new ShiftableClock(() => 1_700_000_000_000);
    const store = new MemoryRateLimiter(clock, { maxKeys: 1000, maxAccountKeys: 1000 });
    const account = budgetKey('account', 'victim@example.com');
    for (let i = 0; i < 100; i++) await store.consume('login-failures', account, 100, 3_600_000);
    expect((await store.consume('login-failures', account, 100, 3_600_000)).allowed).toBe(false);
    // 50,000 distinct keys of both kinds, within the hour (a minute apart every 10,000).
    for (let i = 0; i < 50_000; i++) {
      if (i % 10_000 === 0) clock.advance(60_000);
      await store.consume('health', budgetKey('ip', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 600, 60_000);
      await store.consume('password-reset-recipient', budgetKey('account', `flood-${i}@example.com`), 3, 3_600_000);
    }
    expect((await store.consume('login-failures', account, 100, 3_600_000)).allowed).toBe(false);
    expect(store.evicted).toBe(0);
    expect(store.size).toBeLessThanOrEqual(2000 + 10); // two bounds, plus a few overflow budgets
    expect(store.overflowed).toBeGreaterThan(40_000);
    // The overflowing account keys shared one budget of their policy: it failed closed.
    expect((await store.consume('password-reset-recipient', budgetKey('account', 'newcomer@example.com'), 3, 3_600_000)).allowed).toBe(false);
  });

  it('an IP flood cannot fill the room account budgets need', async () => {
    const clock = new ShiftableClock(() => 1_700_000_000_000);
    const store = new MemoryRateLimiter(clock, { maxKeys: 1000, maxAccountKeys: 1000 });
    for (let i = 0; i < 5000; i++) await store.consume('health', budgetKey('ip', `10.0.${i >> 8}.${i & 255}`), 600, 60_000);
    // A new account gets a budget of its own (not the overflow shared with the flood).
    const key = budgetKey('account', 'new@example.com');
    expect((await store.consume('login-failures', key, 100, 3_600_000)).remaining).toBe(99);
    expect((await store.consume('login-failures', key, 100, 3_600_000)).remaining).toBe(98);
  });

  it('logs overflows at most once a minute per space, with counts and never a key', async () => {
    const clock = new ShiftableClock(() => 1_700_000_000_000);
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const store = new MemoryRateLimiter(clock, { maxKeys: 1000, maxAccountKeys: 1000, log: { warn: (msg, fields) => lines.push([msg, fields]) } });
    for (let i = 0; i < 1500; i++) await store.consume('health', budgetKey('ip', `192.0.2.${i}-secret`), 600, 3_600_000);
    expect(lines).toHaveLength(1);
    clock.advance(60_000);
    await store.consume('health', budgetKey('ip', 'one-more-secret'), 600, 3_600_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]![1]).toMatchObject({ space: 'client', held: 1000, max: 1000, overflowedSinceLastReport: 500, overflowedTotal: 501 });
    expect(JSON.stringify(lines)).not.toMatch(/secret|192\.0\.2/);
  });

  it('closed windows make room again; the overflow is only used while every held window is open', async () => {
    const clock = new ShiftableClock(() => 1_000_000);
    const store = new MemoryRateLimiter(clock, { maxKeys: 1000, maxAccountKeys: 1000 });
    for (let i = 0; i < 1000; i++) await store.consume('p', budgetKey('ip', `a${i}`), 5, 1000);
    expect((await store.consume('p', budgetKey('ip', 'late'), 5, 1000)).remaining).toBe(4); // the overflow's first unit
    expect(store.overflowed).toBe(1);
    clock.advance(2000); // every window above is closed
    for (let i = 0; i < 500; i++) await store.consume('p', budgetKey('ip', `b${i}`), 5, 60_000);
    expect(store.size).toBe(501); // 500, and the closed overflow budget (dropped by the next periodic sweep)
    expect(store.overflowed).toBe(1);
    await store.consume('p', budgetKey('ip', 'b1'), 5, 60_000);
    expect((await store.peek('p', budgetKey('ip', 'b1'), 5, 60_000)).remaining).toBe(3);
  });
});
