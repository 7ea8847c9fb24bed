import { describe, expect, it } from 'vitest';
import { SignJWT, jwtVerify } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TYPE, signAccessToken, verifyAccessToken } from './access-token.ts';

const secret = new TextEncoder().encode('unit-test-secret-0123456789abcdef-0123456789');
const NOW_MS = 1_800_000_000_500;
const now = Math.floor(NOW_MS / 1000);
const USER = '550e8400-e29b-41d4-a716-446655440000';
const SESSION = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';

interface Forge { header?: Record<string, unknown>; claims?: Record<string, unknown>; drop?: string[]; key?: Uint8Array }

async function forge(f: Forge = {}): Promise<string> {
  const claims: Record<string, unknown> = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: USER, jti: SESSION, iat: now - 10, exp: now + 600, ...f.claims };
  for (const d of f.drop ?? []) delete claims[d];
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, ...f.header } as never).sign(f.key ?? secret);
}

/** What the verifier this one replaced said: jose's jwtVerify with its options, then sub/jti strings. */
async function joseSays(token: string): Promise<boolean> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, typ: TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'], currentDate: new Date(NOW_MS), clockTolerance: 0,
    });
    return typeof payload.sub === 'string' && typeof payload.jti === 'string';
  } catch {
    return false;
  }
}

const cases: [string, Forge, boolean][] = [
  ['a well-formed token', {}, true],
  ['typ with the application/ prefix, other case', { header: { typ: 'application/AT+JWT' } }, true],
  ['aud as an array containing ours', { claims: { aud: ['other', TOKEN_AUDIENCE] } }, true],
  ['nbf in the past', { claims: { nbf: now - 1 } }, true],
  ['nbf now', { claims: { nbf: now } }, true],
  ['nbf in the future', { claims: { nbf: now + 1 } }, false],
  ['nbf not a number', { claims: { nbf: 'soon' } }, false],
  ['exp now (expired at this second)', { claims: { exp: now } }, false],
  ['exp next second', { claims: { exp: now + 1 } }, true],
  ['exp as a string', { claims: { exp: String(now + 600) } }, false],
  ['no exp', { drop: ['exp'] }, false],
  ['no iat', { drop: ['iat'] }, false],
  ['iat not a number', { claims: { iat: 'yesterday' } }, false],
  ['no jti', { drop: ['jti'] }, false],
  ['no sub', { drop: ['sub'] }, false],
  ['sub not a string', { claims: { sub: 42 } }, false],
  ['wrong iss', { claims: { iss: 'https://evil.example' } }, false],
  ['iss as an array', { claims: { iss: [TOKEN_ISSUER] } }, false],
  ['wrong aud', { claims: { aud: 'another-api' } }, false],
  ['aud array without ours', { claims: { aud: ['a', 'b'] } }, false],
  ['no aud', { drop: ['aud'] }, false],
  ['typ JWT', { header: { typ: 'JWT' } }, false],
  ['no typ', { header: { typ: undefined } }, false],
  ['HS512', { header: { alg: 'HS512' } }, false],
  ['another key', { key: new TextEncoder().encode('another-secret-of-sufficient-length-000000') }, false],
];

describe('verifyAccessToken (node:crypto HMAC) decides as jose did', () => {
  for (const [name, f, accepted] of cases) {
    it(`${name}: ${accepted ? 'accepted' : 'refused'}`, async () => {
      const token = await forge(f);
      expect(await joseSays(token)).toBe(accepted); // the oracle agrees with the expectation…
      const claims = verifyAccessToken(secret, token, NOW_MS);
      expect(claims !== null).toBe(accepted); // …and so does the fast verifier
      if (accepted) expect(claims).toEqual({ userId: USER, sessionId: SESSION });
    });
  }

  it('refuses alg none, malformed shapes and a tampered payload or signature', async () => {
    const good = await forge();
    const [h, p, s] = good.split('.') as [string, string, string];
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const noneToken = `${b64({ alg: 'none', typ: TOKEN_TYPE })}.${p}.`;
    // Stricter than jose: a padded or otherwise non-canonical signature encoding.
    expect(verifyAccessToken(secret, `${h}.${p}.${s}=`, NOW_MS)).toBeNull();
    const bad = [
      noneToken, `${h}.${p}`, `${h}.${p}.${s}.x`, `${h}..${s}`, `${h}.${p}.${s.slice(0, -1)}`,
      `${h}.${b64({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: 'someone-else', jti: SESSION, iat: now, exp: now + 600 })}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`, '', 'a.b.c', `${h}.${p}.${'A'.repeat(43)}`,
    ];
    for (const token of bad) {
      expect(verifyAccessToken(secret, token, NOW_MS)).toBeNull();
      expect(await joseSays(token)).toBe(false);
    }
  });

  it('a signed header or payload that is not a JSON object is refused', async () => {
    const { createHmac } = await import('node:crypto');
    const sign = (h: string, p: string) => `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: TOKEN_TYPE })).toString('base64url');
    for (const payload of ['[1]', 'null', '"x"', '{bad json']) {
      const token = sign(h, Buffer.from(payload).toString('base64url'));
      expect(verifyAccessToken(secret, token, NOW_MS)).toBeNull();
      expect(await joseSays(token)).toBe(false);
    }
    // A crit header: jose refuses extensions it does not know; we know none, so refuse any.
    const claims = Buffer.from(JSON.stringify({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: USER, jti: SESSION, iat: now, exp: now + 600 })).toString('base64url');
    const control = sign(h, claims);
    expect(verifyAccessToken(secret, control, NOW_MS)).not.toBeNull();
    const crit = sign(Buffer.from(JSON.stringify({ alg: 'HS256', typ: TOKEN_TYPE, crit: ['x-ext'], 'x-ext': 1 })).toString('base64url'), claims);
    expect(verifyAccessToken(secret, crit, NOW_MS)).toBeNull();
    expect(await joseSays(crit)).toBe(false);
  });

  it('accepts what signAccessToken issues, until exp', async () => {
    const token = await signAccessToken(secret, { userId: USER, sessionId: SESSION }, NOW_MS, 60);
    expect(verifyAccessToken(secret, token, NOW_MS)).toEqual({ userId: USER, sessionId: SESSION });
    expect(verifyAccessToken(secret, token, NOW_MS + 59_000)).not.toBeNull();
    expect(verifyAccessToken(secret, token, (now + 60) * 1000)).toBeNull();
  });
});
