import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../../test/helpers.ts';

// Issue 20 item 17: the admin CLI works on the server's existing database; a mistyped SQLite
// path is refused, naming it, instead of creating an empty database and reporting success.

const cli = path.resolve(import.meta.dirname, 'cli.ts');

function run(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env: { ...process.env, ...env } as NodeJS.ProcessEnv });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

describe('admin CLI and the SQLite file', () => {
  it('a SQLite path that does not exist is refused, naming the path; nothing is created', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'admin-cli-'));
    const typo = path.join(dir, 'data', 'quazar.sqlite');
    const r = await run(['purge'], testEnv({ DATABASE_URL: `sqlite:${typo}` }));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`no database at ${typo}`);
    expect(r.err).toMatch(/DATABASE_URL/);
    expect(existsSync(typo)).toBe(false);
    expect(existsSync(path.dirname(typo))).toBe(false);
  });

  it('help needs no database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'admin-cli-'));
    const file = path.join(dir, 'none.sqlite');
    const r = await run(['help'], testEnv({ DATABASE_URL: `sqlite:${file}` }));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: npm run admin');
    expect(existsSync(file)).toBe(false);
  });

  it('an existing SQLite database is used', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'admin-cli-'));
    const file = path.join(dir, 'q.sqlite');
    // Create it as the server would: connect and migrate.
    const { connectDatabase, migrateToLatest } = await import('../db/connect.ts');
    const db = connectDatabase({ client: 'sqlite', filename: file });
    await migrateToLatest(db);
    await db.destroy();
    const r = await run(['purge'], testEnv({ DATABASE_URL: `sqlite:${file}` }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Purged /);
  });
});
