import { createHmac, randomBytes, randomUUID } from 'node:crypto';

// Forged variants of a REAL access token, each of which a conforming server must refuse
// with 401 (SECURITY.md #8). The suite never knows the server's key: every forgery is either
// unsigned, signed with a key of our own, or carries the original signature over changed bytes.

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const encodeJson = (value: unknown): string => b64url(JSON.stringify(value));

export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS (expected three dot-separated parts)');
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
    signature,
  };
}

function signHmac(alg: 'HS256' | 'HS384' | 'HS512', signingInput: string, key: Buffer): string {
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return b64url(createHmac(hash, key).update(signingInput).digest());
}

/** Re-encodes header and payload and signs them with `alg` and a random key (never the server's). */
export function signWithOwnKey(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg: 'HS256' | 'HS384' | 'HS512' = 'HS256',
): string {
  const input = `${encodeJson({ ...header, alg })}.${encodeJson(payload)}`;
  return `${input}.${signHmac(alg, input, randomBytes(32))}`;
}

/** `alg: none`, empty signature, claims untouched. */
export function forgeAlgNone(token: string): string {
  const { header, payload } = decodeJwt(token);
  return `${encodeJson({ ...header, alg: 'none' })}.${encodeJson(payload)}.`;
}

/** Same claims, `alg: HS512`, signed with a key the server does not have. */
export function forgeHs512(token: string): string {
  const { header, payload } = decodeJwt(token);
  return signWithOwnKey(header, payload, 'HS512');
}

/** Header and payload byte-identical, signature replaced by other bytes of the same length. */
export function forgeBadSignature(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const original = Buffer.from(signature, 'base64url');
  const flipped = Buffer.from(original.map((byte, i) => (i === 0 ? byte ^ 0xff : byte)));
  return `${header}.${payload}.${b64url(flipped)}`;
}

/**
 * One claim changed, the ORIGINAL signature kept: a server that does not check the signature
 * over the exact bytes would accept it. `value: undefined` removes the claim.
 */
export function forgeTamperedClaim(token: string, claim: string, value: unknown): string {
  const [header, , signature] = token.split('.') as [string, string, string];
  const { payload } = decodeJwt(token);
  const changed = { ...payload };
  if (value === undefined) delete changed[claim];
  else changed[claim] = value;
  return `${header}.${encodeJson(changed)}.${signature}`;
}

/** Changed claims re-signed with HS256 and a random key (wrong iss / aud / typ / exp). */
export function forgeResigned(
  token: string,
  changes: { header?: Record<string, unknown>; payload?: Record<string, unknown> },
): string {
  const { header, payload } = decodeJwt(token);
  return signWithOwnKey({ ...header, ...changes.header }, { ...payload, ...changes.payload }, 'HS256');
}

/** The whole menu, named, for checks that want to try every forgery in a loop. */
export function forgeAll(token: string): Record<string, string> {
  const { payload } = decodeJwt(token);
  const past = Math.floor(Date.now() / 1000) - 3600;
  return {
    'alg none': forgeAlgNone(token),
    'alg HS512 with a foreign key': forgeHs512(token),
    'bad signature': forgeBadSignature(token),
    'tampered sub (original signature)': forgeTamperedClaim(token, 'sub', randomUUID()),
    'tampered jti (original signature)': forgeTamperedClaim(token, 'jti', randomUUID()),
    'exp in the past (original signature)': forgeTamperedClaim(token, 'exp', past),
    'exp removed (original signature)': forgeTamperedClaim(token, 'exp', undefined),
    'wrong iss (re-signed)': forgeResigned(token, { payload: { iss: 'https://evil.example' } }),
    'wrong aud (re-signed)': forgeResigned(token, { payload: { aud: 'someone-else' } }),
    'wrong typ (re-signed)': forgeResigned(token, { header: { typ: 'JWT' } }),
    'iat in the future (re-signed)': forgeResigned(token, {
      payload: { iat: Number(payload.iat ?? 0) + 86400, exp: Number(payload.exp ?? 0) + 86400 },
    }),
  };
}

/** Re-encodes header and payload and signs them HS256 with `key` (the deployment's, when given). */
export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: Buffer): string {
  const input = `${encodeJson({ ...header, alg: 'HS256' })}.${encodeJson(payload)}`;
  return `${input}.${signHmac('HS256', input, key)}`;
}
