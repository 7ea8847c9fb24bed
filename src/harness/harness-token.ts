import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compares the presented bearer with HARNESS_TOKEN in constant time. Both sides are hashed
 * first so the comparison has a fixed length and leaks not even the token's length.
 */
export function isHarnessToken(configured: string, authorization: string | undefined): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  const presented = match?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(configured)) && presented !== '';
}
