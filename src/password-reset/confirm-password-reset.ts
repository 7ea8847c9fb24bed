import { hashPassword } from '../auth/passwords.ts';
import { weakPasswordReason } from '../auth/password-policy.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { revokeAllApiKeys } from '../api-keys/api-key-store.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { findUserById } from '../users/repository.ts';
import { findLiveResetToken, lockActiveUser, spendResetToken, voidUnusedResetTokens } from './reset-token-store.ts';

const invalidToken = (): Problem =>
  new Problem(400, 'invalid_reset_token', 'The reset link is invalid or has expired. Request a new one.');

/**
 * Sets a new password from a reset token. Order matters: the token is checked first (400),
 * then the password (422 — the token stays usable, so the user can retry from the same
 * mail), then the token is spent by a conditional UPDATE inside the same transaction as the
 * password change, so concurrent confirms yield exactly one success. Every session and API key ends,
 * and so does every other unused token of the account; a deactivated account's token is 400.
 */
export async function completePasswordReset(deps: AppDeps, token: string, newPassword: string): Promise<void> {
  const live = await findLiveResetToken(deps.db, token, deps.clock.now());
  if (live === undefined) throw invalidToken();
  const user = await findUserById(deps.db, live.userId);
  // A deactivated account's tokens are void (issue 17, SEC 30), even one that outlived it.
  if (user === undefined || !user.is_active) throw invalidToken();

  const weakness = weakPasswordReason(newPassword, user.email);
  if (weakness !== null) {
    throw new Problem(422, 'weak_password', weakness, { errors: [{ pointer: '/new_password', detail: weakness }] });
  }
  // Hash outside the transaction: scrypt is slow and must not hold a database lock.
  const passwordHash = await hashPassword(newPassword, deps.config.scryptLogN);

  await deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    // The account row is locked first (as issuing and deactivating do): a deactivation
    // cannot slip between this check and the password change.
    if (!(await lockActiveUser(trx, user.id))) throw invalidToken();
    if (!(await spendResetToken(trx, live.id, now))) throw invalidToken();
    await voidUnusedResetTokens(trx, user.id);
    await trx('users').where({ id: user.id }).update({ password_hash: passwordHash, updated_at: now });
    await revokeAllSessions(trx, user.id, now);
    // Keys minted by whoever held the old password would outlive the reset (issue #10).
    await revokeAllApiKeys(trx, user.id, now);
  });
}
