import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, uniqueEmail, type TestApp } from '../helpers.ts';

// A failed query must not put bound values in the log: knex interpolates them into the error
// message by default (password hashes, e-mail addresses); PostgreSQL quotes a bad value in
// its own message for data exceptions. Both are provoked here, with the log captured.

const SECRET_NAME = 'Zyxwvut Secretname';
const PASSWORD = 'correct-horse-battery-staple-42';

function captureLogs(): { lines: () => string } {
  const out: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('{"time"')) {
        out.push(text);
        return true;
      }
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as never);
  }
  return { lines: () => out.join('') };
}

function assertNoValues(log: string, email: string): void {
  expect(log).toContain('unhandled error'); // the failure was logged…
  expect(log).not.toContain(email); // …without the e-mail,
  expect(log).not.toContain(SECRET_NAME); // the name,
  expect(log).not.toContain(PASSWORD); // the password
  expect(log).not.toMatch(/c2NyeXB0/); // or its scrypt hash (base64 of "scrypt…")
}

for (const engine of ['sqlite', 'postgres'] as const) {
  const pg = engine === 'postgres';
  const missing = pg && process.env.TEST_DATABASE_URL === undefined;
  describe.skipIf(missing)(`no bound value in the log of a failed query on ${engine}${missing ? ' (skipped: set TEST_DATABASE_URL=postgres://… to run it)' : ''}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ usePostgres: pg, env: { LOG_LEVEL: 'error' } });
    });
    afterAll(async () => {
      await t?.close();
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('an insert refused by the database (trigger) logs the SQL shape, not the values', async () => {
      if (pg) {
        await t.deps.db.raw(`create function qz_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by test trigger'; end $$`);
        await t.deps.db.raw(`create trigger qz_refuse before insert on users for each row execute function qz_refuse()`);
      } else {
        await t.deps.db.raw(`create trigger qz_refuse before insert on users begin select raise(abort, 'refused by test trigger'); end`);
      }
      const logs = captureLogs();
      const email = uniqueEmail('leak');
      const res = await t.request('/auth/register', { json: { email, password: PASSWORD, full_name: SECRET_NAME } });
      expect(res.status).toBe(500);
      const log = logs.lines();
      console.log(`captured log (${engine}): ${log.slice(0, 400)}`);
      expect(log).toContain('refused by test trigger');
      expect(log).toMatch(/insert into \W+users\W/); // the SQL shape stays useful
      assertNoValues(log, email);
      await t.deps.db.raw('drop trigger qz_refuse' + (pg ? ' on users' : ''));
    });

    // PostgreSQL only: SQLite has no data exception that quotes the value.
    if (pg) it('a data exception that quotes the value (22P02) has the value withheld', async () => {
      await t.deps.db.raw(`create or replace function qz_cast() returns trigger language plpgsql as $$ begin perform new.full_name::int; return new; end $$`);
      await t.deps.db.raw(`create trigger qz_cast before insert on users for each row execute function qz_cast()`);
      const logs = captureLogs();
      const email = uniqueEmail('leak');
      const res = await t.request('/auth/register', { json: { email, password: PASSWORD, full_name: SECRET_NAME } });
      expect(res.status).toBe(500);
      const log = logs.lines();
      console.log(`captured log (22P02): ${log.slice(0, 400)}`);
      expect(log).toContain('"code":"22P02"');
      expect(log).toContain('[value withheld]');
      assertNoValues(log, email);
      await t.deps.db.raw('drop trigger qz_cast on users');
    });
  });
}
