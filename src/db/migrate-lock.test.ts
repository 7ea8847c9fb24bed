import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { connectDatabase, MigrationLockHeld, migrateToLatest } from './connect.ts';

// Two instances starting at once on one database: the second finds knex's migration lock
// taken (knex does not wait for it) and must wait for the first instead of exiting.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Two connections to one fresh database file, as two instances would have. */
function freshDb() {
  const dir = mkdtempSync(path.join(tmpdir(), 'qz-migrate-lock-'));
  dirs.push(dir);
  const filename = path.join(dir, 'db.sqlite');
  return [connectDatabase({ client: 'sqlite', filename }), connectDatabase({ client: 'sqlite', filename })] as const;
}

it('waits for a migration lock another instance holds, then completes', async () => {
  const [db, other] = freshDb();
  try {
    await migrateToLatest(db);
    await other('knex_migrations_lock').update({ is_locked: 1 }); // another instance is migrating…
    let released = 0;
    const release = setTimeout(() => {
      void other('knex_migrations_lock').update({ is_locked: 0 }).then(() => { released = Date.now(); });
    }, 4000); // …for 4 s (longer than the ~3 s the first version of the retry waited in all)
    await migrateToLatest(db); // the default wait
    clearTimeout(release);
    expect(released).toBeGreaterThan(0); // it finished only after the lock was released
    expect((await db('knex_migrations_lock').first())?.is_locked).toBe(0);
  } finally {
    await db.destroy();
    await other.destroy();
  }
});

it('a lock held past the wait is reported with what to do about it', async () => {
  const [db, other] = freshDb();
  try {
    await migrateToLatest(db);
    await other('knex_migrations_lock').update({ is_locked: 1 });
    const err = await migrateToLatest(db, { lockWaitMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationLockHeld);
    expect((err as Error).message).toMatch(/another instance is migrating.*UPDATE knex_migrations_lock SET is_locked = 0/u);
  } finally {
    await db.destroy();
    await other.destroy();
  }
});
