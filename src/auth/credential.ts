import type { AppDeps, Principal } from '../deps.ts';
import { API_KEY_PREFIX, authenticateApiKey } from '../api-keys/authenticate.ts';
import { verifyAccessToken } from '../sessions/access-token.ts';
import { fastPathOf } from '../db/fast-path/index.ts';
import { profileFromDb, type ProfileRow } from '../users/repository.ts';

/**
 * What the Authorization header carried: nothing usable, a bad credential, or a principal.
 * Resolved once per request, then read by the `session` / `apiKey` security handlers and by
 * the token-keyed rate limit. `user` is the owner's profile as read by that same query.
 */
export type Credential =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'valid'; principal: Principal; user: ProfileRow };

// RFC 6750 §2.1 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Tokens come from the Authorization header only, never from the query string or a cookie. */
export async function resolveCredential(deps: AppDeps, authorization: string | undefined): Promise<Credential> {
  if (authorization === undefined || authorization === '') return { kind: 'none' };
  // Another scheme (Basic, …) carries no bearer credential at all (RFC 6750 §3.1).
  if (!/^bearer(\s|$)/i.test(authorization)) return { kind: 'none' };
  const match = BEARER.exec(authorization);
  const token = match?.[1];
  if (token === undefined) return { kind: 'invalid' };

  if (token.startsWith(API_KEY_PREFIX)) {
    const found = await authenticateApiKey(deps, token);
    return found === null ? { kind: 'invalid' } : { kind: 'valid', ...found };
  }

  const now = deps.clock.now();
  const claims = verifyAccessToken(deps.keys.jwtSecret, token, now);
  if (claims === null) return { kind: 'invalid' };
  // A signed token is only as good as its session row: logout and resets revoke at once.
  // One query reads the live session and its active user (the user row also answers
  // GET /users/me); nothing is cached across requests (src/db/fast-path/).
  const user = profileFromDb(await fastPathOf(deps.db, deps.config.database).sessionUser(claims.sessionId, claims.userId, now));
  if (user === undefined) return { kind: 'invalid' };
  return { kind: 'valid', principal: { kind: 'session', userId: claims.userId, sessionId: claims.sessionId }, user };
}
