import { describe, expect, it } from 'vitest';
import { SignJWT, jwtVerify } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TYPE, signAccessToken, verifiedTokenCount, verifyAccessToken } from './access-token.ts';

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

  describe('tokens verified before (cached per secret)', () => {
    it('still answer to the clock: refused before nbf and from exp on, accepted in between', async () => {
      const key = new TextEncoder().encode('cache-test-secret-0123456789abcdef-0123456789');
      const token = await forge({ key, claims: { nbf: now + 10, exp: now + 20 } });
      expect(verifyAccessToken(key, token, NOW_MS)).toBeNull(); // not yet valid…
      expect(verifiedTokenCount(key)).toBe(1); // …but its signature checked out
      expect(verifyAccessToken(key, token, (now + 10) * 1000)).toEqual({ userId: USER, sessionId: SESSION });
      expect(verifyAccessToken(key, token, (now + 19) * 1000)).not.toBeNull();
      expect(verifyAccessToken(key, token, (now + 20) * 1000)).toBeNull();
    });

    it('are remembered under their own secret only, and forged ones are never remembered', async () => {
      const a = new TextEncoder().encode('cache-test-secret-A-0123456789abcdef-01234567');
      const b = new TextEncoder().encode('cache-test-secret-B-0123456789abcdef-01234567');
      const token = await forge({ key: a });
      expect(verifyAccessToken(a, token, NOW_MS)).not.toBeNull();
      expect(verifyAccessToken(b, token, NOW_MS)).toBeNull();
      const [h, p, s] = token.split('.') as [string, string, string];
      for (let i = 0; i < 50; i++) verifyAccessToken(a, `${h}.${p}.${s.slice(0, -3)}${String(i).padStart(3, 'A')}`, NOW_MS);
      expect(verifiedTokenCount(a)).toBe(1);
      expect(verifiedTokenCount(b)).toBe(0);
    });

    it('are bounded: 10,000 per secret, the oldest forgotten first (and verified again when seen)', async () => {
      const key = new TextEncoder().encode('cache-test-secret-bound-0123456789abcdef-0123');
      const tokens = await Promise.all(Array.from({ length: 10_001 }, (_, i) => signAccessToken(key, { userId: USER, sessionId: `s-${i}` }, NOW_MS, 600)));
      for (const t of tokens) expect(verifyAccessToken(key, t, NOW_MS)).not.toBeNull();
      expect(verifiedTokenCount(key)).toBe(10_000);
      expect(verifyAccessToken(key, tokens[0]!, NOW_MS)).toEqual({ userId: USER, sessionId: 's-0' });
      expect(verifiedTokenCount(key)).toBe(10_000);
    });
  });
});
