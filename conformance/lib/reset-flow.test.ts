import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resetTokenBits } from './reset-flow.ts';

describe('reset token strength (SEC 18, not the reference server\'s exact length)', () => {
  it('accepts any URL-safe token of at least 256 bits', () => {
    expect(resetTokenBits(randomBytes(32).toString('base64url'))).toBeGreaterThanOrEqual(256); // 43 chars, the reference
    expect(resetTokenBits(randomBytes(48).toString('base64url'))).toBeGreaterThanOrEqual(256); // 64 chars
    expect(resetTokenBits(randomBytes(32).toString('hex'))).toBe(256); // 64 hex digits
  });
  it('refuses short or not URL-safe tokens', () => {
    expect(resetTokenBits(randomBytes(16).toString('base64url'))).toBeLessThan(256);
    expect(resetTokenBits(randomBytes(40).toString('hex'))).toBe(320);
    expect(resetTokenBits(randomBytes(24).toString('hex'))).toBeLessThan(256); // 48 hex digits = 192 bits
    expect(resetTokenBits('a+b/c='.repeat(20))).toBe(0);
  });
});
