import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { DatabaseConfig } from '../config.ts';
import type { Clock } from '../clock.ts';
import { loadContract } from '../contract.ts';
import { purgeExpired } from '../purge/purge.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { deleteBackupCodes } from '../totp/backup-code-store.ts';
import { findUserByEmail, setUserActive } from '../users/repository.ts';
import { findStaleHashes } from './stale-hashes.ts';

export const ADMIN_USAGE = `Usage: npm run admin -- <command> [arguments]

Commands:
  deactivate <email>       Deactivate an account: its sessions, API keys and pending reset link are
                           revoked (for good: a later activate does not bring them back), login
                           answers 403.
  activate <email>         Reactivate a deactivated account (the owner logs in again).
  revoke-sessions <email>  Log the account out everywhere (API keys are not affected).
  totp-reset <email>       For an owner who lost the authenticator and the backup codes (check
                           who asks first!): TOTP off, secret and backup codes deleted, every
                           session ended; the owner logs in with the password and enrols again.
  purge                    Delete expired/revoked sessions and used/expired reset tokens older
                           than a day, spent backup codes and closed rate-limit windows (the
                           server also does it every PURGE_INTERVAL_SECONDS).
  stale-hashes             List the accounts whose password hash is weaker than SCRYPT_LOG_N (made
                           before it was raised): re-hashed at their next login; a wrong password
                           is padded to the full cost meanwhile (SECURITY.md 32).
  help                     Show this help.

Uses the same configuration as the server (DATABASE_URL, …; see README "Configuration").`;

/** Commands that need no database. */
export function isHelp(command: string | undefined): boolean {
  return command === undefined || ['help', '--help', '-h'].includes(command);
}

/**
 * Issue 20 item 17: every admin command works on the server's existing database; none creates
 * one (the server does, on its first start). A SQLite file that does not exist is a mistyped
 * DATABASE_URL (or the wrong working directory): the reason to refuse, naming the path.
 */
export function missingDatabase(database: DatabaseConfig): string | undefined {
  if (database.client !== 'sqlite' || database.filename === ':memory:' || existsSync(database.filename)) return undefined;
  const resolved = path.resolve(database.filename);
  return (
    `no database at ${database.filename}${resolved === database.filename ? '' : ` (${resolved})`}: check DATABASE_URL and the directory you run from ` +
    '(the server creates its database on its first start; admin commands only use an existing one)'
  );
}

export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

/** What some commands need from the server's configuration (the CLI passes its Config). */
export interface AdminSettings {
  scryptLogN?: number;
}

/** Runs one operator command; returns the process exit code. */
export async function runAdminCommand(args: string[], db: Knex, clock: Clock, io: AdminIo, settings: AdminSettings = {}): Promise<number> {
  const [command, email, ...rest] = args;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(ADMIN_USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === 'purge') {
    if (email !== undefined) {
      io.err('"purge" takes no argument.');
      return 2;
    }
    const r = await purgeExpired(db, loadContract(), clock.now());
    io.out(`Purged ${r.sessions} session(s), ${r.resetTokens} reset token(s), ${r.backupCodes} spent backup code(s), ${r.rateLimits} rate-limit window(s).`);
    return 0;
  }
  if (command === 'stale-hashes') {
    if (email !== undefined || settings.scryptLogN === undefined) {
      io.err(email !== undefined ? '"stale-hashes" takes no argument.' : '"stale-hashes" needs the configured SCRYPT_LOG_N.');
      return 2;
    }
    const stale = await findStaleHashes(db, settings.scryptLogN);
    if (stale.length === 0) {
      io.out(`No account has a password hash below SCRYPT_LOG_N=${settings.scryptLogN}.`);
      return 0;
    }
    io.out(`${stale.length} account(s) have a password hash below SCRYPT_LOG_N=${settings.scryptLogN} (re-hashed at their next login):`);
    for (const s of stale) io.out(`${s.id}  ${s.email}  ${s.logN === null ? 'unreadable' : `logN=${s.logN}`}`);
    return 0;
  }
  if (!['deactivate', 'activate', 'revoke-sessions', 'totp-reset'].includes(command)) {
    io.err(`Unknown command "${command}".\n\n${ADMIN_USAGE}`);
    return 2;
  }
  if (email === undefined || rest.length > 0) {
    io.err(`"${command}" takes exactly one argument: the account's e-mail address.`);
    return 2;
  }
  const user = await findUserByEmail(db, email);
  if (user === undefined) {
    io.err(`No account has the e-mail address ${email}.`);
    return 1;
  }
  const now = clock.now();
  if (command === 'totp-reset') {
    await db.transaction(async (trx) => {
      await trx('users').where({ id: user.id }).update({
        totp_enabled: false, totp_secret_enc: null, totp_pending_secret_enc: null,
        totp_failed_count: 0, totp_locked_until: null, updated_at: now,
      });
      await deleteBackupCodes(trx, user.id);
      await revokeAllSessions(trx, user.id, now);
    });
    io.out(`TOTP is off for ${user.email}: secret and backup codes deleted, every session ended.`);
    return 0;
  }
  if (command === 'revoke-sessions') {
    const n = await revokeAllSessions(db, user.id, now);
    io.out(`Revoked ${n} session(s) of ${user.email}.`);
    return 0;
  }
  const active = command === 'activate';
  if (user.is_active === active) {
    io.out(`${user.email} is already ${active ? 'active' : 'deactivated'}; nothing changed.`);
    return 0;
  }
  await setUserActive(db, email, active, now);
  io.out(`${user.email} is now ${active ? 'active' : 'deactivated'}.`);
  return 0;
}
