import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

type HmacKey = webcrypto.CryptoKey;

export const TOKEN_ISSUER = 'https://app.quazzar.space';
export const TOKEN_AUDIENCE = 'quazzar-api';
export const TOKEN_TYPE = 'at+jwt';

// Importing the HMAC key costs more than the verification itself: import each secret once.
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
 */
export async function verifyAccessToken(secret: Uint8Array, token: string, nowMs: number): Promise<AccessTokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), {
      // Pinned: without `algorithms`, jose would accept any HMAC algorithm for this key.
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      typ: TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      currentDate: new Date(nowMs),
      clockTolerance: 0,
    });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return null;
    return { userId: payload.sub, sessionId: payload.jti };
  } catch {
    return null;
  }
}
