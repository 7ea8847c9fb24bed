import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandler } from '../deps.ts';
import { revokeAllApiKeys } from '../api-keys/api-key-store.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { findUserById, updateUser } from '../users/repository.ts';
import { hashPassword } from './passwords.ts';
import { verifyCurrentPassword } from './reauthenticate.ts';
import { weakPasswordReason } from './password-policy.ts';
import { sessionOf } from './principal.ts';
import { weakPasswordProblem } from './register.ts';
import { answerDeclares } from '../contract.ts';

type ChangeBody = operations['changePassword']['requestBody']['content']['application/json'];
type ChangeResponse = operations['changePassword']['responses'][200]['content']['application/json'];

/**
 * Needs the current password (counted like a login attempt); keeps the current session and
 * revokes every other one and every API key, like a reset does (SEC 34, issue 17 defect 9).
 */
export function createChangePasswordHandler(deps: AppDeps): OperationHandler {
  // A contract before 2.1.0 answers a plain message: the keys still end, the count is not told.
  const tellsRevoked = answerDeclares(deps.contract, 'changePassword', 200, 'revoked');
  return async (c, ctx) => {
    const session = sessionOf(ctx);
    const body = c.request.requestBody as ChangeBody;
    const user = await findUserById(deps.db, session.userId);
    if (user === undefined) throw new Error('session of a deleted user');
    // Counted against login's per-account failure budget (issue #10 defect 5): a stolen
    // session is no faster an oracle than the login form.
    await verifyCurrentPassword(deps, user, body.current_password);
    const reason = weakPasswordReason(body.new_password, user.email);
    if (reason !== null) throw weakPasswordProblem(reason, '/new_password');

    const now = deps.clock.now();
    const passwordHash = await hashPassword(body.new_password, deps.config.scryptLogN);
    const revoked = await deps.db.transaction(async (trx) => {
      await updateUser(trx, user.id, { password_hash: passwordHash }, now);
      const sessions = await revokeAllSessions(trx, user.id, now, session.sessionId);
      // Keys made by whoever knew only the old password would outlive the change. A key does
      // not record the session that made it, so all of them end (DECISIONS, SEC 34).
      const apiKeys = await revokeAllApiKeys(trx, user.id, now);
      // An outstanding reset link would undo this change (issue #10 defect 9).
      await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').delete();
      return { sessions, api_keys: apiKeys };
    });
    const response = (tellsRevoked ? { message: 'Password changed', revoked } : { message: 'Password changed' }) as ChangeResponse;
    ctx.status = 200;
    ctx.body = response;
  };
}
