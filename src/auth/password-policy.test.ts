import { describe, expect, it } from 'vitest';
import { BREACHED_PASSWORDS, COMMON_PASSWORDS } from './common-passwords.ts';
import { weakPasswordReason } from './password-policy.ts';

const email = 'jane.developer.long@example.com';

describe('weakPasswordReason', () => {
  it('accepts the seed page passwords and ordinary passphrases', () => {
    for (const pw of [
      'secure-password-123', 'new-secure-password-456', 'staple battery horse correct', '  ünïcødé-пароль ',
      'a-brand-new-long-passphrase', 'glove metal harbour quietly', 'michael-4471-2280-93', 'Tr0ub4dor&3-horse-lamp',
      'dragon under the stairs 42', 'purple monkey dishwasher',
    ]) {
      expect(weakPasswordReason(pw, email)).toBeNull();
    }
  });

  it('refuses listed passwords in any case', () => {
    expect(weakPasswordReason('PasswordPassword', email)).toMatch(/too common/);
    expect(weakPasswordReason('Correct Horse Battery Staple', email)).toMatch(/too common/);
    // The most famous passphrase of all, with a symbol added: a first guess (issue 17).
    expect(weakPasswordReason('correct horse battery staple!', email)).toMatch(/too common/);
  });

  it('refuses the issue\'s examples: leet, padding with digits and symbols, keyboard walks, repeats (issue 17 defect 10, SEC 35)', () => {
    for (const pw of ['P@ssw0rd1234567', 'Password123456!', 'asdfghjklasdfgh', '111111111111111a', 'qwertyuiop12345']) {
      expect(weakPasswordReason(pw, email), pw).not.toBeNull();
    }
  });

  it('a breached password is refused however it is decorated', () => {
    for (const pw of [
      'Dragon!!!!!!!!!!!', '123456789sunshine', 'M0nk3y123456789!', 'iloveyouiloveyou!', 'football-2024-!!!',
      'trustno1trustno1trustno1', 'letmein1234567890', '!@#$%^&*()password',
    ]) {
      expect(weakPasswordReason(pw, email), pw).not.toBeNull();
    }
  });

  it('keyboard walks on the qwerty layout, also vertical and mixed with sequences', () => {
    for (const pw of ['1qaz2wsx3edc4rfv', 'zxcvbnmasdfghjkl', 'qwertzuiopasdfgh', 'poiuytrewqlkjhgf', '!QAZ@WSX#EDC$RFV', 'asdfasdfasdfasdf1']) {
      expect(weakPasswordReason(pw, email), pw).not.toBeNull();
    }
  });

  it('the breached corpus is the package\'s (tens of thousands of entries, lower case)', () => {
    expect(BREACHED_PASSWORDS.size).toBeGreaterThan(40_000);
    expect(BREACHED_PASSWORDS.has('password')).toBe(true);
    for (const pw of ['a', 'ab', 'abc']) expect(BREACHED_PASSWORDS.has(pw)).toBe(false); // entries shorter than 4 are no base
  });

  it('refuses the e-mail address and its local part', () => {
    expect(weakPasswordReason(email.toUpperCase(), email)).toMatch(/e-mail/);
    expect(weakPasswordReason('jane.developer.long', email)).toMatch(/e-mail/);
  });

  it('refuses repeated short units and plain sequences', () => {
    for (const pw of ['zzzzzzzzzzzzzzzzz', 'abcabcabcabcabcabc', 'xy12xy12xy12xy12', 'ghijklmnopqrstuv', '3456789012345678', 'zyxwvutsrqponmlk']) {
      expect(weakPasswordReason(pw, email)).not.toBeNull();
    }
  });

  it('the bundled list holds only entries of 15+ characters, in lower case', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThan(100);
    for (const pw of COMMON_PASSWORDS) {
      expect(pw.length).toBeGreaterThanOrEqual(15);
      expect(pw).toBe(pw.toLowerCase());
    }
  });
});
