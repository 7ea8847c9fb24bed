import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, registerUser, uniqueEmail, STRONG_PASSWORD, type TestApp } from '../../test/helpers.ts';
import { CapacityExceeded, ConcurrencyCap, hashingCap } from './index.ts';
import { hashingIdle, saturateHashing } from './test-support.ts';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { open, task: async () => { await opened; return 'done'; } };
}

describe('ConcurrencyCap', () => {
  it('runs at most K at once, queues up to Q in FIFO order, refuses the next one', async () => {
    const cap = new ConcurrencyCap(2, 2);
    const gates = [gate(), gate(), gate(), gate()];
    const order: number[] = [];
    const runs = gates.map((g, i) => cap.run(async () => { order.push(i); return g.task(); }));
    await Promise.resolve();
    expect(cap.running).toBe(2);
    expect(cap.queued).toBe(2);
    expect(order).toEqual([0, 1]);
    await expect(cap.run(async () => 'x')).rejects.toBeInstanceOf(CapacityExceeded);
    gates[1]!.open();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]); // the first waiter took the freed slot
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done', 'done']);
    expect(cap.running).toBe(0);
    expect(cap.queued).toBe(0);
  });

  it('a failing task frees its slot', async () => {
    const cap = new ConcurrencyCap(1, 0);
    await expect(cap.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await cap.run(async () => 42)).toBe(42);
  });

  it('refusal carries a Retry-After of at least one second', async () => {
    const cap = new ConcurrencyCap(1, 0);
    const g = gate();
    const first = cap.run(g.task);
    const refused = await cap.run(async () => 'x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CapacityExceeded);
    expect((refused as CapacityExceeded).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    g.open();
    await first;
  });
});

// Through the app: every operation that hashes answers 503 service_unavailable with
// Retry-After when the cap and its queue are full, and does nothing else.
describe('503 when the hashing queue is full', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '0' }, config: { rateLimitMultiplier: 10 } });
  });
  afterAll(async () => t?.close());


  const expect503 = (res: { status: number; headers: Headers; body: any }) => {
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('service_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  };

  it('register, login, change password and reset confirm', async () => {
    await hashingIdle();
    const user = await registerUser(t);
    const login = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    await t.deps.limiter.reset('ip|');

    const release = await saturateHashing();
    expect(hashingCap()).toMatchObject({ running: 1, queued: 0 });
    const email = uniqueEmail();
    expect503(await t.request('/auth/register', { json: { email, password: STRONG_PASSWORD, full_name: 'Queued' } }));
    expect503(await t.request('/auth/login', { json: { email: user.email, password: user.password } }));
    expect503(await t.request('/auth/login', { json: { email: uniqueEmail(), password: 'whatever-password' } }));
    expect503(await t.request('/auth/password/change', { json: { current_password: user.password, new_password: 'a-brand-new-password-1' }, token }));
    await t.request('/auth/password-reset/request', { json: { email: user.email } });
    let link: string | undefined;
    for (let i = 0; i < 400 && link === undefined; i++) {
      link = /(http\S+\/reset-password\?token=\S+)/.exec(t.mailer.sent.find((m) => m.to === user.email)?.text ?? '')?.[1];
      if (link === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    const resetToken = new URL(link!).searchParams.get('token')!;
    expect503(await t.request('/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'a-brand-new-password-2' } }));
    // Authenticated reads never hash: unaffected.
    expect((await t.request('/users/me', { token })).status).toBe(200);
    await release();

    // Nothing was done by the refused requests: the account does not exist, the password is
    // unchanged, no failed login was counted, and the reset token is still unspent.
    expect((await t.deps.db('users').where({ email_normalized: email.toLowerCase() })).length).toBe(0);
    await t.deps.limiter.reset('ip|');
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(200);
    const confirmed = await t.request('/auth/password-reset/confirm', { json: { token: resetToken, new_password: 'a-brand-new-password-2' } });
    expect(confirmed.status).toBe(200);
  });
});
