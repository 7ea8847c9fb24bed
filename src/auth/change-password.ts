import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandler } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { revokeAllSessions } from '../sessions/sessions.ts';
import { findUserById, updateUser } from '../users/repository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { weakPasswordReason } from './password-policy.ts';
import { sessionOf } from './principal.ts';
import { weakPasswordProblem } from './register.ts';

type ChangeBody = operations['changePassword']['requestBody']['content']['application/json'];
type ChangeResponse = operations['changePassword']['responses'][200]['content']['application/json'];

/** Needs the current password; keeps the current session and revokes every other one. */
export function createChangePasswordHandler(deps: AppDeps): OperationHandler {
  return async (c, ctx) => {
    const session = sessionOf(ctx);
    const body = c.request.requestBody as ChangeBody;
    const user = await findUserById(deps.db, session.userId);
    if (user === undefined) throw new Error('session of a deleted user');
    if (!(await verifyPassword(user.password_hash, body.current_password))) {
      throw new Problem(403, 'invalid_current_password', 'The current password is not correct.');
    }
    const reason = weakPasswordReason(body.new_password, user.email);
    if (reason !== null) throw weakPasswordProblem(reason, '/new_password');

    const now = deps.clock.now();
    const passwordHash = await hashPassword(body.new_password, deps.config.scryptLogN);
    await deps.db.transaction(async (trx) => {
      await updateUser(trx, user.id, { password_hash: passwordHash }, now);
      await revokeAllSessions(trx, user.id, now, session.sessionId);
    });
    const response: ChangeResponse = { message: 'Password changed' };
    ctx.status = 200;
    ctx.body = response;
  };
}
