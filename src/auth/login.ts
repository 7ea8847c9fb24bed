import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandler } from '../deps.ts';
import { Problem } from '../errors/problem.ts';
import { budgetKey } from '../rate-limit/limiter.ts';
import { effectiveLimit, rateLimitedProblem } from '../rate-limit/enforce.ts';
import { createSession } from '../sessions/sessions.ts';
import { verifyLoginSecondFactor } from '../totp/login-factor.ts';
import { toSummary } from '../users/mappers.ts';
import { findUserByEmail, normalizeEmail } from '../users/repository.ts';
import { BEARER_REALM } from '../openapi/hooks.ts';
import { DummyHash, hashPassword, needsRehash, padToConfiguredCost, verifyPassword } from './passwords.ts';

type LoginBody = operations['login']['requestBody']['content']['application/json'];
type LoginResponse = operations['login']['responses'][200]['content']['application/json'];

const invalidCredentials = (): Problem =>
  new Problem(401, 'invalid_credentials', 'Invalid email or password.', { headers: { 'WWW-Authenticate': BEARER_REALM } });

/**
 * Guards in a fixed order: per-account failure budget → password (dummy hash for unknown
 * addresses, padding for stale hashes: every wrong password costs one scrypt at the configured
 * cost) → account state → second factor → new session.
 * Nothing about the account is revealed before the password was right.
 */
export function createLoginHandler(deps: AppDeps): OperationHandler {
  const dummy = new DummyHash(deps.config.scryptLogN);
  // Computed now, so that even the first unknown-address login costs one scrypt, not two.
  dummy.get().catch(() => undefined); // refused by the hashing cap: computed on first use instead
  const failures = deps.contract.operation('login').failureRateLimit;

  return async (c, ctx) => {
    const body = c.request.requestBody as LoginBody;
    const account = budgetKey('account', normalizeEmail(body.email));
    // Reserve a unit of the account's failure budget BEFORE hashing (issue #10): concurrent
    // guesses all pass a mere check, but each takes its own unit here, atomically.
    let reserved = false;
    if (failures !== undefined) {
      const limit = effectiveLimit(deps, failures);
      const state = await deps.limiter.consume(failures.policy, account, limit, failures.window_seconds * 1000);
      if (!state.allowed) throw rateLimitedProblem(failures, limit, state);
      reserved = true;
    }

    let failed = false;
    try {
      const user = await findUserByEmail(deps.db, body.email);
      const passwordOk = await verifyPassword(user?.password_hash ?? (await dummy.get()), body.password);
      // A hash weaker than SCRYPT_LOG_N (made before it was raised) is padded to the configured
      // cost, so a wrong password costs what an unknown address costs (SEC 32, issue 17).
      if (user !== undefined && !passwordOk) await padToConfiguredCost(user.password_hash, deps.config.scryptLogN);
      if (user === undefined || !passwordOk) throw invalidCredentials();
      if (!user.is_active) throw new Problem(403, 'account_deactivated', 'Account is deactivated.');
      if (user.totp_enabled) await verifyLoginSecondFactor(deps, user, body.totp_code);
      // SCRYPT_LOG_N was raised since this hash was made: upgrade it now that we know the
      // password, so old accounts stop answering faster than the dummy hash (issue #10).
      if (needsRehash(user.password_hash, deps.config.scryptLogN)) {
        const upgraded = await hashPassword(body.password, deps.config.scryptLogN);
        await deps.db('users').where({ id: user.id, password_hash: user.password_hash }).update({ password_hash: upgraded });
      }

      const session = await createSession(deps, user.id);
      const response: LoginResponse = { access_token: session.accessToken, token_type: 'bearer', user: toSummary(user) };
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      ctx.body = response;
    } catch (err) {
      // Failed logins (401/403) keep their unit, so one address cannot be guessed at from
      // many IPs (SECURITY.md 7); anything else (success, totp_locked, 500) gives it back.
      failed = err instanceof Problem && (err.status === 401 || err.status === 403);
      throw err;
    } finally {
      if (reserved && !failed) await deps.limiter.refund(failures!.policy, account);
    }
  };
}
