import type { AppContext, Principal } from '../deps.ts';
import { Problem } from '../errors/problem.ts';

/** The security hooks already answered 401/403; these only narrow the principal's type. */
export function principalOf(ctx: AppContext): Principal {
  const p = ctx.state.principal;
  if (p === undefined) throw new Error('secured handler reached without a principal');
  return p;
}

export function sessionOf(ctx: AppContext): Extract<Principal, { kind: 'session' }> {
  const p = principalOf(ctx);
  if (p.kind !== 'session') throw new Problem(403, 'session_required', 'API keys cannot be used for this operation; log in and use the access token.');
  return p;
}
