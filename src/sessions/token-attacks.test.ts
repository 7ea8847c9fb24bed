import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, decodeJwt } from 'jose';
import { buildTestApp, newSession, type TestApp } from '../../test/helpers.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TYPE } from './access-token.ts';

let t: TestApp;
let userId: string;
let sessionId: string;
let token: string;
beforeAll(async () => {
  t = await buildTestApp();
  const s = await newSession(t);
  token = s.token;
  userId = s.user.id;
  sessionId = decodeJwt(token).jti as string;
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.deps.limiter.reset('');
});

interface Forge {
  alg?: string;
  typ?: string;
  iss?: string;
  aud?: string;
  expIn?: number;
  secret?: Uint8Array;
  noExp?: boolean;
}

/** A token for the real, live session: only the forged property can make it fail. */
async function forge(f: Forge = {}): Promise<string> {
  const now = Math.floor(t.clock.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: f.alg ?? 'HS256', typ: f.typ ?? TOKEN_TYPE })
    .setIssuer(f.iss ?? TOKEN_ISSUER)
    .setAudience(f.aud ?? TOKEN_AUDIENCE)
    .setSubject(userId)
    .setJti(sessionId)
    .setIssuedAt(now);
  if (f.noExp !== true) jwt.setExpirationTime(now + (f.expIn ?? 600));
  return jwt.sign(f.secret ?? t.deps.keys.jwtSecret);
}

const expectInvalid = async (credential: string) => {
  const res = await t.request('/users/me', { token: credential });
  expect(res.status).toBe(401);
  expect(res.body.code).toBe('invalid_token');
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="quazzar", error="invalid_token"');
};

describe('access token verification', () => {
  it('a correctly forged token with the server secret is accepted (the control case)', async () => {
    expect((await t.request('/users/me', { token: await forge() })).status).toBe(200);
  });

  it('alg none is refused', async () => {
    const unsecured = new UnsecuredJWT({}).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject(userId).setJti(sessionId)
      .setIssuedAt().setExpirationTime('10m').encode();
    await expectInvalid(unsecured);
  });

  it('HS512 with the right secret is refused (algorithm pinned)', async () => {
    await expectInvalid(await forge({ alg: 'HS512' }));
  });

  it('a bad signature is refused', async () => {
    await expectInvalid(await forge({ secret: new TextEncoder().encode('another-secret-of-sufficient-length-000') }));
    const [h, p, s] = token.split('.');
    await expectInvalid(`${h}.${p}.${s?.slice(0, -2)}${s?.endsWith('AA') ? 'BB' : 'AA'}`);
  });

  it('wrong iss, aud or typ, and a missing exp are refused', async () => {
    await expectInvalid(await forge({ iss: 'https://evil.example' }));
    await expectInvalid(await forge({ aud: 'another-api' }));
    await expectInvalid(await forge({ typ: 'JWT' }));
    await expectInvalid(await forge({ noExp: true }));
  });

  it('expiry follows the server clock', async () => {
    const s = await newSession(t);
    expect((await t.request('/users/me', { token: s.token })).status).toBe(200);
    t.clock.advance(t.deps.config.accessTokenTtlSeconds * 1000);
    await expectInvalid(s.token);
  });

  it('a token in the query string is ignored (401 authentication_required)', async () => {
    const res = await t.request(`/users/me?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('authentication_required');
  });

  it('a non-Bearer scheme counts as no credential; garbage after Bearer as a bad one', async () => {
    const basic = await t.request('/users/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.body.code).toBe('authentication_required');
    const garbage = await t.request('/users/me', { headers: { authorization: 'Bearer a b c' } });
    expect(garbage.body.code).toBe('invalid_token');
  });

  it('a token of a session that never existed is refused', async () => {
    const now = Math.floor(t.clock.now() / 1000);
    const orphan = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE }).setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE).setSubject(userId).setJti('00000000-0000-4000-8000-000000000000').setIssuedAt(now)
      .setExpirationTime(now + 600).sign(t.deps.keys.jwtSecret);
    await expectInvalid(orphan);
  });
});
