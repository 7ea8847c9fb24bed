import { randomUUID } from 'node:crypto';
import knex from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase, migrateToLatest } from '../connect.ts';
import { migrationSource } from '../migration-source.ts';

// Migration 002 on a database that already holds several unused reset tokens for one account
// (what concurrent requests left on PostgreSQL before issue 17): only the newest stays, then
// the partial unique index holds. SQLite always; PostgreSQL with TEST_DATABASE_URL.

const pgUrl = process.env.TEST_DATABASE_URL;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => { for (const c of cleanups) await c(); });

async function freshDb(pg: boolean) {
  if (!pg) return connectDatabase({ client: 'sqlite', filename: ':memory:' });
  const schema = `t_${randomUUID().replace(/-/g, '')}`;
  const admin = knex({ client: 'pg', connection: pgUrl });
  await admin.raw(`create schema "${schema}"`);
  const url = new URL(pgUrl!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  cleanups.push(async () => { await admin.raw(`drop schema "${schema}" cascade`); await admin.destroy(); });
  return connectDatabase({ client: 'pg', connectionString: url.toString() });
}

for (const pg of [false, true]) {
  describe.skipIf(pg && pgUrl === undefined)(`migration 002 on ${pg ? 'PostgreSQL (skipped without TEST_DATABASE_URL)' : 'SQLite'}`, () => {
    it('keeps the newest unused token of each account, then refuses a second one', async () => {
      const db = await freshDb(pg);
      try {
        await db.migrate.up({ migrationSource, name: '001-initial' });
        const user = randomUUID();
        await db('users').insert({ id: user, email: 'a@example.com', email_normalized: 'a@example.com', password_hash: 'x', full_name: 'A', created_at: 1, updated_at: 1 });
        const token = (created_at: number, used_at: number | null) => ({ id: randomUUID(), user_id: user, token_hash: randomUUID().replace(/-/g, '').padEnd(64, '0'), created_at, expires_at: created_at + 3_600_000, used_at });
        const rows = [token(1000, null), token(3000, null), token(2000, null), token(500, 600)];
        await db('password_reset_tokens').insert(rows);
        await migrateToLatest(db);
        const left = await db('password_reset_tokens').orderBy('created_at');
        expect(left.map((r) => [r.id, r.used_at === null ? null : Number(r.used_at)])).toEqual([[rows[3]!.id, 600], [rows[1]!.id, null]]);
        await expect(db('password_reset_tokens').insert(token(4000, null))).rejects.toThrow(/unique|duplicate/i);
        await db('password_reset_tokens').insert(token(4000, 4001)); // used ones are not limited
      } finally {
        await db.destroy();
      }
    });
  });
}
