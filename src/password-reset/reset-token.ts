import { createHash, randomBytes } from 'node:crypto';

/** Reset tokens live one hour (DECISIONS.md §7). */
export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;

/** 256 bits from the CSPRNG, base64url: 43 characters, safe in a URL without escaping. */
export function generateResetToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only this hash is stored: a read of the table does not yield a usable token. */
export function hashResetToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The link the mail carries: always the configured public URL, never the request's Host. */
export function buildResetLink(publicUrl: string, token: string): string {
  // Relative to the base (no leading slash), so a path prefix such as /api is kept (issue #10).
  const url = new URL('reset-password', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}
