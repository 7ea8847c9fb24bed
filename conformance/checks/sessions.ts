import { randomUUID } from 'node:crypto';
import type { CheckContext, CheckDef, Exchange } from '../framework/types.ts';
import { decodeJwt, forgeAll } from '../lib/jwt-forge.ts';
import { expectProblem } from '../lib/problems.ts';

// Tokens and sessions (SECURITY.md 8, 9, 11, 12).

const area = 'sessions';

const INVALID_TOKEN_CHALLENGE = /^Bearer\s+realm="[^"]+".*error="invalid_token"/iu;

function expectInvalidTokenChallenge(ctx: CheckContext, ex: Exchange, what: string): void {
  ctx.expect(
    INVALID_TOKEN_CHALLENGE.test(ex.headers['www-authenticate'] ?? ''),
    `${what}: WWW-Authenticate should be Bearer realm="…", error="invalid_token", got ${JSON.stringify(ex.headers['www-authenticate'] ?? null)}`,
    ex,
  );
}

const forgedTokens: CheckDef = {
  id: 'SESSIONS-01',
  area,
  level: 'MUST',
  title: 'Forged tokens are refused with 401: alg none, HS512, bad signature, tampered claims, wrong iss/aud/typ, no exp (SEC 8)',
  cost: {}, // the shared session
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    const forged = { ...forgeAll(token), 'random string': `not-a-token-${ctx.runId}`, 'token without signature part': token.split('.').slice(0, 2).join('.') };
    for (const [name, value] of Object.entries(forged)) {
      const ex = await ctx.call('getCurrentUser', { token: value });
      if (expectProblem(ctx, ex, 401, 'invalid_token', `a forged token (${name})`)) expectInvalidTokenChallenge(ctx, ex, name);
    }
    const real = await ctx.call('getCurrentUser', { token });
    ctx.expect(real.status === 200, `the genuine token the forgeries came from should still work, got ${real.status}`, real);
  },
};

const tokenShape: CheckDef = {
  id: 'SESSIONS-02',
  area,
  level: 'SHOULD',
  title: 'Access tokens are HS256 JWTs with typ at+jwt, iss, aud, sub, jti and a bounded exp (SEC 8, RFC 9068)',
  async run(ctx: CheckContext) {
    const session = await ctx.accounts.shared();
    let decoded: ReturnType<typeof decodeJwt> | undefined;
    try {
      decoded = decodeJwt(session.token);
    } catch (error) {
      ctx.fail(`the access token is not a JWT: ${(error as Error).message}`, session.exchange);
    }
    if (!decoded) return;
    const { header, payload } = decoded;
    ctx.expect(header['alg'] === 'HS256', `alg: expected HS256, got ${String(header['alg'])}`, session.exchange);
    ctx.expect(String(header['typ']).toLowerCase() === 'at+jwt', `typ: expected at+jwt, got ${String(header['typ'])}`, session.exchange);
    for (const claim of ['iss', 'aud', 'sub', 'jti', 'iat', 'exp']) ctx.expect(payload[claim] !== undefined, `claim ${claim} missing`, session.exchange);
    const lifetime = Number(payload['exp']) - Number(payload['iat']);
    ctx.expect(lifetime > 0 && lifetime <= 24 * 3600, `token lifetime ${lifetime} s should be positive and at most a day`, session.exchange);
    ctx.expect(payload['sub'] === session.account.id, 'sub is not the user id', session.exchange);
  },
};

const logoutRevokes: CheckDef = {
  id: 'SESSIONS-03',
  area,
  level: 'MUST',
  title: 'Logout revokes the session on the server: the same token → 401 afterwards, other sessions unaffected (SEC 9)',
  cost: { login: 1 },
  async run(ctx: CheckContext) {
    // A session of its own on the shared account, logged out; the shared session is the other
    // one that must survive (only read with here).
    const other = await ctx.accounts.shared();
    const session = await ctx.accounts.login(other.account);
    const before = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(before, 200, 'the fresh session before logout');
    const logout = await ctx.call('logout', { token: session.token });
    ctx.expectStatus(logout, 200, 'logout');
    ctx.expect(typeof logout.body?.message === 'string', 'logout answer has no message', logout);
    const after = await ctx.call('getCurrentUser', { token: session.token });
    if (expectProblem(ctx, after, 401, 'invalid_token', 'the logged-out token')) expectInvalidTokenChallenge(ctx, after, 'the logged-out token');
    const again = await ctx.call('logout', { token: session.token });
    expectProblem(ctx, again, 401, 'invalid_token', 'logging the same token out twice');
    const sibling = await ctx.call('getCurrentUser', { token: other.token });
    ctx.expect(sibling.status === 200, `another session of the same user must survive the logout, got ${sibling.status}`, sibling);
  },
};

