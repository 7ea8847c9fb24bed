import { createHmac } from 'node:crypto';

// An independent RFC 6238 implementation (HMAC-SHA1 straight from node:crypto, no otplib):
// the suite must not share code with the server it judges, or a shared bug would pass.

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 → bytes; padding and case ignored; throws on characters outside the alphabet. */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/=+$/u, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not a base32 character: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP with dynamic truncation. */
export function computeHotp(key: Buffer, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export function timeStepAt(epochMs: number, periodSeconds = TOTP_PERIOD_SECONDS): number {
  return Math.floor(epochMs / 1000 / periodSeconds);
}

/** The code for a given time step of a base32 secret. */
export function totpForStep(secretBase32: string, step: number): string {
  return computeHotp(decodeBase32(secretBase32), step);
}

/** The code at an instant (epoch ms). */
export function totpAt(secretBase32: string, epochMs: number): string {
  return totpForStep(secretBase32, timeStepAt(epochMs));
}

/**
 * A 6-digit code that matches none of the steps around `epochMs` (±`spread` steps), so a
 * "wrong code" check cannot pass by accident (1 in 10^6 × window).
 */
export function wrongTotpCode(secretBase32: string, epochMs: number, spread = 3): string {
  const step = timeStepAt(epochMs);
  const near = new Set<string>();
  for (let s = step - spread; s <= step + spread; s += 1) near.add(totpForStep(secretBase32, s));
  for (let candidate = 0; ; candidate += 1) {
    const code = String((123456 + candidate * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}
