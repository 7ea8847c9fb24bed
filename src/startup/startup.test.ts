import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { startMailSink } from '../../conformance/lib/smtp-sink.ts';
import { testEnv } from '../../test/helpers.ts';
import { redisMissing, startRedis } from '../../test/scale/services.ts';
import { maskUrl } from './check-dependencies.ts';

// Issue 20 items 15 and 16: start fails fast and says why, in one line, with a non-zero exit.

const server = path.resolve(import.meta.dirname, '..', 'server.ts');

const children: ReturnType<typeof spawn>[] = [];
// A server that did not exit (the test failed) must not outlive the test.
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ['--import', 'tsx', server], { env: { ...process.env, ...env } as NodeJS.ProcessEnv });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

/** A loopback port nothing listens on (asked from the kernel, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function sqliteEnv(extra: Record<string, string | undefined>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'startup-'));
  return testEnv({ PORT: '0', LOG_LEVEL: 'info', VALIDATE_RESPONSES: 'false', DATABASE_URL: `sqlite:${path.join(dir, 'q.sqlite')}`, STARTUP_TIMEOUT_SECONDS: '1', ...extra });
}

async function listening(s: ReturnType<typeof start>): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    if (s.out().includes('"msg":"listening"')) return true;
    if (s.child.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The lines the server wrote to stderr, without blank ones. */
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