const expiry: CheckDef = {
  id: 'SESSIONS-04',
  area,
  level: 'MUST',
  title: 'A token past its exp is refused with 401 (server clock moved past the lifetime through the harness) (SEC 8)',
  needs: ['harness'],
  cost: { login: 1 },
  async run(ctx: CheckContext) {
    const { account } = await ctx.accounts.shared();
    const session = await ctx.accounts.login(account);
    const { payload } = decodeJwt(session.token);
    const exp = Number(payload['exp']);
    ctx.require(Number.isFinite(exp), 'the token has no numeric exp', session.exchange);
    const serverNowS = (await ctx.serverTime()) / 1000;
    const still = await ctx.call('getCurrentUser', { token: session.token });
    ctx.expectStatus(still, 200, 'the token before its exp');
    await ctx.harness!.advanceClock(Math.ceil(exp - serverNowS) + 61);
    const expired = await ctx.call('getCurrentUser', { token: session.token });
    if (expectProblem(ctx, expired, 401, 'invalid_token', 'the token after its exp')) expectInvalidTokenChallenge(ctx, expired, 'the expired token');
  },
};

const headerOnly: CheckDef = {
  id: 'SESSIONS-05',
  area,
  level: 'MUST',
  title: 'Tokens are read from the Authorization header only, never from the query string, a cookie or another scheme (SEC 11)',
  async run(ctx: CheckContext) {
    const { token } = await ctx.accounts.shared();
    for (const name of ['access_token', 'token']) {
      const ex = await ctx.request('GET', `/users/me?${name}=${encodeURIComponent(token)}`);
      expectProblem(ctx, ex, 401, 'authentication_required', `the token in the query string (?${name}=)`);
    }
    const cookie = await ctx.call('getCurrentUser', { headers: { cookie: `access_token=${token}; token=${token}` } });
    expectProblem(ctx, cookie, 401, 'authentication_required', 'the token in a cookie');
    const scheme = await ctx.call('getCurrentUser', { headers: { authorization: `Token ${token}` } });
    ctx.expect(scheme.status === 401, `the token under another scheme ("Token …"): expected 401, got ${scheme.status}`, scheme);
  },
};

const challenges: CheckDef = {
  id: 'SESSIONS-06',
  area,
  level: 'MUST',
  title: '401 challenges follow RFC 6750: no credential → Bearer realm without error; a bad one → error="invalid_token" (SEC 12)',
  async run(ctx: CheckContext) {
    const none = await ctx.call('getCurrentUser');
    expectProblem(ctx, none, 401, 'authentication_required', 'no credential');
    const challenge = none.headers['www-authenticate'] ?? '';
    ctx.expect(/^Bearer\s+realm="[^"]+"/iu.test(challenge), `no credential: expected WWW-Authenticate: Bearer realm="…", got ${JSON.stringify(challenge)}`, none);
    ctx.expect(!/error=/iu.test(challenge), `no credential: the challenge must carry no error code (RFC 6750 §3.1), got ${challenge}`, none);
    const bad = await ctx.call('getCurrentUser', { token: `qzk_${'A'.repeat(43)}` });
    if (expectProblem(ctx, bad, 401, 'invalid_token', 'an unknown API key')) expectInvalidTokenChallenge(ctx, bad, 'an unknown API key');
    const empty = await ctx.call('getCurrentUser', { headers: { authorization: 'Bearer' } });
    ctx.expect(empty.status === 401, `"Authorization: Bearer" with no token: expected 401, got ${empty.status}`, empty);
  },
};

const everySecuredOperation: CheckDef = {
  id: 'SESSIONS-07',
  area,
  level: 'MUST',
  title: 'Every secured operation of the contract refuses a missing credential (401 authentication_required) and an invalid one (401 invalid_token) (SEC 12)',
  async run(ctx: CheckContext) {
    const bogus = `qzk_${'C'.repeat(43)}`;
    const operations = ctx.contract.operations.filter((op) => op.security.length > 0 && op.security.every((alt) => alt.length > 0));
    ctx.require(operations.length > 0, 'the contract has no secured operation');
    for (const op of operations) {
      const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/gu)].map((m) => [m[1]!, randomUUID()]));
      const body = op.requestSchema ? {} : undefined;
      const none = await ctx.call(op.operationId, { params, ...(body ? { body } : {}) });
      expectProblem(ctx, none, 401, 'authentication_required', `${op.operationId} without a credential`);
      const bad = await ctx.call(op.operationId, { params, token: bogus, ...(body ? { body } : {}) });
      if (expectProblem(ctx, bad, 401, 'invalid_token', `${op.operationId} with an unknown credential`)) expectInvalidTokenChallenge(ctx, bad, op.operationId);
    }
  },
};

export const sessionsChecks: CheckDef[] = [forgedTokens, tokenShape, logoutRevokes, expiry, headerOnly, challenges, everySecuredOperation];
