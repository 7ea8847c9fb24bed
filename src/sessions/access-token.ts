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
 * on every authenticated request; a token seen before skips the HMAC and the parse (its
 * exp/nbf are compared with the clock every time). The checks are the ones `jwtVerify` made with
 * `algorithms: ['HS256']`, issuer, audience, typ, required exp/iat/jti/sub, nbf, no clock
 * tolerance — plus a canonical base64url signature and no `crit` header (jose refuses
 * unknown `crit` extensions; we know none). The tests in token-attacks.test.ts and
 * access-token.test.ts pin each refusal.
 */
export function verifyAccessToken(secret: Uint8Array, token: string, nowMs: number): AccessTokenClaims | null {
  // A token already verified under this secret skips the HMAC and the parsing; its time
  // claims are still checked against the clock on every request, and the caller still reads
  // the session row every time (revocation is a database fact, never cached).
  const known = verifiedTokens(secret).get(token);
  if (known !== undefined) return inTime(known, Math.floor(nowMs / 1000)) ? known.claims : null;
  const verified = verifySignedToken(secret, token);
  if (verified === null) return null;
  remember(secret, token, verified);
  return inTime(verified, Math.floor(nowMs / 1000)) ? verified.claims : null;
}

interface Verified {
  claims: AccessTokenClaims;
  exp: number;
  nbf: number | undefined;
}

const inTime = (v: Verified, now: number): boolean => v.exp > now && (v.nbf === undefined || v.nbf <= now);

/**
 * Tokens whose signature and claims checked out, per secret, bounded: at most
 * VERIFIED_TOKENS_MAX entries (~0.5 KB each), the oldest forgotten first. Only well-signed
 * tokens get in, so a flood of forged ones cannot push real ones out.
 */
const VERIFIED_TOKENS_MAX = 10_000;
const verifiedBySecret = new WeakMap<Uint8Array, Map<string, Verified>>();
function verifiedTokens(secret: Uint8Array): Map<string, Verified> {
  let map = verifiedBySecret.get(secret);
  if (map === undefined) verifiedBySecret.set(secret, (map = new Map()));
  return map;
}
/** How many verified tokens are remembered for this secret (tests). */
export function verifiedTokenCount(secret: Uint8Array): number {
  return verifiedBySecret.get(secret)?.size ?? 0;
}
function remember(secret: Uint8Array, token: string, v: Verified): void {
  const map = verifiedTokens(secret);
  if (map.size >= VERIFIED_TOKENS_MAX) map.delete(map.keys().next().value as string);
  map.set(token, Object.freeze(v));
}

/** Everything but the time claims' comparison with now (those are checked on every use). */
function verifySignedToken(secret: Uint8Array, token: string): Verified | null {
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
  if (typeof claims.exp !== 'number' || Number.isNaN(claims.exp)) return null;
  if (typeof claims.iat !== 'number') return null;
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') return null;
  if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string') return null;
  return { claims: { userId: claims.sub, sessionId: claims.jti }, exp: claims.exp, nbf: claims.nbf as number | undefined };
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
