import type { AppDeps, AppContext } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { effectiveLimit, rateLimitedProblem } from '../rate-limit/enforce.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { findUserById, normalizeEmail, type UserRow } from '../users/repository.ts';
import { verifyPassword } from './passwords.ts';
import { sessionOf } from './principal.ts';

/** The contract's `x-recent-authentication.max_age_seconds`, in ms (issue #10, "sudo mode"). */
export function recentAuthenticationMaxAgeMs(document: Record<string, any>): number {
  const seconds = document['x-recent-authentication']?.max_age_seconds;
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error('contract: x-recent-authentication.max_age_seconds must be an integer >= 1');
  return (seconds as number) * 1000;
}

/**
 * Checks the account's current password. Every check spends a unit of login's per-account
 * failure budget before hashing (429 once spent) and gives it back when the password was
 * right, so a stolen session is no faster an oracle than the login form (issue #10 defect 5).
 */
export async function verifyCurrentPassword(deps: AppDeps, user: UserRow, password: string): Promise<void> {
  const failures = deps.contract.operation('login').failureRateLimit;
  const account = budgetKey('account', normalizeEmail(user.email));
  if (failures !== undefined) {
    const limit = effectiveLimit(deps, failures);
    const state = await deps.limiter.consume(failures.policy, account, limit, failures.window_seconds * 1000);
    if (!state.allowed) throw rateLimitedProblem(failures, limit, state);
  }
  if (await verifyPassword(user.password_hash, password)) {
    if (failures !== undefined) await deps.limiter.refund(failures.policy, account);
    return;
  }
  throw new Problem(403, 'invalid_current_password', 'The current password is not correct.');
}

/**
 * For operations marked `x-requires-recent-authentication` in the contract: the session's
 * login must be within the `x-recent-authentication` window, or `currentPassword` must be
 * the account's password. Called first in the handler, before any code is checked.
 */
export async function requireRecentAuthentication(
  deps: AppDeps,
  ctx: AppContext,
  operationId: string,
  currentPassword: string | undefined,
): Promise<void> {
  if (deps.contract.operation(operationId).raw['x-requires-recent-authentication'] !== true) return;
  const session = sessionOf(ctx);
  if (currentPassword !== undefined) {
    const user = await findUserById(deps.db, session.userId);
    if (user === undefined) throw new Problem(401, 'invalid_token', 'The access token is no longer valid.');
    await verifyCurrentPassword(deps, user, currentPassword);
    return;
  }
  const row = await deps.db('sessions').where({ id: session.sessionId }).first('created_at');
  const loggedInAt = row === undefined ? -Infinity : Number(row.created_at);
  if (deps.clock.now() - loggedInAt <= recentAuthenticationMaxAgeMs(deps.contract.document)) return;
  throw new Problem(403, 'reauthentication_required', 'This operation needs a recent login: send current_password, or log in again.');
}
