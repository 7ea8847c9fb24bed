import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../checks/index.ts';
import { CONTRACT_REQUIREMENTS } from '../framework/validate-exchange.ts';
import { SECURITY_OUTPUT, SECURITY_SOURCE, parseSecurityMarkdown, renderCatalogue } from '../../scripts/security-requirements.ts';
import { citedNumbers, citedSecurity, securityCatalogue } from './security.ts';

// security.json ships with the suite; it must say what docs/SECURITY.md says, and every "SEC n"
// a check title cites must be in it.

describe('security requirements shipped with the suite', () => {
  it(`conformance/requirements/security.json equals npm run conformance:requirements' output from ${SECURITY_SOURCE}`, () => {
    const expected = renderCatalogue(parseSecurityMarkdown(readFileSync(SECURITY_SOURCE, 'utf8')));
    expect(readFileSync(SECURITY_OUTPUT, 'utf8'), 'stale: run npm run conformance:requirements').toBe(expected);
  });

  it('numbers the issue 17 defect classes 27–35 as other documents cite them', () => {
    const byNumber = new Map(parseSecurityMarkdown(readFileSync(SECURITY_SOURCE, 'utf8')).requirements.map((r) => [r.number, r.text]));
    const expected: Record<number, RegExp> = {
      27: /never forgotten under key pressure/u, 28: /\/64/u, 29: /Static answers are bounded/u,
      30: /One live reset token per account/u, 31: /Production needs real mail/u, 32: /Equal time for stale hashes/u,
      33: /One clock per shared budget/u, 34: /revoke .*API keys/u, 35: /breached-password corpus/u,
    };
    for (const [n, pattern] of Object.entries(expected)) expect(byNumber.get(Number(n)), `SEC ${n}`).toMatch(pattern);
  });

  it('knows every SEC n a check title cites, with its text', () => {
    const catalogue = securityCatalogue();
    const numbers = new Set(catalogue.requirements.map((r) => r.number));
    const titles = [...allChecks.map((c) => c.title), ...Object.values(CONTRACT_REQUIREMENTS)];
    const cited = titles.flatMap(citedNumbers);
    expect(cited.length).toBeGreaterThan(20);
    expect(cited.filter((n) => !numbers.has(n))).toEqual([]);
    for (const r of catalogue.requirements) expect(r.text.length, r.id).toBeGreaterThan(10);
  });

  it('parses the citation forms the titles use', () => {
    expect(citedNumbers('Changing … sessions are revoked (SEC 1, 3, 10)')).toEqual([1, 3, 10]);
    expect(citedNumbers('(SEC 8, RFC 9068)')).toEqual([8]);
    expect(citedNumbers('Password reset (SEC 17–19)')).toEqual([17, 18, 19]);
    expect(citedNumbers('no citation, SECURITY.md 4')).toEqual([]);
    const [sec12] = citedSecurity('401 challenges (SEC 12)');
    expect(sec12).toMatchObject({ id: 'SEC 12', section: 'Tokens, sessions, logout' });
    expect(sec12!.text).toMatch(/WWW-Authenticate/u);
    expect(citedSecurity('(SEC 99)')[0]!.text).toMatch(/not in this suite's security\.json/u);
  });

  it('parses SECURITY.md: numbered items with continuation lines, in order; a gap is an error', () => {
    const md = '# T\n\nIntro line.\n\n## Passwords\n1. First line\n   continued.\n2. Second; more.\n\n## Deliberate deviations\n- One\n  two.\n';
    expect(parseSecurityMarkdown(md)).toEqual({
      source: 'SECURITY.md',
      intro: 'Intro line.',
      requirements: [
        { id: 'SEC 1', number: 1, section: 'Passwords', title: 'Passwords: First line continued', text: 'First line continued.' },
        { id: 'SEC 2', number: 2, section: 'Passwords', title: 'Passwords: Second', text: 'Second; more.' },
      ],
      deviations: ['One two.'],
    });
    expect(() => parseSecurityMarkdown('## A\n1. x\n3. y\n')).toThrow(/item 3 follows item 1/u);
  });
});
