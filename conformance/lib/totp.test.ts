import { describe, expect, it } from 'vitest';
import { computeHotp, decodeBase32, totpAt, wrongTotpCode } from './totp.ts';

// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890"; the RFC lists 8 digits, we use the last 6.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('independent TOTP', () => {
  it('decodes base32 to the RFC seed', () => {
    expect(decodeBase32(RFC_SECRET).toString('ascii')).toBe('12345678901234567890');
  });
  it('matches the RFC 4226 HOTP vectors', () => {
    const key = Buffer.from('12345678901234567890');
    expect([0, 1, 2, 9].map((c) => computeHotp(key, c))).toEqual(['755224', '287082', '359152', '520489']);
  });
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('matches the RFC 6238 vector at T=%i', (seconds, code) => {
    expect(totpAt(RFC_SECRET, seconds * 1000)).toBe(code);
  });
  it('gives a wrong code that matches no nearby step', () => {
    const now = 1_700_000_000_000;
    const wrong = wrongTotpCode(RFC_SECRET, now);
    for (let d = -3; d <= 3; d += 1) expect(totpAt(RFC_SECRET, now + d * 30_000)).not.toBe(wrong);
  });
  it('refuses characters outside the alphabet', () => {
    expect(() => decodeBase32('ABC1')).toThrow(/base32/u);
  });
});
