import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAdminCommand } from '../../src/admin/commands.ts';
import { ShiftableClock } from '../../src/clock.ts';
import { startPurgeJob } from '../../src/purge/job.ts';
import { RETENTION_MS } from '../../src/purge/purge.ts';
import { MemoryRateLimiter } from '../../src/rate-limit/memory-store.ts';
import { buildTestApp, newSession, type TestApp } from '../helpers.ts';

const HOUR = 3600 * 1000;
const databases = [
  { name: 'SQLite', usePostgres: false },
  ...(process.env.TEST_DATABASE_URL === undefined ? [] : [{ name: 'PostgreSQL', usePostgres: true }]),
];
if (process.env.TEST_DATABASE_URL === undefined) process.stdout.write('purge: PostgreSQL variant not run (TEST_DATABASE_URL unset)\n');

function io() {
  const out: string[] = [];
  return { out, io: { out: (l: string) => out.push(l), err: (l: string) => out.push(l) } };
}

describe.each(databases)('purge on $name', ({ usePostgres }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ usePostgres, env: { RATE_LIMIT_STORE: 'database' } });
  });
  afterAll(async () => t.close());

  /** Rows of every kind, dead and alive; returns the live session's token and the dead one's. */
  async function seed(): Promise<{ live: string; loggedOut: string; userId: string }> {
    const old = await newSession(t);
    const gone = await newSession(t);
    expect((await t.request('/auth/logout', { method: 'POST', token: gone.token })).status).toBe(200);
    const now = t.clock.now();
    const db = t.deps.db;
    const uid = old.user.id;
    await db('password_reset_tokens').insert([
      { id: randomUUID(), user_id: uid, token_hash: randomUUID(), created_at: now, expires_at: now + HOUR, used_at: now },
      { id: randomUUID(), user_id: uid, token_hash: randomUUID(), created_at: now, expires_at: now + 2 * RETENTION_MS, used_at: null }, // still live after the jump below
    ]);
    await db('backup_codes').insert([
      { id: randomUUID(), user_id: uid, code_hash: randomUUID(), used_at: now },
      { id: randomUUID(), user_id: uid, code_hash: randomUUID(), used_at: null },
    ]);
    // A day and a bit later: the first session has expired, the logged-out one is past retention.
    t.clock.advance(RETENTION_MS + 2 * HOUR);
    const fresh = await newSession(t);
    return { live: fresh.token, loggedOut: gone.token, userId: uid };
  }

  it('deletes only what can never be used again; answers stay the same; a second run finds nothing', async () => {
    const { live, loggedOut, userId } = await seed();
    const db = t.deps.db;
    const before = { sessions: await count('sessions'), limits: await count('rate_limits') };
    const a = io();
    expect(await runAdminCommand(['purge'], db, t.clock, a.io)).toBe(0);
    process.stdout.write(`${a.out.join('')}\n`);
    expect(a.out.join('')).toMatch(/Purged [1-9][0-9]* session\(s\), 1 reset token\(s\), [1-9][0-9]* spent backup code\(s\), [1-9][0-9]* rate-limit window\(s\)/);
    expect(await count('sessions')).toBeLessThan(before.sessions);
    expect(await count('rate_limits')).toBeLessThan(before.limits);
    expect(await db('password_reset_tokens').where({ user_id: userId }).pluck('used_at')).toEqual([null]);
    expect(await db('backup_codes').where({ user_id: userId }).pluck('used_at')).toEqual([null]);
    // Behaviour unchanged: the live session works, the logged-out one is still refused.
    expect((await t.request('/users/me', { token: live })).status).toBe(200);
    expect((await t.request('/users/me', { token: loggedOut })).status).toBe(401);
    const again = io();
    expect(await runAdminCommand(['purge'], db, t.clock, again.io)).toBe(0);
    expect(again.out.join('')).toContain('Purged 0 session(s), 0 reset token(s), 0 spent backup code(s), 0 rate-limit window(s)');
  });

  it('two instances purging at once delete each row once (idempotent DELETEs with a cutoff)', async () => {
    await seed();
    const before = await count('sessions');
    const [a, b] = [io(), io()];
    await Promise.all([runAdminCommand(['purge'], t.deps.db, t.clock, a.io), runAdminCommand(['purge'], t.deps.db, t.clock, b.io)]);
    const purged = [a, b].map((x) => Number(/Purged ([0-9]+) session/.exec(x.out.join(''))?.[1]));
    expect(purged[0]! + purged[1]!).toBe(before - (await count('sessions')));
    expect(purged[0]! + purged[1]!).toBeGreaterThan(0);
  });

  it('the periodic job purges by itself and stops cleanly', async () => {
    await seed();
    const dead = await t.deps.db('backup_codes').whereNotNull('used_at').count<{ n: number }[]>({ n: '*' });
    expect(Number(dead[0]!.n)).toBeGreaterThan(0);
    const job = startPurgeJob(t.deps, 3600, () => 0); // first run at once, then hourly
    await vi.waitFor(async () => expect(await t.deps.db('backup_codes').whereNotNull('used_at').pluck('id')).toEqual([]), { timeout: 10_000 });
    await job.stop();
  });

  async function count(table: string): Promise<number> {
    const rows = await t.deps.db(table).count<{ n: number }[]>({ n: '*' });
    return Number(rows[0]!.n);
  }
});

describe('memory rate-limit store size cap', () => {
  it('drops closed windows first; never evicts an open one (issue 17): new keys share the overflow budget instead', async () => {
    const clock = new ShiftableClock(() => 1_000_000);
    const store = new MemoryRateLimiter(clock, { maxKeys: 1000 });
    for (let i = 0; i < 1000; i++) await store.consume('p', `ip|a${i}|`, 5, 1000);
    clock.advance(2000); // every window above is closed
    for (let i = 0; i < 500; i++) await store.consume('p', `ip|b${i}|`, 5, 60_000);
    expect([store.size, store.overflowed]).toEqual([500, 0]);
    for (let i = 500; i < 1500; i++) await store.consume('p', `ip|b${i}|`, 5, 60_000);
    expect(store.size).toBeLessThanOrEqual(1001); // the cap, and one overflow budget
    expect([store.evicted, store.overflowed]).toEqual([0, 500]);
    // The oldest open budget is still counted; the 500 late keys shared one budget of 5.
    await store.consume('p', 'ip|b0|', 5, 60_000);
    expect((await store.peek('p', 'ip|b0|', 5, 60_000)).remaining).toBe(3);
    expect((await store.peek('p', 'ip|b1499|', 5, 60_000)).allowed).toBe(false);
  });
});
