import { createHmac, randomBytes } from 'node:crypto';

export const BACKUP_CODE_COUNT = 5;
export const BACKUP_CODE_LENGTH = 8;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
// Largest multiple of 36 below 256: bytes at or above it are dropped (rejection sampling),
// so every character is exactly uniform instead of slightly favouring the first letters.
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
const BACKUP_CODE = /^[a-z0-9]{8}$/;

export function generateBackupCode(): string {
  let code = '';
  while (code.length < BACKUP_CODE_LENGTH) {
    for (const byte of randomBytes(BACKUP_CODE_LENGTH * 2)) {
      if (byte >= UNBIASED_LIMIT) continue;
      code += ALPHABET[byte % ALPHABET.length];
      if (code.length === BACKUP_CODE_LENGTH) break;
    }
  }
  return code;
}

/** Five distinct codes (a duplicate would let one code be spent twice). */
export function generateBackupCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < BACKUP_CODE_COUNT) codes.add(generateBackupCode());
  return [...codes];
}

export function isBackupCodeShape(code: string): boolean {
  return BACKUP_CODE.test(code);
}

/** A key for backup codes only, derived from the data key so one key never serves two purposes. */
export function deriveBackupCodeKey(dataKey: Buffer): Buffer {
  return createHmac('sha256', dataKey).update('quazzar/backup-codes/v1').digest();
}

/** HMAC-SHA256 rather than a plain hash: 36^8 codes are few enough to brute-force offline. */
export function hashBackupCode(key: Buffer, code: string): string {
  return createHmac('sha256', key).update(code, 'utf8').digest('hex');
}
