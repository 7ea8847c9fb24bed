import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { loadContract } from '../contract.ts';
import { purgeExpired } from '../purge/purge.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { findUserByEmail, setUserActive } from '../users/repository.ts';

export const ADMIN_USAGE = `Usage: npm run admin -- <command> [arguments]

Commands:
  deactivate <email>       Deactivate an account: its tokens and API keys stop working at once,
                           login answers 403 account_deactivated.
  activate <email>         Reactivate a deactivated account.
  revoke-sessions <email>  Log the account out everywhere (API keys are not affected).
  purge                    Delete expired/revoked sessions and used/expired reset tokens older
                           than a day, spent backup codes and closed rate-limit windows (the
                           server also does it every PURGE_INTERVAL_SECONDS).
  help                     Show this help.

Uses the same configuration as the server (DATABASE_URL, …; see README "Configuration").`;

export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

/** Runs one operator command; returns the process exit code. */
export async function runAdminCommand(args: string[], db: Knex, clock: Clock, io: AdminIo): Promise<number> {
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
  if (!['deactivate', 'activate', 'revoke-sessions'].includes(command)) {
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
