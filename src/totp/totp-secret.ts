import { randomBytes } from 'node:crypto';
import { ScureBase32Plugin } from 'otplib';

/** 160-bit secret (RFC 4226 §4 recommends ≥ 160 bits), base32 without padding: 32 chars. */
export const TOTP_SECRET_BYTES = 20;

const base32 = new ScureBase32Plugin();

export function generateTotpSecret(): string {
  return base32.encode(randomBytes(TOTP_SECRET_BYTES), { padding: false });
}
