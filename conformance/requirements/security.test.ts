import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../checks/index.ts';
import { CONTRACT_REQUIREMENTS } from '../framework/validate-exchange.ts';
import { SECURITY_OUTPUT, SECURITY_SOURCE, parseSecurityMarkdown, renderCatalogue } from '../../scripts/security-requirements.ts';
import { citedNumbers, citedSecurity, securityCatalogue } from './security.ts';

// security.json ships with the suite; it must say what SECURITY.md says, and every "SEC n" a
// check title cites must be in it.

const sourcePresent = existsSync(SECURITY_SOURCE);
if (!sourcePresent) {
  console.warn(`security.json sync NOT compared: ${SECURITY_SOURCE} is absent in this checkout (it lives next to the repository, ../shared/)`);
}

describe('security requirements shipped with the suite', () => {
  it.skipIf(!sourcePresent)(
    `conformance/requirements/security.json equals npm run conformance:requirements' output from ${SECURITY_SOURCE}${sourcePresent ? '' : ' — SKIPPED: that file is absent in this checkout, nothing to compare with'}`,
    () => {
      const expected = renderCatalogue(parseSecurityMarkdown(readFileSync(SECURITY_SOURCE, 'utf8')));
      expect(readFileSync(SECURITY_OUTPUT, 'utf8'), 'stale: run npm run conformance:requirements').toBe(expected);
    },
  );

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
