import type { operations } from '../../generated/api.d.ts';
import type { AppDeps, OperationHandler } from '../deps.ts';
import { revokeSession } from '../sessions/sessions.ts';
import { sessionOf } from './principal.ts';

type LogoutResponse = operations['logout']['responses'][200]['content']['application/json'];

/** Revokes the session row: the same token is refused from the next request on. */
export function createLogoutHandler(deps: AppDeps): OperationHandler {
  return async (_c, ctx) => {
    await revokeSession(deps.db, sessionOf(ctx).sessionId, deps.clock.now());
    const response: LogoutResponse = { message: 'Successfully logged out' };
    ctx.status = 200;
    ctx.body = response;
  };
}
