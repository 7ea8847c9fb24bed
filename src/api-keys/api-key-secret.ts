import { randomBytes } from 'node:crypto';
import { API_KEY_PREFIX } from './authenticate.ts';

// Hashing lives beside authentication (one definition for storing and for checking).
export { hashApiKey } from './authenticate.ts';

/** `qzk_` + 8 characters: enough to tell keys apart in a list, far too little to guess the rest. */
export const API_KEY_DISPLAY_PREFIX_LENGTH = 12;

/** `qzk_` + base64url(32 random bytes): 256 bits of secret, recognisable by secret scanners. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_DISPLAY_PREFIX_LENGTH);
}