describe('start-up: every dependency is reached before listening', () => {
  it('Redis unreachable (RATE_LIMIT_STORE=redis, wrong port): exit 1, one line naming Redis and REDIS_URL, never "listening"', async () => {
    const port = await closedPort();
    const s = start(sqliteEnv({ RATE_LIMIT_STORE: 'redis', REDIS_URL: `redis://:hunter2hunter2@127.0.0.1:${port}/0` }));
    expect(await s.exited).toBe(1);
    expect(s.out()).not.toContain('"msg":"listening"');
    const err = lines(s.err());
    expect(err, s.err()).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(REDIS_URL\\) within 1 s: .*ECONNREFUSED.*STARTUP_TIMEOUT_SECONDS`));
    expect(s.err()).not.toContain('hunter2');
  });

  it('SMTP relay unreachable with SMTP_REQUIRED_AT_START=true (the production default): exit 1, one line naming the relay and SMTP_URL', async () => {
    const port = await closedPort();
    const s = start(sqliteEnv({ SMTP_URL: `smtp://mailer:s3cretpass@127.0.0.1:${port}`, SMTP_REQUIRED_AT_START: 'true' }));
    expect(await s.exited).toBe(1);
    expect(s.out()).not.toContain('"msg":"listening"');
    const err = lines(s.err());
    expect(err, s.err()).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`cannot reach the mail relay at smtp://mailer:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(SMTP_URL\\) within 1 s: .*ECONNREFUSED`));
    expect(s.err()).not.toContain('s3cretpass');
  });

  it('SMTP relay unreachable outside production (the conformance sink listens only while the suite runs): a warning, and the server starts', async () => {
    const port = await closedPort();
    const s = start(sqliteEnv({ SMTP_URL: `smtp://mailer:s3cretpass@127.0.0.1:${port}` }));
    expect(await listening(s), s.err()).toBe(true);
    expect(s.err()).toMatch(new RegExp(`WARNING: cannot reach the mail relay at smtp://mailer:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(SMTP_URL\\): .*ECONNREFUSED.*; starting anyway \\(SMTP_REQUIRED_AT_START=false\\)`));
    expect(s.err()).not.toContain('s3cretpass');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('an SMTP relay that refuses the login stops the start even outside production, in one line', async () => {
    const relay = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.server.address() as AddressInfo).port;
    try {
      const s = start(sqliteEnv({ SMTP_URL: `smtp://mailer:wr0ngpass@127.0.0.1:${port}` }));
      expect(await s.exited).toBe(1);
      const err = lines(s.err());
      expect(err, s.err()).toHaveLength(1);
      expect(err[0]).toMatch(new RegExp(`^the mail relay refused the login: .* — fix the user name or password in SMTP_URL \\(smtp://mailer:\\*\\*\\*@127\\.0\\.0\\.1:${port}\\)$`));
      expect(s.err()).not.toContain('wr0ngpass');
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('PostgreSQL unreachable (closed port): exit 1, one line with the masked URL', async () => {
    const port = await closedPort();
    const s = start(sqliteEnv({ DATABASE_URL: `postgres://quazzar:pg-secret-pw@127.0.0.1:${port}/quazzar` }));
    expect(await s.exited).toBe(1);
    const err = lines(s.err());
    expect(err, s.err()).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`cannot reach the database at postgres://quazzar:\\*\\*\\*@127\\.0\\.0\\.1:${port}/quazzar \\(DATABASE_URL\\) within 1 s: .*ECONNREFUSED`));
    expect(s.out() + s.err()).not.toContain('pg-secret-pw');
  });

  it('a reachable SMTP relay: the server starts', async () => {
    const sink = await startMailSink({ host: '127.0.0.1', port: 0 });
    try {
      const s = start(sqliteEnv({ SMTP_URL: `smtp://127.0.0.1:${sink.port}` }));
      expect(await listening(s), s.err()).toBe(true);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      await sink.close();
    }
  });

  it('production with MAIL_OUTBOX_IN_PRODUCTION=true starts, with a warning about the outbox', async () => {
    const s = start(sqliteEnv({ NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', MAIL_OUTBOX_IN_PRODUCTION: 'true' }));
    expect(await listening(s), s.err()).toBe(true);
    expect(s.err()).toMatch(/WARNING: MAIL_OUTBOX_IN_PRODUCTION=true: no mail is sent/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it.skipIf(redisMissing() !== undefined)('Redis that comes up during the wait: the server waits for it, then starts (skipped without redis-server)', async () => {
    const port = await closedPort();
    const s = start(sqliteEnv({ RATE_LIMIT_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}/0`, STARTUP_TIMEOUT_SECONDS: '60' }));
    // Let the server meet the refused port first, then start Redis on it.
    for (let i = 0; i < 100 && !s.out().includes('"msg":"listening"'); i++) await new Promise((r) => setTimeout(r, 20));
    const redis = await startRedis(port);
    try {
      expect(await listening(s), s.err()).toBe(true);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      await redis.stop();
    }
  });

  describe('a port in use', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      port = (taken.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it('says "port N is in use (set PORT=…)" and exits 1, with no stack trace', async () => {
      const s = start(sqliteEnv({ PORT: String(port), HOST: '127.0.0.1' }));
      expect(await s.exited).toBe(1);
      const err = lines(s.err());
      expect(err, s.err()).toHaveLength(1);
      expect(err[0]).toMatch(new RegExp(`^port ${port} is in use on 127\\.0\\.0\\.1 \\(set PORT=`));
      expect(s.out()).not.toContain('"msg":"listening"');
    });
  });
});

const pgUrl = process.env.TEST_DATABASE_URL;

// A wrong password and a wrong database name need a real PostgreSQL (CI sets TEST_DATABASE_URL).
describe.skipIf(pgUrl === undefined)('start-up on PostgreSQL: wrong credentials in one line (skipped without TEST_DATABASE_URL=postgres://…)', () => {
  it('a wrong password: one line with the cause and the fix, password masked, no stack trace', async () => {
    const url = new URL(pgUrl!);
    url.password = 'definitely-not-the-password';
    const s = start(sqliteEnv({ DATABASE_URL: url.toString() }));
    expect(await s.exited).toBe(1);
    const err = lines(s.err());
    expect(err, s.err()).toHaveLength(1);
    expect(err[0]).toMatch(/^the database refused the login: password authentication failed for user ".*" — fix the user name or password in DATABASE_URL \(postgres:\/\/[^:]+:\*\*\*@/);
    expect(s.out() + s.err()).not.toContain('definitely-not-the-password');
    expect(s.out()).toBe('');
  });

  it('a wrong database name: one line naming the database and what to do', async () => {
    const url = new URL(pgUrl!);
    url.pathname = '/no_such_database_here';
    const s = start(sqliteEnv({ DATABASE_URL: url.toString() }));
    expect(await s.exited).toBe(1);
    const err = lines(s.err());
    expect(err, s.err()).toHaveLength(1);
    expect(err[0]).toMatch(/^database "no_such_database_here" does not exist — create it \(createdb\) or fix the database name in DATABASE_URL \(postgres:\/\/[^:]+:\*\*\*@/);
    expect(s.out() + s.err()).not.toContain(new URL(pgUrl!).password);
  });
});

describe('maskUrl', () => {
  it('hides the password of a URL, keeps the rest', () => {
    expect(maskUrl('postgres://u:p%40ss@db.example.com:5432/app?sslmode=require')).toBe('postgres://u:***@db.example.com:5432/app?sslmode=require');
    expect(maskUrl('redis://:secret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(maskUrl('smtp://127.0.0.1:2525')).toBe('smtp://127.0.0.1:2525');
    expect(maskUrl('not a url with secret')).toBe('(an unparsable URL)');
  });
});
