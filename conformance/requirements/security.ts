import { readFileSync } from 'node:fs';

// The project's security requirements (SECURITY.md) ship with the suite as security.json
// (written by `npm run conformance:requirements`, never by hand): a check title citing
// "(SEC 12)" or "(SEC 1, 3, 10)" is resolved here to the requirement's text, which every
// report shows next to the check.

export interface SecurityRequirement {
  /** `SEC 12`: how check titles cite it. */
  id: string;
  number: number;
  /** The SECURITY.md heading it is listed under (`Tokens, sessions, logout`). */
  section: string;
  /** Section and first clause of the text, for a table cell. */
  title: string;
  /** The whole requirement, as SECURITY.md states it. */
  text: string;
}

export interface SecurityCatalogue {
  source: string;
  /** SECURITY.md's opening paragraph: where the requirements come from. */
  intro: string;
  requirements: SecurityRequirement[];
  /** Deliberate deviations documented in the contract. */
  deviations: string[];
}

let cached: SecurityCatalogue | undefined;

export function securityCatalogue(): SecurityCatalogue {
  cached ??= JSON.parse(readFileSync(new URL('./security.json', import.meta.url), 'utf8')) as SecurityCatalogue;
  return cached;
}

/** The SEC numbers a text cites: `(SEC 8)`, `(SEC 1, 3, 10)`, `(SEC 17–19)`, `SEC 5, 21`. */
export function citedNumbers(text: string): number[] {
  const found: number[] = [];
  for (const match of text.matchAll(/\bSEC\s+(\d+(?:\s*(?:[-–]\s*\d+|,\s*\d+))*)/gu)) {
    for (const part of match[1]!.split(/\s*,\s*/u)) {
      const range = /^(\d+)\s*[-–]\s*(\d+)$/u.exec(part);
      if (range) for (let n = Number(range[1]); n <= Number(range[2]); n += 1) found.push(n);
      else found.push(Number(part));
    }
  }
  return [...new Set(found)];
}

/** The requirements a check title cites, in citation order; an unknown number is reported as
 * such (the sync test keeps titles and security.json in step, so it means a stale install). */
export function citedSecurity(title: string, catalogue: SecurityCatalogue = securityCatalogue()): SecurityRequirement[] {
  return citedNumbers(title).map(
    (n) =>
      catalogue.requirements.find((r) => r.number === n) ?? {
        id: `SEC ${n}`,
        number: n,
        section: '',
        title: `SEC ${n} is not in this suite's security.json`,
        text: `SEC ${n} is not in this suite's security.json (${catalogue.requirements.length} requirements): the check and the catalogue are out of step.`,
      },
  );
}
