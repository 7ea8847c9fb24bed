import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from './common-passwords.ts';
import { weakPasswordReason } from './password-policy.ts';

const email = 'jane.developer.long@example.com';

describe('weakPasswordReason', () => {
  it('accepts the seed page passwords and ordinary passphrases', () => {
    for (const pw of ['secure-password-123', 'new-secure-password-456', 'correct horse battery staple!', '  ünïcødé-пароль ']) {
      expect(weakPasswordReason(pw, email)).toBeNull();
    }
  });

  it('refuses listed passwords in any case', () => {
    expect(weakPasswordReason('PasswordPassword', email)).toMatch(/too common/);
    expect(weakPasswordReason('Correct Horse Battery Staple', email)).toMatch(/too common/);
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
