import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, newSession, testEnv, type TestApp } from '../../test/helpers.ts';
import { connectDatabase, migrateToLatest } from '../db/connect.ts';
import { hashPassword } from '../auth/passwords.ts';
import { runAdminCommand } from './commands.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('admin commands', () => {
  it('deactivate stops the live token and keys at once; activate brings the account back, not its old sessions or keys (issue #10 defect 9)', async () => {
    const { user, token } = await newSession(t);
    const key = (await t.request('/users/me/api-keys', { token, json: { name: 'k' } })).body.key as string;
    const a = io();
    expect(await runAdminCommand(['deactivate', user.email.toUpperCase()], t.deps.db, t.clock, a.io)).toBe(0);
    expect(a.out.join()).toContain('is now deactivated');
    expect((await t.request('/users/me', { token })).status).toBe(401);
    const login = await t.request('/auth/login', { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(403);
    expect(await runAdminCommand(['activate', user.email], t.deps.db, t.clock, io().io)).toBe(0);
    expect((await t.request('/users/me', { token })).status).toBe(401);
    expect((await t.request('/users/me', { token: key })).status).toBe(401);
    await t.deps.limiter.reset('');
    expect((await t.request('/auth/login', { json: { email: user.email, password: user.password } })).status).toBe(200);
  });

  it('revoke-sessions logs the account out everywhere', async () => {
    const { user, token } = await newSession(t);
    const a = io();
    expect(await runAdminCommand(['revoke-sessions', user.email], t.deps.db, t.clock, a.io)).toBe(0);
    expect(a.out.join()).toMatch(/Revoked 1 session/);
    expect((await t.request('/users/me', { token })).status).toBe(401);
  });

  it('stale-hashes lists the accounts whose hash is below the configured SCRYPT_LOG_N (issue 17 defect 7)', async () => {
    const fresh = (await newSession(t)).user;
    const stale = (await newSession(t)).user;
    const corrupt = (await newSession(t)).user;
    await t.deps.db('users').where({ id: fresh.id }).update({ password_hash: await hashPassword('whatever-password-1', 12) });
    await t.deps.db('users').where({ id: stale.id }).update({ password_hash: await hashPassword('whatever-password-2', 11) });
    await t.deps.db('users').where({ id: corrupt.id }).update({ password_hash: 'bm90IGEgaGFzaA==' });
    const a = io();
    expect(await runAdminCommand(['stale-hashes'], t.deps.db, t.clock, a.io, { scryptLogN: 12 })).toBe(0);
    const out = a.out.join('\n');
    const total = (await t.deps.db('users').count({ n: '*' }))[0]!.n;
    expect(out).toContain(`${Number(total) - 1} account(s) have a password hash below SCRYPT_LOG_N=12`);
    expect(out).toMatch(new RegExp(`${stale.id}\\s+${stale.email}\\s+logN=11`));
    expect(out).toMatch(new RegExp(`${corrupt.id}\\s+${corrupt.email}\\s+unreadable`));
    expect(out).not.toContain(fresh.email);
    const none = io();
    expect(await runAdminCommand(['stale-hashes'], t.deps.db, t.clock, none.io, { scryptLogN: 10 })).toBe(0);
    expect(none.out.join()).toContain('1 account(s)'); // only the unreadable one
    expect(await runAdminCommand(['stale-hashes', 'x@example.com'], t.deps.db, t.clock, io().io, { scryptLogN: 12 })).toBe(2);
  });

  it('clear errors and non-zero exit codes', async () => {
    const unknown = io();
    expect(await runAdminCommand(['deactivate', 'nobody@example.com'], t.deps.db, t.clock, unknown.io)).toBe(1);
    expect(unknown.err.join()).toContain('No account');
    const bad = io();
    expect(await runAdminCommand(['explode'], t.deps.db, t.clock, bad.io)).toBe(2);
    expect(bad.err.join()).toContain('Unknown command');
    expect(await runAdminCommand(['deactivate'], t.deps.db, t.clock, io().io)).toBe(2);
    const help = io();
    expect(await runAdminCommand(['help'], t.deps.db, t.clock, help.io)).toBe(0);
    expect(help.out.join()).toContain('deactivate <email>');
  });

  it('the CLI runs as a process against the configured database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'admin-'));
    const file = path.join(dir, 'q.sqlite');
    // The server's database: the admin commands never create one (src/admin/cli.test.ts).
    const db = connectDatabase({ client: 'sqlite', filename: file });
    await migrateToLatest(db);
    await db.destroy();
    const env = { ...process.env, ...testEnv({ DATABASE_URL: `sqlite:${file}` }) } as NodeJS.ProcessEnv;
    const run = promisify(execFile);
    const cli = path.resolve(import.meta.dirname, 'cli.ts');
    const failed = await run(process.execPath, ['--import', 'tsx', cli, 'deactivate', 'nobody@example.com'], { env }).catch((e) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('No account has the e-mail address nobody@example.com');
    const help = await run(process.execPath, ['--import', 'tsx', cli, 'help'], { env });
    expect(help.stdout).toContain('Usage: npm run admin');
  });
});
