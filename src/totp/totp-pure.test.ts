import { randomBytes } from 'node:crypto';
import { generate, ScureBase32Plugin } from 'otplib';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_CODE_COUNT, deriveBackupCodeKey, generateBackupCode, generateBackupCodes, hashBackupCode, isBackupCodeShape,
} from './backup-codes.ts';
import { buildOtpauthUri } from './otpauth-uri.ts';
import { renderQrDataUrl } from './qr-code.ts';
import { decryptSecret, encryptSecret } from './secret-box.ts';
import { timeStepAt, verifyTotpCode } from './totp-code.ts';
import { generateTotpSecret } from './totp-secret.ts';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 10);
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('TOTP secret and URI', () => {
  it('is 160 bits of base32 (32 chars) and differs each time', () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(new ScureBase32Plugin().decode(a)).toHaveLength(20);
    expect(generateTotpSecret()).not.toBe(a);
  });

  it('builds the otpauth URI with issuer, label and parameters', () => {
    const uri = new URL(buildOtpauthUri('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'jane+x@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Quazzar:jane+x@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', issuer: 'Quazzar', algorithm: 'SHA1', digits: '6', period: '30',
    });
  });

  it('renders a PNG data URL', async () => {
    const url = await renderQrDataUrl('otpauth://totp/Quazzar:a@b.c?secret=X');
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('verifyTotpCode', () => {
  const secret = generateTotpSecret();

  it('accepts the current step and one step either side, returning the matched step', async () => {
    const step = timeStepAt(NOW);
    expect(await verifyTotpCode(secret, await codeAt(secret, NOW), NOW, null)).toBe(step);
    expect(await verifyTotpCode(secret, await codeAt(secret, NOW - 30_000), NOW, null)).toBe(step - 1);
    expect(await verifyTotpCode(secret, await codeAt(secret, NOW + 30_000), NOW, null)).toBe(step + 1);
  });

  it('refuses codes two steps away', async () => {
    expect(await verifyTotpCode(secret, await codeAt(secret, NOW - 60_000), NOW, null)).toBeNull();
    expect(await verifyTotpCode(secret, await codeAt(secret, NOW + 60_000), NOW, null)).toBeNull();
  });

  it('refuses a step at or before the last accepted one (replay)', async () => {
    const code = await codeAt(secret, NOW);
    expect(await verifyTotpCode(secret, code, NOW, timeStepAt(NOW))).toBeNull();
    expect(await verifyTotpCode(secret, code, NOW, timeStepAt(NOW) - 1)).toBe(timeStepAt(NOW));
  });

  it('answers null, never throws, on malformed input', async () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 456', '１２３４５６']) {
      expect(await verifyTotpCode(secret, bad, NOW, null)).toBeNull();
    }
    expect(await verifyTotpCode('short', '123456', NOW, null)).toBeNull();
    expect(await verifyTotpCode('!!!not base32!!!', '123456', NOW, null)).toBeNull();
  });
});

describe('secret box (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const sealed = encryptSecret(key, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DP');
    expect(decryptSecret(key, sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(encryptSecret(key, 'same', 'user-1')).not.toBe(encryptSecret(key, 'same', 'user-1'));
  });

  it('refuses another key, another user, or a tampered value', () => {
    const sealed = encryptSecret(key, 'secret', 'user-1');
    expect(() => decryptSecret(randomBytes(32), sealed, 'user-1')).toThrow();
    expect(() => decryptSecret(key, sealed, 'user-2')).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() => decryptSecret(key, [parts[0], parts[1], parts[2], body.toString('base64url')].join('.'), 'user-1')).toThrow();
    expect(() => decryptSecret(key, 'garbage', 'user-1')).toThrow();
  });
});

describe('backup codes', () => {
  it('generates 5 distinct codes of 8 [a-z0-9]', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(BACKUP_CODE_COUNT);
    expect(new Set(codes).size).toBe(BACKUP_CODE_COUNT);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]{8}$/);
  });

  it('uses every character of the alphabet, roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const ch of generateBackupCode()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(36);
    // 32 000 chars / 36 ≈ 889 each; a gross bias (e.g. modulo without rejection) or a stuck
    // generator would leave some character far outside this wide band.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(700);
      expect(n).toBeLessThan(1100);
    }
  });

  it('hashes with a key derived from the data key', () => {
    const dataKey = randomBytes(32);
    const key = deriveBackupCodeKey(dataKey);
    expect(key.equals(dataKey)).toBe(false);
    expect(hashBackupCode(key, 'abcd1234')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashBackupCode(key, 'abcd1234')).toBe(hashBackupCode(key, 'abcd1234'));
    expect(hashBackupCode(key, 'abcd1234')).not.toBe(hashBackupCode(deriveBackupCodeKey(randomBytes(32)), 'abcd1234'));
    expect(isBackupCodeShape('abcd1234')).toBe(true);
    expect(isBackupCodeShape('ABCD1234')).toBe(false);
    expect(isBackupCodeShape('123456')).toBe(false);
  });
});
