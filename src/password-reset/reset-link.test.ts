import { describe, expect, it } from 'vitest';
import { buildResetLink } from './reset-token.ts';

// Issue #10 defect 8: a PUBLIC_URL with a path prefix (behind a proxy at /api) kept its prefix.
describe('buildResetLink', () => {
  it('keeps the path prefix of PUBLIC_URL', () => {
    expect(buildResetLink('https://example.com/api', 'tok')).toBe('https://example.com/api/reset-password?token=tok');
    expect(buildResetLink('https://example.com/api/', 'tok')).toBe('https://example.com/api/reset-password?token=tok');
    expect(buildResetLink('https://example.com', 'tok')).toBe('https://example.com/reset-password?token=tok');
  });
});
