import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJwt, forgeAlgNone, forgeAll, forgeBadSignature, forgeHs512, forgeTamperedClaim } from './jwt-forge.ts';

const KEY = Buffer.alloc(32, 7);
function makeToken(): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc({ alg: 'HS256', typ: 'at+jwt' })}.${enc({ sub: 'u1', jti: 'j1', iss: 'i', aud: 'a', iat: 1, exp: 2 })}`;
  return `${input}.${createHmac('sha256', KEY).update(input).digest('base64url')}`;
}
const verifies = (token: string) => {
  const [h, p, s] = token.split('.');
  return createHmac('sha256', KEY).update(`${h}.${p}`).digest('base64url') === s;
};

describe('jwt forgeries', () => {
  const token = makeToken();
  it('starts from a valid token', () => expect(verifies(token)).toBe(true));
  it('alg none has no signature', () => {
    expect(decodeJwt(forgeAlgNone(token)).header.alg).toBe('none');
    expect(forgeAlgNone(token).endsWith('.')).toBe(true);
  });
  it('HS512 keeps the claims', () => {
    const forged = decodeJwt(forgeHs512(token));
    expect(forged.header.alg).toBe('HS512');
    expect(forged.payload.sub).toBe('u1');
  });
  it('bad signature keeps header and payload bytes but never verifies', () => {
    const forged = forgeBadSignature(token);
    expect(forged.split('.').slice(0, 2)).toEqual(token.split('.').slice(0, 2));
    expect(verifies(forged)).toBe(false);
  });
  it('tampering removes or changes a claim and breaks the signature', () => {
    expect(decodeJwt(forgeTamperedClaim(token, 'exp', undefined)).payload).not.toHaveProperty('exp');
    expect(verifies(forgeTamperedClaim(token, 'sub', 'u2'))).toBe(false);
  });
  it('every forgery differs from the real token and none verifies', () => {
    for (const [name, forged] of Object.entries(forgeAll(token))) {
      expect(forged, name).not.toBe(token);
      expect(verifies(forged), name).toBe(false);
    }
  });
});
