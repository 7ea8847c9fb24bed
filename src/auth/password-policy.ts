import { COMMON_PASSWORDS } from './common-passwords.ts';

/**
 * Why a password is refused (422 weak_password), or null when it is acceptable.
 * Length 15..128 is the schema's job; this checks what a schema cannot (SECURITY.md 1):
 * common passwords, trivially repetitive or sequential ones, and the account's own e-mail.
 * The password is never trimmed or case-folded for storage; lower-casing here only widens
 * the blocklist match.
 */
export function weakPasswordReason(password: string, email: string): string | null {
  const lowered = password.toLowerCase();
  const mail = email.toLowerCase();
  if (lowered === mail || lowered === mail.split('@')[0]) return 'The password must not be your e-mail address.';
  if (COMMON_PASSWORDS.has(lowered)) return 'This password is too common; choose a less predictable one.';
  if (isRepetitive(lowered)) return 'This password repeats a short pattern; choose a less predictable one.';
  if (isSequential(lowered)) return 'This password is a simple sequence; choose a less predictable one.';
  return null;
}

/** "aaaaaaaaaaaaaaa", "abcabcabcabcabc", "12341234123412": one unit of ≤ 4 characters repeated. */
function isRepetitive(pw: string): boolean {
  const chars = [...pw];
  for (let unit = 1; unit <= 4; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** Every step the same +1 or -1 code point: "abcdefghijklmno", "987654321098765" (digits wrap). */
function isSequential(pw: string): boolean {
  const codes = [...pw].map((c) => c.codePointAt(0) ?? 0);
  const step = (a: number, b: number): number => {
    const isDigit = (x: number): boolean => x >= 48 && x <= 57;
    if (isDigit(a) && isDigit(b)) return (((b - a) % 10) + 10) % 10 === 1 ? 1 : (((a - b) % 10) + 10) % 10 === 1 ? -1 : 0;
    return b - a;
  };
  const first = step(codes[0] ?? 0, codes[1] ?? 0);
  if (first !== 1 && first !== -1) return false;
  for (let i = 1; i < codes.length; i++) if (step(codes[i - 1] ?? 0, codes[i] ?? 0) !== first) return false;
  return true;
}
