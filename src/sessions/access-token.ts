import { createHmac, createSecretKey, timingSafeEqual, webcrypto, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

type HmacKey = webcrypto.CryptoKey;

export const TOKEN_ISSUER = 'https://app.quazzar.space';
export const TOKEN_AUDIENCE = 'quazzar-api';
export const TOKEN_TYPE = 'at+jwt';

// Signing (login only) stays on jose. Importing the HMAC key costs more than signing: once per secret.
const importedKeys = new WeakMap<Uint8Array, Promise<HmacKey>>();
function hmacKey(secret: Uint8Array): Promise<HmacKey> {
  let key = importedKeys.get(secret);
  if (key === undefined) {
    key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    importedKeys.set(secret, key);
  }
  return key;
}

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
}

/** HS256 access token (DECISIONS.md §6): `jti` is the session id, so revoking the row revokes the token. */
export async function signAccessToken(
  secret: Uint8Array,
  claims: AccessTokenClaims,
  issuedAtMs: number,
  ttlSeconds: number,
): Promise<string> {
  const iat = Math.floor(issuedAtMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(claims.userId)
    .setJti(claims.sessionId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(await hmacKey(secret));
}

/**
 * Verifies signature, algorithm, issuer, audience, typ and expiry against the server clock.
 * Returns null for any bad token: callers answer 401 invalid_token without saying why.
 *
 * node:crypto HMAC (~2 µs) instead of jose's WebCrypto `jwtVerify` (~100 µs here): this runs
 * on every authenticated request. The checks are the ones `jwtVerify` made with
 * `algorithms: ['HS256']`, issuer, audience, typ, required exp/iat/jti/sub, nbf, no clock
 * tolerance — plus a canonical base64url signature and no `crit` header (jose refuses
 * unknown `crit` extensions; we know none). The tests in token-attacks.test.ts and
 * access-token.test.ts pin each refusal.
 */
export function verifyAccessToken(secret: Uint8Array, token: string, nowMs: number): AccessTokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return null;
  // Signature first: nothing of an unauthenticated header or payload is parsed.
  const expected = createHmac('sha256', secretKey(secret)).update(`${h}.${p}`).digest('base64url');
  if (s.length !== expected.length || !timingSafeEqual(Buffer.from(s), Buffer.from(expected))) return null;
  const header = parseObject(h);
  const claims = parseObject(p);
  if (header === null || claims === null) return null;
  if (header.alg !== 'HS256' || header.crit !== undefined) return null;
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== TYP_NORMALIZED) return null;
  if (claims.iss !== TOKEN_ISSUER) return null;
  const aud = claims.aud;
  if (!(aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE)))) return null;
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== 'number' || !(claims.exp > now)) return null;
  if (typeof claims.iat !== 'number') return null;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) return null;
  if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string') return null;
  return { userId: claims.sub, sessionId: claims.jti };
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const TYP_NORMALIZED = normalizeTyp(TOKEN_TYPE);

/** As jose compares `typ`: case-insensitive, `application/` prefix optional (RFC 7515 §4.1.9). */
function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function parseObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const secretKeys = new WeakMap<Uint8Array, KeyObject>();
function secretKey(secret: Uint8Array): KeyObject {
  let key = secretKeys.get(secret);
  if (key === undefined) {
    key = createSecretKey(secret);
    secretKeys.set(secret, key);
  }
  return key;
}
