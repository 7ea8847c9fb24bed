import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { spendBackupCode } from './backup-code-store.ts';
import { isBackupCodeShape } from './backup-codes.ts';
import { assertTotpNotLocked, clearTotpFailures, recordTotpFailure } from './lockout.ts';
import { decryptSecret } from './secret-box.ts';
import { verifyTotpCode } from './totp-code.ts';
import { claimTimeStep, loadTotpState, type TotpState } from './totp-state.ts';

export interface CodeCheckDeps {
  db: Knex | Knex.Transaction;
  clock: Clock;
  keys: { dataKey: Buffer };
}

export interface CodeCheck {
  /** The sealed secret the code must match (the active one, or the pending one on verify). */
  secretEnc: string;
  /** Login and disable accept a backup code; verify (proving the new secret) does not. */
  allowBackupCode: boolean;
}

/**
 * The one TOTP check used by login, verify and disable, so that the lock, the failure count
 * and the once-per-step rule are shared by all three. Throws 429 `totp_locked` while locked;
 * otherwise returns whether the code was accepted (and, if so, spent).
 */
export async function checkSecondFactorCode(
  deps: CodeCheckDeps,
  state: TotpState,
  code: string,
  check: CodeCheck,
): Promise<boolean> {
  const now = deps.clock.now();
  assertTotpNotLocked(state.lockedUntil, now); // cheap refusal without a transaction
  // One atomic step per attempt (issue #10 defect 3): the user's row is locked (PostgreSQL
  // SELECT … FOR UPDATE; SQLite runs one write transaction at a time), the lock and the count
  // are re-read, the code is checked and the outcome counted before the next attempt of the
  // same user may look. Concurrent attempts can no longer all pass a stale "not locked".
  return deps.db.transaction(async (trx) => {
    const fresh = await loadTotpState(trx, state.userId, { forUpdate: true });
    if (fresh === undefined) return false;
    assertTotpNotLocked(fresh.lockedUntil, now);
    const accepted = await acceptCode({ ...deps, db: trx }, fresh, code, check, now);
    if (accepted) await clearTotpFailures(trx, state.userId);
    else await recordTotpFailure(trx, state.userId, now);
    return accepted;
  });
}

async function acceptCode(deps: CodeCheckDeps, state: TotpState, code: string, check: CodeCheck, now: number): Promise<boolean> {
  if (check.allowBackupCode && isBackupCodeShape(code)) {
    return spendBackupCode(deps.db, deps.keys.dataKey, state.userId, code, now);
  }
  const secret = decryptSecret(deps.keys.dataKey, check.secretEnc, state.userId);
  const step = await verifyTotpCode(secret, code, now, state.lastStep);
  // The conditional update, not the check above, decides between concurrent requests.
  return step !== null && (await claimTimeStep(deps.db, state.userId, step));
}
