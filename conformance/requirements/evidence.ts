import type { CheckResult } from '../framework/types.ts';
import { citedSecurity, type SecurityRequirement } from './security.ts';

// What each result shows an implementer besides its outcome (types.ts does not grow: module
// augmentation adds the fields as optional ones).

/** A cited requirement as the reports carry it. */
export type CitedSecurity = Pick<SecurityRequirement, 'id' | 'title' | 'text'>;

declare module '../framework/types.ts' {
  interface CheckResult {
    /** The SECURITY.md requirements the title cites (`SEC n`), with their text. */
    security?: CitedSecurity[];
  }
}

/** The cited requirements of a result: the ones it carries, else resolved from its title. */
export function securityOf(result: Pick<CheckResult, 'title' | 'security'>): CitedSecurity[] {
  return result.security ?? citedSecurity(result.title).map(({ id, title, text }) => ({ id, title, text }));
}
