import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveBackupCodeKey, hashBackupCode } from '../../src/totp/backup-codes.ts';
import { freePort, startServer, type ServerProcess } from './crash/server-process.ts';
import { runLoad, setUpTotpUsers, verifyAcked, type Acked, type LoadStats } from './crash/workload.ts';

// Crash safety with real server processes (`node --import tsx src/server.ts`): a write load,
// SIGKILL (or SIGTERM) in the middle of it, a restart on the same database, then every
// acknowledged write must be there and every acknowledged revocation must still hold.

const DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const WORKERS = 8;
/** Acknowledged writes of each kind to wait for before the signal (bounded by MAX_LOAD_MS). */
const WANT = Number(process.env.CRASH_WANT ?? 6);
const MAX_LOAD_MS = 20_000;

interface Target {
  name: string;
  url: string;
  db: () => Knex;
  cleanup: () => Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), 'qz-crash-'));
  const file = path.join(dir, 'crash.sqlite');
  return {
    name: 'SQLite',
    url: `sqlite:${file}`,
    db: () => knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(base: string): Promise<Target> {
  const schema = `crash_${randomUUID().replace(/-/g, '')}`;
  const admin = knex({ client: 'pg', connection: base });
  await admin.raw(`create schema "${schema}"`);
  await admin.destroy();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    name: 'PostgreSQL',
    url: url.toString(),
    db: () => knex({ client: 'pg', connection: url.toString() }),
    cleanup: async () => {
      const a = knex({ client: 'pg', connection: base });
      await a.raw(`drop schema "${schema}" cascade`);
      await a.destroy();
    },
  };
}

const targets: Array<() => Promise<Target>> = [sqliteTarget];
if (process.env.TEST_DATABASE_URL !== undefined) targets.push(() => postgresTarget(process.env.TEST_DATABASE_URL!));
else process.stdout.write('crash: PostgreSQL variant not run (TEST_DATABASE_URL unset)\n');

describe.each(targets.map((make, i) => ({ make, name: i === 0 ? 'SQLite' : 'PostgreSQL' })))('crash safety on $name', ({ make }) => {
  let target: Target;
  beforeAll(async () => {
    target = await make();
  });
  afterAll(async () => target?.cleanup());

  const env = (): Record<string, string> => ({
    NODE_ENV: 'test', DATABASE_URL: target.url, JWT_SECRET: 'crash-test-jwt-secret-0123456789abcdef-0123456789',
    DATA_ENCRYPTION_KEY: DATA_KEY, SCRYPT_LOG_N: '10', LOG_LEVEL: 'error', TRUST_PROXY: 'true', PURGE_INTERVAL_SECONDS: '0',
    MAIL_OUTBOX_DIR: path.join(tmpdir(), 'qz-crash-outbox'),
  });

  async function codeIsSpent(db: Knex, email: string, code: string): Promise<boolean> {
    const hash = hashBackupCode(deriveBackupCodeKey(Buffer.from(DATA_KEY, 'hex')), code);
    const row = await db('backup_codes').join('users', 'users.id', 'backup_codes.user_id')
      .where({ 'users.email_normalized': email.toLowerCase(), 'backup_codes.code_hash': hash }).first('backup_codes.used_at');
    return row !== undefined && row.used_at !== null;
  }

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal} in the middle of a write load loses no acknowledged write or revocation`, { timeout: 120_000 }, async () => {
      let server: ServerProcess | undefined = await startServer(env(), await freePort());
      const acked: Acked = { users: [], logouts: [], spentCodes: [], revokedKeys: [] };
      const stats: LoadStats = { sent: 0, fiveXx: 0, unanswered: 0, errors: new Map() };
      try {
        const totpUsers = await setUpTotpUsers(server.port, 3);
        let stop = false;
        const load = runLoad(server.port, WORKERS, totpUsers, acked, stats, () => stop);
        const started = Date.now();
        const enough = () => [acked.users, acked.logouts, acked.spentCodes, acked.revokedKeys].every((l) => l.length >= WANT);
        while (!enough() && Date.now() - started < MAX_LOAD_MS) await new Promise((r) => setTimeout(r, 20));
        const inFlightAtSignal = stats.sent;
        server.proc.kill(signal);
        const code = await server.exited;
        stop = true;
        await load;
        const lost = (stats.errors.get('ECONNRESET') ?? 0) + (stats.errors.get('socket hang up') ?? 0);
        process.stdout.write(
          `crash ${target.name} ${signal}: requests sent ${stats.sent} (${inFlightAtSignal} before the signal), 5xx ${stats.fiveXx}, ` +
          `unanswered ${stats.unanswered} ${JSON.stringify(Object.fromEntries(stats.errors))}, exit ${code ?? signal}\n`,
        );
        server = await startServer(env(), await freePort());
        const db = target.db();
        const result = await verifyAcked(server.port, acked, (email, c) => codeIsSpent(db, email, c)).finally(() => db.destroy());
        const writes = acked.users.length + acked.logouts.length + acked.spentCodes.length + acked.revokedKeys.length;
        process.stdout.write(
          `crash ${target.name} ${signal}: acknowledged writes ${writes} (registrations ${acked.users.length}, logouts ${acked.logouts.length}, ` +
          `backup-code spends ${acked.spentCodes.length}, key revocations ${acked.revokedKeys.length}); found after restart ${result.checked - result.missing.length}/${result.checked}\n`,
        );
        expect(result.missing).toEqual([]);
        expect(stats.fiveXx).toBe(0);
        expect([acked.users, acked.logouts, acked.spentCodes, acked.revokedKeys].every((l) => l.length > 0)).toBe(true);
        if (signal === 'SIGTERM') {
          // Graceful: it exited 0 after answering what it was handling. Connections racing the
          // listener's close (still in the kernel backlog, or accepted with no request read yet)
          // are reset: printed, not asserted (DECISIONS, issue 9).
          process.stdout.write(`crash ${target.name} SIGTERM: connections reset while closing ${lost}\n`);
          expect(code).toBe(0);
        }
      } finally {
        if (server !== undefined && server.proc.exitCode === null) {
          server.proc.kill('SIGKILL');
          await server.exited;
        }
      }
    });
  }
});
